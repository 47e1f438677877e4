"""End to end: the chart's dashboard option installs under the restricted
Pod Security Standard, and its ServiceAccount is enough for the dashboard
(every watch goes live) and can write nothing.

kwok plays the dashboard's pod; the dashboard under test runs out of the
cluster, authenticated as the release's dashboard ServiceAccount only.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.request

import pytest
from tests.deploy import tools

from e2e.tests import cluster as clusters
from e2e.tests import test_install as install

pytestmark = pytest.mark.e2e

SA = f"{install.RELEASE}-dashboard"


def can_i(cluster: clusters.Cluster, namespace: str, verb: str, resource: str) -> bool:
    subject = f"system:serviceaccount:{namespace}:{SA}"
    out = cluster.kubectl("auth", "can-i", verb, resource, "-A", f"--as={subject}", check=False)
    return out.strip() == "yes"


def test_the_dashboard_installs_restricted_and_reads_only(
    cluster: clusters.Cluster, crds: None, tmp_path: pathlib.Path
) -> None:
    tools.require(tools.HELM)
    rel = install.new_namespace(cluster, "dash", restricted=True)
    values = ("--set", "dashboard.enabled=true", "--set", "replicaCount=0")
    with install.namespaces(cluster, rel), install.release(cluster, rel, *values):
        if cluster.local:  # kwok plays the pod; a real cluster would pull the image
            cluster.kubectl("-n", rel, "rollout", "status", f"deployment/{SA}", "--timeout=120s")
        pods = json.loads(
            cluster.kubectl(
                "get",
                "pods",
                "-n",
                rel,
                "-l",
                "app.kubernetes.io/component=dashboard",
                "-o",
                "json",
            )
        )["items"]
        assert len(pods) == 1, "the restricted namespace refused the dashboard's pod"
        for verb, resource in [
            ("list", "pipelinejobs.conveyor.dev"),
            ("watch", "pods"),
            ("get", "pods/log"),
            ("list", "pipelineruns.conveyor.dev"),
        ]:
            assert can_i(cluster, rel, verb, resource), (verb, resource)
        for verb, resource in [
            ("create", "pipelinejobs.conveyor.dev"),
            ("patch", "workers.conveyor.dev"),
            ("delete", "pods"),
            ("get", "secrets"),
            ("create", "pods/exec"),
        ]:
            assert not can_i(cluster, rel, verb, resource), (verb, resource)
        kubeconfig = install.service_account_kubeconfig(
            cluster, namespace=rel, name=SA, path=tmp_path / "kubeconfig"
        )
        assert_dashboard_goes_live(kubeconfig, log=tmp_path / "dashboard.log")


def assert_dashboard_goes_live(kubeconfig: pathlib.Path, *, log: pathlib.Path) -> None:
    port = install.conftest._free_port()
    args = [sys.executable, "-m", "conveyor.cli.main", "dashboard", "-A", "--port", str(port)]
    args += ["--kubeconfig", str(kubeconfig)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
    health: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.loads(r.read())
            except OSError:
                health = {}
            if health and all(v == "live" for v in health.values()):
                return
            assert process.poll() is None, log.read_text()
            time.sleep(0.3)
        raise AssertionError(f"not every watch went live: {health}\n{log.read_text()}")
    finally:
        process.terminate()
        process.wait(timeout=20)
