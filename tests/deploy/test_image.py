"""The container image, without a container engine: hadolint on the
Dockerfile, its shape (non-root numeric user, exec-form entry point, a
runtime stage that runs nothing), and the very install steps it runs
(hack/image-install.sh) on a build context laid out by .dockerignore,
ending in a working `conveyor` in a clean virtual environment."""

from __future__ import annotations

import pathlib
import subprocess

import pytest

from tests.deploy import dockerfiles, tools

DOCKERFILE = tools.ROOT / "Dockerfile"


def test_hadolint_finds_nothing() -> None:
    dockerfiles.assert_hadolint_passes(DOCKERFILE)


def test_the_runtime_stage_runs_nothing_as_a_numeric_non_root_user() -> None:
    build, runtime = dockerfiles.stages(DOCKERFILE)
    words = [word for word, _ in runtime]

    assert "RUN" not in words  # nothing executes in the final image, not even at build time
    [user] = [args for word, args in runtime if word == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit()
    assert int(uid) != 0
    assert gid.isdigit()
    assert int(gid) != 0
    [entrypoint] = [args for word, args in runtime if word == "ENTRYPOINT"]
    assert entrypoint == '["conveyor", "operator"]'  # exec form: no shell
    [cmd] = [args for word, args in runtime if word == "CMD"]
    assert cmd == '["--liveness=http://0.0.0.0:8081/healthz", "--metrics-port=8080"]'
    env = " ".join(args for word, args in runtime if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert ("COPY", "--from=build /opt/conveyor /opt/conveyor") in runtime
    assert build[0][1].endswith(" AS build")
    assert ("RUN", '["sh", "hack/image-install.sh", "/opt/conveyor", "/src"]') in build


def test_the_image_install_steps_give_a_working_conveyor(tmp_path: pathlib.Path) -> None:
    context = dockerfiles.build_context(source=tools.ROOT, into=tmp_path)
    venv = tmp_path / "venv"
    dockerfiles.run_install(
        script=context / "hack" / "image-install.sh", venv=venv, context=context
    )

    conveyor = venv / "bin" / "conveyor"
    help_text = subprocess.run(
        [str(conveyor), "operator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
    ).stdout
    for flag in ("--namespace", "--liveness", "--metrics-port", "--log-format"):
        assert flag in help_text
    # Installed from the checkout, not in place: the package data came along.
    probe = (
        "import importlib.resources as r, conveyor; "
        "print(conveyor.__file__); "
        "print(' '.join(sorted(p.name for p in r.files('conveyor.core').joinpath('templates')"
        ".iterdir())))"
    )
    where, templates = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert where.startswith(str(venv))
    expected = sorted(p.name for p in (tools.ROOT / "operator/conveyor/core/templates").iterdir())
    assert templates.split() == [n for n in expected if n.endswith(".j2")]


@pytest.mark.parametrize("name", ["pyproject.toml", "operator", "hack/image-install.sh"])
def test_the_build_context_has_what_the_install_needs(name: str) -> None:
    allowed = (tools.ROOT / ".dockerignore").read_text().splitlines()

    assert f"!{name}" in allowed or f"!{name}/" in allowed
