"""The agent image (agent/Dockerfile), without a container engine: hadolint,
its shape (a runtime stage that runs nothing, as a numeric non-root user,
with pinned helm and kubectl), and its install steps (agent/image-install.sh)
run on a build context laid out by agent/.dockerignore, ending in a working
`conveyor-agent` in a virtual environment without the operator's packages."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

from tests.deploy import test_image, tools

AGENT = tools.ROOT / "agent"
DOCKERFILE = AGENT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
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
    *_, runtime = stages()
    words = [word for word, _ in runtime]

    assert "RUN" not in words
    [user] = [args for word, args in runtime if word == "USER"]
    uid, _, gid = user.partition(":")
    assert int(uid) == 65532  # the Job templates' runAsUser
    assert int(gid) == 65532
    [entrypoint] = [args for word, args in runtime if word == "ENTRYPOINT"]
    assert entrypoint == '["conveyor-agent"]'
    env = " ".join(args for word, args in runtime if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env  # the only writable place with a read-only root filesystem
    copies = [args for word, args in runtime if word == "COPY"]
    assert "--from=helm /out/helm /usr/local/bin/helm" in copies
    assert "--from=kubectl /bin/kubectl /usr/local/bin/kubectl" in copies


def test_helm_and_kubectl_are_pinned_to_the_projects_versions() -> None:
    text = DOCKERFILE.read_text()
    makefile = (tools.ROOT / "Makefile").read_text()
    [helm_version] = re.findall(r"^HELM_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert f"ARG HELM_VERSION={helm_version}\n" in text
    assert f"ARG KUBECTL_IMAGE=registry.k8s.io/kubectl:{tools.KUBE_VERSION}\n" in text


def build_context(into: pathlib.Path) -> pathlib.Path:
    context = into / "context"
    context.mkdir()
    allowed = [
        line[1:].rstrip("/")
        for line in (AGENT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in allowed:
        source = AGENT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=ignore)
        else:
            shutil.copy2(source, context / name)
    return context


def test_the_install_steps_give_a_working_agent_without_the_operator(
    tmp_path: pathlib.Path,
) -> None:
    context = build_context(tmp_path)
    venv = tmp_path / "venv"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_NO_CACHE", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)
    )
    result = subprocess.run(
        ["sh", str(context / "image-install.sh"), str(venv), str(context)],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    probe = (
        "import importlib.util as u, conveyor_agent.cli as c; "
        "print(c.__file__); "
        "print(' '.join(sorted(c.RUNTIMES))); "
        "print([m for m in ('conveyor', 'kopf', 'pydantic', 'jinja2') if u.find_spec(m)])"
    )
    where, runtimes, operator = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert where.startswith(str(venv))
    assert runtimes.split() == sorted(
        ["android-deploy", "build", "canary-analysis", "clone-env", "deploy", "promote", "ticket"]
    )
    assert operator == "[]"  # the agent needs none of the operator's packages
    # Every runtime module imports in that environment.
    for module in sorted({m.split(":")[0] for m in _runtimes(venv)}):
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", f"import {module}"],
            check=True,
            timeout=60,
            cwd=tmp_path,
        )


def _runtimes(venv: pathlib.Path) -> list[str]:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import conveyor_agent.cli as c; print(' '.join(c.RUNTIMES.values()))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return out.split()


def test_the_operator_image_leaves_the_agent_out() -> None:
    # Two images, two contexts: the operator's allow-list does not take agent/.
    assert "!agent/" not in (tools.ROOT / ".dockerignore").read_text()
    assert "conveyor-agent" not in test_image.DOCKERFILE.read_text()
