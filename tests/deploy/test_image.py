"""The container image, without a container engine: hadolint on the
Dockerfile, its shape (non-root numeric user, exec-form entry point, a
runtime stage that runs nothing), and the very install steps it runs
(hack/image-install.sh) on a build context laid out by .dockerignore,
ending in a working `conveyor` in a clean virtual environment."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.deploy import tools

DOCKERFILE = tools.ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [tools.require(tools.HADOLINT), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_runtime_stage_runs_nothing_as_a_numeric_non_root_user() -> None:
    build, runtime = stages()
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


def build_context(into: pathlib.Path) -> pathlib.Path:
    """Copy what .dockerignore lets into the image's build context."""
    context = into / "context"
    context.mkdir()
    allowed = [
        line[1:].rstrip("/")
        for line in (tools.ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in allowed:
        source = tools.ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=ignore)
        elif source.exists():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, context / name)
    return context


def test_the_image_install_steps_give_a_working_conveyor(tmp_path: pathlib.Path) -> None:
    context = build_context(tmp_path)
    venv = tmp_path / "venv"
    # The image build's environment, less PIP_NO_CACHE_DIR: the pip cache
    # keeps this test fast; the commands are the image's.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_NO_CACHE", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)
    )
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    result = subprocess.run(
        ["sh", str(context / "hack" / "image-install.sh"), str(venv), str(context)],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

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
