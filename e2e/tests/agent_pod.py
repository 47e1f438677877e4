"""Run a rendered Job's main container (or an init container running the
agent) the way its pod would, as a local process: the container's command
(conveyor-agent from this checkout's virtual environment), its env (PARAMS
and the rest, secretKeyRefs given as literal test values), and the
termination message read back from a file and parsed as the operator parses
it into status.outputs."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from conveyor.core import observe
from e2e.tests import cluster as clusters

AGENT = pathlib.Path(sys.executable).parent / "conveyor-agent"


@dataclasses.dataclass(frozen=True)
class Run:
    code: int
    outputs: dict[str, Any]
    stdout: str
    stderr: str


def kubectl_wrapper(directory: pathlib.Path) -> pathlib.Path:
    """A `kubectl` for the agent: the control plane's bundled one when present."""
    wrapper = directory / "kubectl"
    if clusters.CLUSTER_BIN.exists():
        wrapper.write_text(f'#!/bin/sh\nexec "{clusters.CLUSTER_BIN}" kubectl "$@"\n')
        wrapper.chmod(0o755)
        return wrapper
    found = shutil.which("kubectl")
    assert found, "no kubectl"
    return pathlib.Path(found)


def run_main_container(
    manifest: Mapping[str, Any],
    *,
    cluster: clusters.Cluster,
    tmp_path: pathlib.Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
    container: str = "main",
) -> Run:
    """Run `container` (main, or an init container running the agent)."""
    pod = manifest["spec"]["template"]["spec"]
    containers = [*pod.get("initContainers", []), *pod["containers"]]
    (main,) = [c for c in containers if c["name"] == container]
    command = [*main["command"], *main.get("args", [])]
    assert command[0] == "conveyor-agent", command
    output = tmp_path / "termination-log"
    output.unlink(missing_ok=True)
    container_env = {e["name"]: e["value"] for e in main.get("env", []) if "value" in e}
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "KUBECONFIG": str(cluster.kubeconfig),
        "CONVEYOR_KUBECTL": str(kubectl_wrapper(tmp_path)),
        "CONVEYOR_HELM": str(clusters.ROOT / "e2e" / "bin" / "helm"),
        **container_env,
        **(env or {}),
    }
    done = subprocess.run(
        [str(AGENT), *command[1:], "--output", str(output)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    message = output.read_text() if output.exists() else None
    outputs, problem = observe.outputs(termination_message=message)
    assert problem is None, problem
    return Run(code=done.returncode, outputs=outputs, stdout=done.stdout, stderr=done.stderr)
