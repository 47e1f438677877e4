"""The agent image (agent/Dockerfile), without a container engine: hadolint,
its shape (a runtime stage that runs nothing, as a numeric non-root user,
with pinned helm, kubectl and git), and its install steps
(agent/image-install.sh) run on a build context laid out by
agent/.dockerignore, ending in a working `conveyor-agent` in a virtual
environment without the operator's packages. The helpers are the operator
image's (tests/deploy/dockerfiles.py)."""

from __future__ import annotations

import pathlib
import re
import subprocess

from tests.deploy import dockerfiles, test_image, tools

AGENT = tools.ROOT / "agent"
DOCKERFILE = AGENT / "Dockerfile"


def stage(name: str) -> list[dockerfiles.Instruction]:
    [found] = [s for s in dockerfiles.stages(DOCKERFILE) if s[0][1].endswith(f" AS {name}")]
    return found


def test_hadolint_finds_nothing() -> None:
    dockerfiles.assert_hadolint_passes(DOCKERFILE)


def test_the_runtime_stage_runs_nothing_as_a_numeric_non_root_user() -> None:
    *_, runtime = dockerfiles.stages(DOCKERFILE)
    words = [word for word, _ in runtime]

    assert runtime[0] == ("FROM", "base")
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


def test_the_base_adds_only_a_pinned_git_to_python() -> None:
    # android-build's checkout runs git in the agent image.
    base = stage("base")
    assert base[0] == ("FROM", "${PYTHON_IMAGE} AS base")
    [run] = [args for word, args in base if word == "RUN"]
    assert 'apt-get install --yes --no-install-recommends "git=${GIT_VERSION}"' in run
    assert run.endswith("rm -rf /var/lib/apt/lists/*")
    [version] = [args for word, args in base if word == "ARG"]
    assert re.fullmatch(r"GIT_VERSION=1:2\.\d+\.\d+-\S+", version)


def test_helm_and_kubectl_are_pinned_to_the_projects_versions() -> None:
    text = DOCKERFILE.read_text()
    makefile = (tools.ROOT / "Makefile").read_text()
    [helm_version] = re.findall(r"^HELM_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert f"ARG HELM_VERSION={helm_version}\n" in text
    assert f"ARG KUBECTL_IMAGE=registry.k8s.io/kubectl:{tools.KUBE_VERSION}\n" in text


def test_the_install_steps_give_a_working_agent_without_the_operator(
    tmp_path: pathlib.Path,
) -> None:
    context = dockerfiles.build_context(source=AGENT, into=tmp_path)
    venv = tmp_path / "venv"
    dockerfiles.run_install(script=context / "image-install.sh", venv=venv, context=context)

    probe = (
        "import importlib.util as u, conveyor_agent.cli as c; "
        "print(c.__file__); "
        "print(' '.join(sorted(c.RUNTIMES))); "
        "print(' '.join(sorted({*c.RUNTIMES.values()} | "
        "{t for s in c.STEPS.values() for t in s.values()}))); "
        "print([m for m in ('conveyor', 'kopf', 'pydantic', 'jinja2') if u.find_spec(m)])"
    )
    where, runtimes, targets, operator = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert where.startswith(str(venv))
    assert runtimes.split() == sorted(
        [
            "android-build",
            "android-deploy",
            "build",
            "canary-analysis",
            "clone-env",
            "deploy",
            "promote",
            "ticket",
        ]
    )
    assert operator == "[]"  # the agent needs none of the operator's packages
    # Every runtime and step module imports in that environment, and so does
    # the git credential helper that git runs as `python -m`.
    modules = {t.split(":")[0] for t in targets.split()} | {"conveyor_agent.git_credential"}
    for module in sorted(modules):
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", f"import {module}"],
            check=True,
            timeout=60,
            cwd=tmp_path,
        )


def test_the_operator_image_leaves_the_agent_out() -> None:
    # Two images, two contexts: the operator's allow-list does not take agent/.
    assert "!agent/" not in (tools.ROOT / ".dockerignore").read_text()
    assert "conveyor-agent" not in test_image.DOCKERFILE.read_text()
