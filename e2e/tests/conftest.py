"""Fixtures for end-to-end tests: a cluster for the session, the CRDs, the
operator as a real process, and a fresh namespace per test."""

from __future__ import annotations

import collections.abc
import contextlib
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import kube

ROOT = clusters.ROOT


@pytest.fixture(scope="session")
def cluster() -> collections.abc.Iterator[clusters.Cluster]:
    c = clusters.start()
    try:
        yield c
    finally:
        clusters.stop(c)


@pytest.fixture(scope="session")
def crds(cluster: clusters.Cluster) -> None:
    cluster.kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "-f", str(ROOT / "crds")
    )


class OperatorProcess:
    """`conveyor operator` as users run it, in its own process."""

    def __init__(
        self,
        *,
        kubeconfig: pathlib.Path,
        namespaces: list[str],
        log: pathlib.Path,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.kubeconfig = kubeconfig
        self.namespaces = namespaces
        self.log = log
        self.extra_args = extra_args
        self.metrics_port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log_from = 0

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self) -> None:
        args = [sys.executable, "-m", "conveyor.cli.main", "operator"]
        args += ["--metrics-port", str(self.metrics_port), *self.extra_args]
        for ns in self.namespaces:
            args += ["--namespace", ns]
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "PYTHONUNBUFFERED": "1"}
        self._log_from = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until its metrics endpoint answers and this life has logged
        "primed" (its first lists are done), then a second more. Namespaces
        a test creates sooner can be missed with glob patterns: kopf's
        namespace observer ignores what its watcher's own list finds between
        its first list and its watch (see the session notes), until the
        namespace changes again. A leader-election standby never primes:
        for those, the endpoint alone."""
        standby = "--leader-elect" in self.extra_args
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the operator exited; log: {self.log}")
            if self._serving() and (standby or self._primed()):
                time.sleep(0 if standby else 1)
                return
            time.sleep(0.2)
        raise RuntimeError(f"the operator did not come up in {timeout}s; log: {self.log}")

    def _serving(self) -> bool:
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=2):
                return True
        except OSError:
            return False

    def _primed(self) -> bool:
        with self.log.open("rb") as f:
            f.seek(self._log_from)
            return b"primed:" in f.read()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def operator(
    cluster: clusters.Cluster, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> collections.abc.Iterator[OperatorProcess]:
    """One operator for the session, watching the `e2e-*` test namespaces."""
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    proc = OperatorProcess(kubeconfig=cluster.kubeconfig, namespaces=["e2e-*"], log=log)
    proc.start()
    proc.wait_ready()
    try:
        yield proc
    finally:
        proc.stop()
        if os.environ.get("CONVEYOR_E2E_SHOW_LOG"):
            print(log.read_text())


@contextlib.contextmanager
def fresh_namespace(
    cluster: clusters.Cluster, *, prefix: str = "e2e"
) -> collections.abc.Iterator[str]:
    """A new namespace `<prefix>-<random>` with its `default` ServiceAccount
    (Jobs' pods need it), deleted afterwards without waiting."""
    name = f"{prefix}-{secrets.token_hex(4)}"
    cluster.kubectl("create", "namespace", name)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if cluster.kubectl("get", "serviceaccount", "default", "-n", name, check=False):
            break
        time.sleep(0.1)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def namespace(cluster: clusters.Cluster) -> collections.abc.Iterator[str]:
    with fresh_namespace(cluster) as name:
        yield name


@pytest.fixture
async def client(cluster: clusters.Cluster) -> collections.abc.AsyncIterator[api.Client]:
    async with api.Client(login=kube.connection(str(cluster.kubeconfig))) as c:
        yield c


@pytest.fixture
async def k(client: api.Client, namespace: str) -> kube.Kube:
    return kube.Kube(client=client, namespace=namespace)
