"""Figures 1, 4 and 5 (CPU): N PipelineJobs for one Worker of concurrency C."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import common, infra, kube
from conveyor.k8s import api
from conveyor.k8s import events as events_module


async def scenario(b: common.Bench, *, namespace: str) -> dict[str, Any]:
    n, concurrency = b.sizes.drain_jobs, b.sizes.drain_concurrency
    await kube.create_namespace(b.client, namespace)
    await b.client.create(
        api.WORKERS, namespace=namespace, body=kube.worker("build", concurrency=concurrency)
    )
    await common.wait_worker_status(b, namespace, "build")
    bodies = [
        kube.pipelinejob(f"d-{i:05d}", worker="build", run_time=b.sizes.run_time) for i in range(n)
    ]
    pjs = common.PipelineJobs()
    meter = b.cpu_meter()
    timeline: list[dict[str, float]] = []
    async with kube.Watcher(
        info=b.info, resource=api.PIPELINEJOBS, namespace=namespace, handler=pjs
    ) as watcher:
        before = common.api_requests(await asyncio.to_thread(b.operator.metrics))
        meter.start()
        started = time.monotonic()
        sampler = asyncio.create_task(_timeline(pjs, started=started, into=timeline))
        await kube.create_all(b.client, api.PIPELINEJOBS, namespace=namespace, bodies=bodies)
        created = time.monotonic()
        finished = ("SUCCESS", "FAILED", "REVOKED")
        await kube.wait_until(
            f"{n} PipelineJobs to finish",
            lambda: sum(pjs.counts[s] for s in finished) >= n,
            timeout=120 + n * 0.5,
            watchers=[watcher],
            progress=pjs.progress,
        )
        sampler.cancel()
        if pjs.counts["SUCCESS"] != n:
            raise infra.BenchError(f"drain: not all succeeded: {pjs.progress()}")
        ended = max(f["SUCCESS"] for f in pjs.first.values())
        await asyncio.sleep(common.SETTLE_SECONDS)
        cpu = meter.stop()
        after = common.api_requests(await asyncio.to_thread(b.operator.metrics))
    events = await common.events_by_component(b.client, namespace)
    seconds = ended - started
    writes = common.per_job_writes(before, after, n)
    return {
        "jobs": n,
        "concurrency": concurrency,
        "create_seconds": round(created - started, 3),
        "seconds": round(seconds, 3),
        "jobs_per_second": round(n / seconds, 2),
        "api": writes,
        # As the Kueue scenario counts them (bench/peer.py): every write of the
        # controller's own client, Events included; Event objects it reported.
        "writes_all_per_job": round(writes["writes_total"] + sum(writes["events"].values()), 3),
        "events": events,
        "events_per_job": round(events.get(events_module.COMPONENT, 0) / n, 3),
        "cpu": cpu,
        "operator_cpu_per_1000_jobs": round(cpu.get("operator", 0.0) / n * 1000, 2),
        "timeline": timeline,
    }


async def _timeline(
    pjs: common.PipelineJobs, *, started: float, into: list[dict[str, float]], every: float = 5.0
) -> None:
    """Every few seconds, how many PipelineJobs are in each state (JSON only):
    shows whether throughput depends on the queue's length."""
    while True:
        await asyncio.sleep(every)
        row: dict[str, float] = {"t": round(time.monotonic() - started, 1)}
        row |= {state or "no status": count for state, count in pjs.counts.items() if count}
        into.append(row)
