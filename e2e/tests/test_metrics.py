"""End to end: Prometheus metrics scraped over HTTP while jobs run."""

from __future__ import annotations

import asyncio

import pytest

from e2e.tests import conftest, kube
from tests import builders

pytestmark = pytest.mark.e2e


async def test_queue_depth_goes_up_and_down_and_histograms_fill(
    k: kube.Kube, operator: conftest.OperatorProcess
) -> None:
    url, ns = operator.metrics_url, k.namespace
    await k.create(builders.worker("build").concurrency(1).obj())
    for i in range(3):
        await k.create(builders.pipelinejob(f"m-{i}").sim(run_time="2s").obj())

    depths: list[float] = []
    for _ in range(100):
        depths.append(kube.scrape(url, "conveyor_queue_depth", namespace=ns, worker="build"))
        if depths[-1] > 0:
            break
        await asyncio.sleep(0.1)
    for i in range(3):
        await k.wait_state(f"m-{i}", "SUCCESS", timeout=60)

    async def drained() -> bool:
        return kube.scrape(url, "conveyor_queue_depth", namespace=ns, worker="build") == 0

    await k.wait_for("queue depth back to 0", drained)
    assert max(depths) >= 1, depths
    assert kube.scrape(url, "conveyor_job_queue_wait_seconds_count", namespace=ns) >= 3
    assert kube.scrape(url, "conveyor_job_run_seconds_count", namespace=ns, result="SUCCESS") >= 3
    assert kube.scrape(url, "conveyor_worker_concurrency", namespace=ns, worker="build") == 1
    assert (
        kube.scrape(url, "conveyor_worker_state", namespace=ns, worker="build", state="ONLINE") == 1
    )
