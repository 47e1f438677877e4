"""Figures 5 (RSS) and 6 (cold start)."""

from __future__ import annotations

import asyncio
import collections
import functools
import time
from typing import Any

from bench import common, infra, kube
from conveyor.k8s import api


def _reached(counts: collections.Counter[str], wanted: dict[str, int]) -> bool:
    return all(counts[state] >= n for state, n in wanted.items())


async def scenario(b: common.Bench, *, namespace: str) -> dict[str, Any]:
    """RSS at idle and with N PipelineJobs present (REVOKED at once, and the
    last `cold_queued` IN-QUEUE behind a Worker with concurrency 0); then the
    operator is restarted with all of them present and the Worker opened."""
    sizes = b.sizes
    result: dict[str, Any] = {}
    await b.restart_operator()
    result["rss_idle"] = b.operator.rss()
    await kube.create_namespace(b.client, namespace)
    await b.client.create(api.WORKERS, namespace=namespace, body=kube.worker("hold", concurrency=0))
    await common.wait_worker_status(b, namespace, "hold")

    pjs = common.PipelineJobs()
    total = sizes.memory_stages[-1]
    queued_from = total - sizes.cold_queued  # the last `cold_queued` objects wait
    async with kube.Watcher(
        info=b.info, resource=api.PIPELINEJOBS, namespace=namespace, handler=pjs
    ) as watcher:
        present = 0
        for stage in sizes.memory_stages:
            bodies = [
                kube.pipelinejob(f"m-{i:05d}", worker="hold", revoke=i < queued_from)
                for i in range(present, stage)
            ]
            started = time.monotonic()
            await kube.create_all(b.client, api.PIPELINEJOBS, namespace=namespace, bodies=bodies)
            want_revoked = min(stage, queued_from)
            want_queued = stage - want_revoked
            await kube.wait_until(
                f"{stage} PipelineJobs REVOKED or IN-QUEUE",
                functools.partial(
                    _reached, pjs.counts, {"REVOKED": want_revoked, "IN-QUEUE": want_queued}
                ),
                timeout=120 + (stage - present) * 0.1,
                watchers=[watcher],
                progress=pjs.progress,
            )
            absorbed = time.monotonic() - started
            settle = await asyncio.to_thread(b.operator.settle)
            rss = b.operator.rss()
            result[f"rss_at_{stage}"] = rss
            result[f"bytes_per_object_at_{stage}"] = round((rss - result["rss_idle"]) / stage)
            result[f"absorb_seconds_{stage}"] = round(absorbed, 2)
            infra.log(
                f"  {stage} PipelineJobs present ({pjs.progress()}): RSS {rss / 2**20:.1f} MiB "
                f"(created and settled in {absorbed:.1f}s, then idle after {settle:.1f}s)"
            )
            present = stage

    # Cold start: stop, open the Worker, start again with everything present.
    b.operator.stop()
    await b.client.request(
        "PATCH",
        api.WORKERS.path(namespace=namespace, name="hold"),
        body={"spec": {"concurrency": sizes.cold_concurrency}},
        content_type=api.MERGE_PATCH,
    )
    jobs = common.Jobs()
    async with kube.Watcher(
        info=b.info,
        resource=api.JOBS,
        namespace=namespace,
        handler=jobs,
        label_selector="conveyor.dev/pipelinejob",
    ) as watcher:
        started = b.operator.start()
        up = await asyncio.to_thread(b.operator.wait_ready)
        view: float | None = None
        rss_peak = 0
        deadline = time.monotonic() + 120 + total * 0.05
        want_slots = min(sizes.cold_concurrency, sizes.cold_queued)
        while view is None or len(jobs.seen) < want_slots:
            watcher.check()
            if time.monotonic() > deadline:
                raise infra.BenchError(
                    f"cold start: after {deadline - started:.0f}s the view has "
                    f"{'' if view else 'not '}been rebuilt and {len(jobs.seen)} of "
                    f"{want_slots} Jobs exist"
                )
            if view is None:
                samples = await asyncio.to_thread(b.operator.metrics)
                if common.jobs_known(samples, namespace) >= total:
                    view = time.monotonic()
                    result["rss_at_view"] = b.operator.rss()
            rss_peak = max(rss_peak, b.operator.rss())
            await asyncio.sleep(0.1)
    first_job = min(jobs.seen.values())
    all_slots = sorted(jobs.seen.values())[want_slots - 1]
    result.update(
        {
            "objects": total,
            "queued": sizes.cold_queued,
            "cold_metrics_up": round(up - started, 3),
            "cold_view_rebuilt": round(view - started, 3),
            "cold_first_admission": round(first_job - started, 3),
            "cold_all_slots": round(all_slots - started, 3),
            "cold_slots": want_slots,
            "rss_peak_cold": rss_peak,
        }
    )
    return result
