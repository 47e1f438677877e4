"""Test clusters: the local control plane (default) or an existing cluster.

CONVEYOR_TEST_CLUSTER=existing uses the cluster in KUBECONFIG (kind, k3d, a
real cluster); otherwise the local control plane is started in a temporary
directory for the session and stopped afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLUSTER_BIN = ROOT / "e2e" / "bin" / "conveyor-cluster"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cluster:
    kubeconfig: pathlib.Path
    local: bool
    state_dir: pathlib.Path | None = None

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> str:
        """Run kubectl (the bundled one when present) against this cluster."""
        if CLUSTER_BIN.exists():
            command = [str(CLUSTER_BIN), "kubectl"]
        else:
            found = shutil.which("kubectl")
            if found is None:
                raise RuntimeError("no kubectl: build the control plane (make cluster-bin)")
            command = [found]
        result = subprocess.run(
            [*command, "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    # --- fault injection (the local control plane only) -----------------------
    # kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kwok; see
    # docs/local-cluster.md. Each returns the supervisor's reply.

    def restart(self, component: str) -> str:
        """Stop `component` and start it again; returns once it is ready."""
        return self._control("restart", component)

    def stop_component(self, component: str) -> str:
        """Stop it (and keep it stopped: not restarted until start_component)."""
        return self._control("stop", component)

    def start_component(self, component: str) -> str:
        """Start a stopped component; returns once it is ready."""
        return self._control("start", component)

    def pause(self, component: str, *, seconds: float) -> str:
        """SIGSTOP it for `seconds` (returns at once; it resumes by itself)."""
        return self._control("pause", component, "--for", f"{int(seconds * 1000)}ms")

    def resume(self, component: str) -> str:
        return self._control("resume", component)

    def _control(self, verb: str, component: str, *extra: str) -> str:
        if not self.local or self.state_dir is None:
            raise RuntimeError(f"{verb} {component}: only on the local control plane")
        result = subprocess.run(
            [str(CLUSTER_BIN), verb, component, "--dir", str(self.state_dir), *extra],
            capture_output=True,
            text=True,
            timeout=200,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{verb} {component} failed: {result.stderr.strip()}")
        return result.stdout


def start() -> Cluster:
    if os.environ.get("CONVEYOR_TEST_CLUSTER") == "existing":
        kubeconfig = os.environ.get("KUBECONFIG")
        if not kubeconfig:
            raise RuntimeError("CONVEYOR_TEST_CLUSTER=existing needs KUBECONFIG")
        return Cluster(kubeconfig=pathlib.Path(kubeconfig.split(os.pathsep)[0]), local=False)
    if not CLUSTER_BIN.exists():
        raise RuntimeError(f"{CLUSTER_BIN} is missing: run `make cluster-bin` (make test does)")
    state_dir = pathlib.Path(tempfile.mkdtemp(prefix="conveyor-e2e-"))
    result = subprocess.run(
        [str(CLUSTER_BIN), "up", "--dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"local control plane did not start:\n{result.stdout}\n{result.stderr}")
    return Cluster(kubeconfig=state_dir / "kubeconfig", local=True, state_dir=state_dir)


def stop(cluster: Cluster) -> None:
    if not cluster.local or cluster.state_dir is None:
        return
    subprocess.run(
        [str(CLUSTER_BIN), "down", "--dir", str(cluster.state_dir)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    shutil.rmtree(cluster.state_dir, ignore_errors=True)
