"""What the image tests of the operator (tests/deploy/test_image.py) and of the
agent (tests/agent/test_image.py) share, without a container engine: the
Dockerfile read as instructions and stages, hadolint on it, the build
context laid out from its .dockerignore allow-list, and its install script
run there in a clean environment."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

from tests.deploy import tools

Instruction = tuple[str, str]  # (INSTRUCTION, its arguments)


def instructions(dockerfile: pathlib.Path) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    out: list[Instruction] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
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


def stages(dockerfile: pathlib.Path) -> list[list[Instruction]]:
    """The instructions per stage, each starting with its FROM."""
    result: list[list[Instruction]] = []
    for instruction in instructions(dockerfile):
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def assert_hadolint_passes(dockerfile: pathlib.Path) -> None:
    result = subprocess.run(
        [tools.require(tools.HADOLINT), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def build_context(*, source: pathlib.Path, into: pathlib.Path) -> pathlib.Path:
    """Copy what `source`/.dockerignore lets into the image's build context."""
    context = into / "context"
    context.mkdir()
    allowed = [
        line[1:].rstrip("/")
        for line in (source / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in allowed:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, context / name, ignore=ignore)
        elif path.exists():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, context / name)
    return context


def run_install(
    *, script: pathlib.Path, venv: pathlib.Path, context: pathlib.Path
) -> subprocess.CompletedProcess[str]:
    """`sh script venv context` in the context, as the image build's RUN does.

    The build's environment less PIP_NO_CACHE_DIR (the warm pip cache keeps
    the tests fast; the commands are the image's) and less this test run's
    virtual environment, so nothing leaks in from it.
    """
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
        ["sh", str(script), str(venv), str(context)],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result
