"""Figure 3: latencies at a steady creation rate into free capacity."""

from __future__ import annotations

import asyncio
import functools
import math
import time
from typing import Any

from bench import common, infra, kube
from conveyor.k8s import api


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) and max, in milliseconds."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        index = max(math.ceil(p / 100 * len(ordered)) - 1, 0)
        return ordered[min(index, len(ordered) - 1)]

    return {
        "n": len(ordered),
        "p50": round(rank(50) * 1000, 1),
        "p95": round(rank(95) * 1000, 1),
        "p99": round(rank(99) * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


async def scenario(b: common.Bench, *, namespace: str) -> dict[str, Any]:
    rate, duration = b.sizes.latency_rate, b.sizes.latency_seconds
    n = int(rate * duration)
    await kube.create_namespace(b.client, namespace)
    # Free capacity: far more slots than jobs can be running at this rate.
    await b.client.create(
        api.WORKERS, namespace=namespace, body=kube.worker("build", concurrency=max(1000, n))
    )
    await common.wait_worker_status(b, namespace, "build")
    pjs, jobs, pods = common.PipelineJobs(), common.Jobs(), common.Pods()
    selector = "conveyor.dev/pipelinejob"
    responses: dict[str, float] = {}
    errors: list[BaseException] = []
    tasks: set[asyncio.Task[None]] = set()

    async def create(name: str) -> None:
        try:
            await b.client.create(
                api.PIPELINEJOBS,
                namespace=namespace,
                body=kube.pipelinejob(name, worker="build", run_time=b.sizes.run_time),
            )
            responses[name] = time.monotonic()
        except BaseException as exc:
            errors.append(exc)

    watcher = functools.partial(kube.Watcher, info=b.info, namespace=namespace)
    selected = functools.partial(watcher, label_selector=selector)
    async with (
        watcher(resource=api.PIPELINEJOBS, handler=pjs) as w1,
        selected(resource=api.JOBS, handler=jobs) as w2,
        selected(resource=api.PODS, handler=pods) as w3,
    ):
        meter = b.cpu_meter()
        meter.start()
        started = time.monotonic()
        lag = 0.0
        for i in range(n):
            due = started + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag = max(lag, -delay)
            task = asyncio.create_task(create(f"l-{i:05d}"))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if errors:
                raise infra.BenchError(f"latency: creating a PipelineJob failed: {errors[0]!r}")
        sent = time.monotonic()
        await kube.wait_until(
            f"{n} PipelineJobs to succeed",
            lambda: pjs.counts["SUCCESS"] + pjs.counts["FAILED"] >= n,
            timeout=120 + n * 0.2,
            watchers=[w1, w2, w3],
            progress=pjs.progress,
        )
        cpu = meter.stop()
    if errors:
        raise infra.BenchError(f"latency: creating a PipelineJob failed: {errors[0]!r}")
    if pjs.counts["SUCCESS"] != n:
        raise infra.BenchError(f"latency: not all succeeded: {pjs.progress()}")

    to_job, to_running, to_success, job_done_to_success, end_to_end = [], [], [], [], []
    for name, firsts in pjs.first.items():
        created = min(firsts["seen"], responses.get(name, firsts["seen"]))
        if name in jobs.seen:
            to_job.append(jobs.seen[name] - created)
        phases = pods.phase_at.get(name, {})
        if "Running" in phases and "RUNNING" in firsts:
            to_running.append(firsts["RUNNING"] - phases["Running"])
        if "Succeeded" in phases and "SUCCESS" in firsts:
            to_success.append(firsts["SUCCESS"] - phases["Succeeded"])
        if name in jobs.finished and "SUCCESS" in firsts:
            job_done_to_success.append(firsts["SUCCESS"] - jobs.finished[name])
        if "SUCCESS" in firsts:
            end_to_end.append(firsts["SUCCESS"] - created)
    return {
        "jobs": n,
        "rate": rate,
        "achieved_rate": round(n / max(sent - started, 1e-9), 2),
        "max_send_lag_ms": round(lag * 1000, 1),
        "created_to_job": percentiles(to_job),
        "pod_running_to_status": percentiles(to_running),
        "pod_succeeded_to_status": percentiles(to_success),
        "pod_phase_to_status": percentiles(to_running + to_success),
        "job_finished_to_status": percentiles(job_done_to_success),
        "created_to_success": percentiles(end_to_end),
        "cpu": cpu,
    }
