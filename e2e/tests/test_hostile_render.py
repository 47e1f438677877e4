"""End to end: a Worker template that would spin a CPU for minutes renders in
the operator's renderer process, over its deadline: it stalls no other
namespace, the operator's /healthz keeps answering, and the Worker goes
OFFLINE (InvalidTemplate) with its queue kept, until it is fixed."""

from __future__ import annotations

import asyncio
import pathlib
import secrets
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from tests import builders

pytestmark = [pytest.mark.e2e]

# Each range is under the sandbox's bound; their product is not.
BOMB = "{% for i in range(100000) %}{% for j in range(1500) %}{% endfor %}{% endfor %}"


class HealthPoller:
    """Asks /healthz every 0.2 s in a thread; keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.slowest = 0.0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=5) as answer:
                    answer.read()
            except OSError:
                self.failures += 1
            self.slowest = max(self.slowest, time.monotonic() - started)


@pytest.fixture
def namespaces(cluster: clusters.Cluster) -> Iterator[tuple[str, str]]:
    names = (f"hostile-{secrets.token_hex(4)}", f"hostile-{secrets.token_hex(4)}")
    for name in names:
        cluster.kubectl("create", "namespace", name)
    try:
        yield names
    finally:
        for name in names:
            cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


async def _latency(k: kube.Kube, name: str) -> float:
    started = time.monotonic()
    await k.create(builders.pipelinejob(name).obj())
    await k.wait_state(name, "SUCCESS", timeout=120)
    return time.monotonic() - started


@pytest.mark.usefixtures("crds")
async def test_a_cpu_bomb_template_stalls_no_other_namespace(
    cluster: clusters.Cluster,
    client: api.Client,
    namespaces: tuple[str, str],
    tmp_path: pathlib.Path,
) -> None:
    bomb_ns, other_ns = namespaces
    port = conftest._free_port()
    healthz = f"http://127.0.0.1:{port}/healthz"
    own = conftest.OperatorProcess(
        kubeconfig=cluster.kubeconfig,
        namespaces=list(namespaces),
        log=tmp_path / "operator.log",
        extra_args=("--liveness", healthz),
    )
    own.start()
    try:
        own.wait_ready()
        bomb = kube.Kube(client=client, namespace=bomb_ns)
        other = kube.Kube(client=client, namespace=other_ns)
        await other.create(builders.worker("build").concurrency(4).obj())
        baseline = await _latency(other, "before")

        with HealthPoller(healthz) as health:
            await bomb.create(builders.worker("build").job_template(BOMB).obj())
            await bomb.create(builders.pipelinejob("bomb").obj())
            await bomb.create(builders.pipelinejob("bomb-2").obj())
            await asyncio.sleep(0.5)  # the bomb is rendering now
            during = await _latency(other, "during")

            async def offline() -> dict[str, object] | None:
                st = (await bomb.get(api.WORKERS, "build")).get("status") or {}
                return st if st.get("reason") == "InvalidTemplate" else None

            worker = await bomb.wait_for("the bomb Worker OFFLINE", offline, timeout=60)
        print(f"\nlatency in another namespace: before {baseline:.2f}s, during {during:.2f}s")
        print(f"slowest /healthz answer: {health.slowest:.2f}s, failures {health.failures}")

        assert during < baseline + 5.0, (baseline, during)
        assert health.failures == 0
        assert health.slowest < 2.0
        assert worker["state"] == "OFFLINE"
        assert "Worker.spec.jobTemplate: rendering the Job took longer than 2s" in str(
            worker["message"]
        )
        # Its queue is kept, and says why, instead of failing job after job.
        for name in ("bomb", "bomb-2"):
            status = (await bomb.wait_state(name, "IN-QUEUE", reason="WorkerOffline"))["status"]
            assert "template is invalid: Worker.spec.jobTemplate" in status["message"]

        # Fixing the Worker resumes them.
        await bomb.patch(api.WORKERS, "build", {"spec": {"jobTemplate": None}})
        await bomb.wait_state("bomb", "SUCCESS", timeout=120)
        await bomb.wait_state("bomb-2", "SUCCESS", timeout=120)
        assert own.alive()
        log = own.log.read_text()
        assert "Traceback" not in log
    finally:
        own.stop()
