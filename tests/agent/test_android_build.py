"""android-build: the checkout step, then the Gradle wrapper as the template
runs it (`./gradlew --no-daemon <task>` in the checkout), then the artifact
collected, checksummed and kept, on a real repository made with `git init`."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
from typing import Any

import pytest

from conveyor_agent import android_build, cli, errors
from tests.agent import gitrepos


@pytest.fixture
def origin(tmp_path: pathlib.Path) -> pathlib.Path:
    return gitrepos.android_project(tmp_path / "origin")


@pytest.fixture
def pod(tmp_path: pathlib.Path) -> dict[str, str]:
    """The env every container of the pod has, with its volumes as directories."""
    (tmp_path / "workspace").mkdir()
    (tmp_path / "artifacts").mkdir()
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(tmp_path),
        "CONVEYOR_WORKSPACE": str(tmp_path / "workspace"),
        "CONVEYOR_ARTIFACTS": str(tmp_path / "artifacts"),
        "PIPELINEJOB": "app-build-7",
    }


def step(args: list[str], params: dict[str, Any], env: dict[str, str], out: pathlib.Path) -> int:
    return cli.main([*args, "--output", str(out)], environ={**env, "PARAMS": json.dumps(params)})


def gradle(workspace: pathlib.Path, task: str) -> None:
    # The gradle init container's command, in its workingDir.
    subprocess.run(
        ["./gradlew", "--no-daemon", task], cwd=workspace / "src", check=True, timeout=60
    )


@pytest.mark.parametrize(
    ("output", "task", "built"),
    [
        ("apk", "assembleRelease", "app/build/outputs/apk/release/app-release.apk"),
        ("aab", "bundleRelease", "app/build/outputs/bundle/release/app-release.aab"),
    ],
)
def test_the_three_steps_give_artifact_sha256_and_commit(
    origin: pathlib.Path,
    pod: dict[str, str],
    tmp_path: pathlib.Path,
    output: str,
    task: str,
    built: str,
) -> None:
    workspace = pathlib.Path(pod["CONVEYOR_WORKSPACE"])
    checkout = {"repository": origin.as_uri(), "revision": "main"}
    assert step(["android-build", "--step", "checkout"], checkout, pod, tmp_path / "c.json") == 0
    gradle(workspace, task)
    collect = {"module": "app", "output": output, "gradleTask": task}
    assert step(["android-build"], collect, pod, tmp_path / "out.json") == 0

    outputs = json.loads((tmp_path / "out.json").read_text())
    name = pathlib.PurePath(built).name
    kept = pathlib.Path(pod["CONVEYOR_ARTIFACTS"]) / "app-build-7" / name
    assert outputs == {
        "artifact": f"app-build-7/{name}",  # what android-deploy's `artifact` takes
        "sha256": hashlib.sha256((workspace / "src" / built).read_bytes()).hexdigest(),
        "commit": gitrepos.git("rev-parse", "main", cwd=origin),
    }
    assert kept.read_text() == f"built by {task} from 2\n"
    assert json.loads((tmp_path / "c.json").read_text()) == {"commit": outputs["commit"]}


@pytest.mark.parametrize(
    ("revision", "version"),
    [("main", "2"), ("feature", "3"), ("v1", "1"), ("refs/heads/feature", "3"), ("HEAD~1", None)],
)
def test_the_revision_is_a_branch_tag_ref_or_commit(
    origin: pathlib.Path, pod: dict[str, str], revision: str, version: str | None
) -> None:
    if version is None:  # a commit, by its hash
        revision, version = gitrepos.git("rev-parse", "main~1", cwd=origin), "1"
    record = android_build.checkout(
        {"repository": origin.as_uri(), "revision": revision}, environ=pod
    )

    source = pathlib.Path(pod["CONVEYOR_WORKSPACE"]) / "src"
    assert (source / "VERSION").read_text() == f"{version}\n"
    assert record["commit"] == gitrepos.git("rev-parse", "HEAD", cwd=source)
    assert gitrepos.git("rev-list", "--count", "HEAD", cwd=source) == "1"  # shallow: depth 1


def test_the_gradle_wrapper_is_made_executable(origin: pathlib.Path, pod: dict[str, str]) -> None:
    assert gitrepos.git("ls-files", "-s", "gradlew", cwd=origin).startswith("100644")

    android_build.checkout({"repository": origin.as_uri()}, environ=pod)

    wrapper = pathlib.Path(pod["CONVEYOR_WORKSPACE"]) / "src" / "gradlew"
    assert os.access(wrapper, os.X_OK)


def test_an_unknown_revision_exits_2_saying_so(
    origin: pathlib.Path,
    pod: dict[str, str],
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    params = {"repository": origin.as_uri(), "revision": "no-such-branch"}
    code = step(["android-build", "--step", "checkout"], params, pod, tmp_path / "c.json")

    assert code == errors.EXIT_ERROR
    assert "no-such-branch" in capsys.readouterr().err


# -- collecting the artifact ------------------------------------------------------------


def built(pod: dict[str, str], files: dict[str, bytes], commit: str = "c0ffee") -> pathlib.Path:
    """A workspace as the gradle step leaves it: these files in the checkout."""
    workspace = pathlib.Path(pod["CONVEYOR_WORKSPACE"])
    for path, content in files.items():
        (workspace / "src" / path).parent.mkdir(parents=True, exist_ok=True)
        (workspace / "src" / path).write_bytes(content)
    (workspace / "checkout.json").write_text(json.dumps({"commit": commit}))
    return workspace


@pytest.mark.parametrize(
    ("module", "path"),
    [
        ("app", "app/build/outputs"),
        (":app", "app/build/outputs"),
        (":feature:app", "feature/app/build/outputs"),
        ("libs:core", "libs/core/build/outputs"),
    ],
)
def test_a_gradle_module_has_its_outputs_under_its_directory(module: str, path: str) -> None:
    assert android_build.outputs_dir(module) == path


@pytest.mark.parametrize("module", ["", ":", "a::b", "..", ":..:etc", "app/../..", "/etc"])
def test_a_module_outside_the_checkout_is_refused(module: str) -> None:
    with pytest.raises(errors.JobError, match=r"params\.module"):
        android_build.outputs_dir(module)


@pytest.mark.parametrize(
    ("output", "artifact"),
    [
        ("apk", "app/build/outputs/apk/free/release/app-free-release.apk"),
        ("aab", "app/build/outputs/bundle/release/app-release.aab"),
    ],
)
def test_the_output_type_picks_the_file_and_the_first_by_path_wins(
    pod: dict[str, str], output: str, artifact: str
) -> None:
    del pod["CONVEYOR_ARTIFACTS"]  # no volume: the path in the checkout is the output
    built(
        pod,
        {
            "app/build/outputs/apk/paid/release/app-paid-release.apk": b"paid",
            "app/build/outputs/apk/free/release/app-free-release.apk": b"free",
            "app/build/outputs/bundle/release/app-release.aab": b"bundle",
            "app/build/outputs/mapping/release/mapping.txt": b"not an artifact",
            "lib/build/outputs/apk/release/aaa.apk": b"another module's",
        },
    )
    outputs = android_build.main({"output": output}, environ=pod)

    assert outputs["artifact"] == artifact
    source = pathlib.Path(pod["CONVEYOR_WORKSPACE"]) / "src"
    assert outputs["sha256"] == hashlib.sha256((source / artifact).read_bytes()).hexdigest()
    assert outputs["commit"] == "c0ffee"


def test_no_artifacts_volume_is_said_on_stderr(
    pod: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    pod["CONVEYOR_ARTIFACTS"] += "-not-mounted"
    built(pod, {"app/build/outputs/apk/release/app-release.apk": b"apk"})

    outputs = android_build.main({}, environ=pod)

    assert outputs["artifact"] == "app/build/outputs/apk/release/app-release.apk"
    assert "is gone with this pod" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("params", "files", "message"),
    [
        (
            {"output": "apk", "gradleTask": "bundleRelease"},
            {"app/build/outputs/bundle/release/app-release.aab": b"aab"},
            "no .apk file under app/build/outputs after bundleRelease",
        ),
        ({"module": ":wear"}, {}, "no .apk file under wear/build/outputs after the Gradle build"),
        ({"output": "zip"}, {}, "params.output: 'zip' is not apk or aab"),
    ],
)
def test_a_missing_artifact_exits_2_saying_where_it_looked(
    pod: dict[str, str],
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    params: dict[str, Any],
    files: dict[str, bytes],
    message: str,
) -> None:
    built(pod, files)

    code = step(["android-build"], params, pod, tmp_path / "out.json")

    assert code == errors.EXIT_ERROR
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"PIPELINEJOB": ""}, "env PIPELINEJOB"),
        ({"PIPELINEJOB": "../escape"}, "env PIPELINEJOB"),
        ({"CONVEYOR_WORKSPACE": "/nonexistent"}, r"no \.apk file"),
    ],
)
def test_what_the_pod_must_provide(
    pod: dict[str, str], change: dict[str, str], message: str
) -> None:
    built(pod, {"app/build/outputs/apk/release/app-release.apk": b"apk"})

    with pytest.raises(errors.JobError, match=message):
        android_build.main({}, environ={**pod, **change})


def test_without_the_checkout_record_there_is_no_commit(pod: dict[str, str]) -> None:
    workspace = built(pod, {"app/build/outputs/apk/release/app-release.apk": b"apk"})
    (workspace / "checkout.json").unlink()

    with pytest.raises(errors.JobError, match="no checkout record"):
        android_build.main({}, environ=pod)
