"""Figure 2: the same Jobs as the drain, no operator; the benchmark keeps C running."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import common, infra, kube
from conveyor.k8s import api


async def scenario(b: common.Bench, *, namespace: str) -> dict[str, Any]:
    """The same Jobs, no operator: the benchmark keeps `limit` running at once."""
    n, limit = b.sizes.drain_jobs, b.sizes.drain_concurrency
    await kube.create_namespace(b.client, namespace)
    jobs = common.Jobs(by_label=False)
    slots: asyncio.Queue[None] = asyncio.Queue()
    freed: set[str] = set()

    def on_job(kind: str, obj: dict[str, Any], received: float) -> None:
        jobs(kind, obj, received)
        name = kube.name_of(obj)
        if name in jobs.finished and name not in freed:
            freed.add(name)
            slots.put_nowait(None)

    manifests = [kube.plain_job(f"base-{i:05d}", run_time=b.sizes.run_time) for i in range(n)]
    errors: list[BaseException] = []
    tasks: set[asyncio.Task[None]] = set()

    async def create(body: dict[str, Any]) -> None:
        try:
            await b.client.create(api.JOBS, namespace=namespace, body=body)
        except BaseException as exc:
            errors.append(exc)

    meter = b.cpu_meter()
    async with kube.Watcher(
        info=b.info, resource=api.JOBS, namespace=namespace, handler=on_job
    ) as watcher:
        for _ in range(limit):
            slots.put_nowait(None)
        meter.start()
        started = time.monotonic()
        deadline = started + 120 + n * 0.5
        for body in manifests:
            remaining = deadline - time.monotonic()
            try:
                await asyncio.wait_for(slots.get(), timeout=max(remaining, 0.1))
            except TimeoutError:
                raise infra.BenchError(
                    f"baseline: timed out; {len(jobs.finished)} of {n} Jobs finished"
                ) from None
            if errors:
                raise infra.BenchError(f"baseline: creating a Job failed: {errors[0]!r}")
            task = asyncio.create_task(create(body))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await kube.wait_until(
            f"{n} baseline Jobs to finish",
            lambda: len(jobs.finished) >= n,
            timeout=max(deadline - time.monotonic(), 1),
            watchers=[watcher],
            progress=lambda: f"{len(jobs.finished)} finished",
        )
        cpu = meter.stop()
    if errors:
        raise infra.BenchError(f"baseline: creating a Job failed: {errors[0]!r}")
    ended = max(jobs.finished.values())
    seconds = ended - started
    return {
        "jobs": n,
        "limit": limit,
        "seconds": round(seconds, 3),
        "jobs_per_second": round(n / seconds, 2),
        "failed": len(jobs.failed),
        "cpu": cpu,
    }
