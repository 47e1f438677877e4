"""The pipeline scenario: N PipelineRuns of the example's shape (a 2-item
build fan-out, test, deploy, canary, promote, and a finally step: 7 child
PipelineJobs a run), all created at once against one Worker. Measures runs
per minute, API writes per step (child PipelineJob) and the largest run
object's size."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench import common, kube
from bench.infra import BenchError
from conveyor.k8s import api

CHILDREN_PER_RUN = 7
FINISHED = ("SUCCESS", "FAILED", "REVOKED")


def _step(name: str, *, run_time: str, **fields: Any) -> dict[str, Any]:
    job = kube.pipelinejob(name, worker="build", run_time=run_time)["spec"]
    return {"name": name, "job": job, **fields}


def run_manifest(name: str, *, run_time: str) -> dict[str, Any]:
    steps = [
        _step("build", run_time=run_time, forEach=["amd64", "arm64"], maxParallel=2),
        _step("test", run_time=run_time, dependsOn=["build"]),
        _step(
            "deploy", run_time=run_time, dependsOn=["test"], when="steps.build.state == 'SUCCESS'"
        ),
        _step("canary", run_time=run_time, dependsOn=["deploy"]),
        _step("promote", run_time=run_time, dependsOn=["canary"]),
    ]
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineRun",
        "metadata": {"name": name, "labels": {kube.BENCH_LABEL: "1"}},
        "spec": {"steps": steps, "finally": [_step("notify", run_time=run_time)]},
    }


async def scenario(b: common.Bench, *, namespace: str) -> dict[str, Any]:
    n, concurrency = b.sizes.pipeline_runs, b.sizes.drain_concurrency
    await kube.create_namespace(b.client, namespace)
    await b.client.create(
        api.WORKERS, namespace=namespace, body=kube.worker("build", concurrency=concurrency)
    )
    ended: dict[str, float] = {}
    largest = 0

    def on_run(kind: str, obj: dict[str, Any], received: float) -> None:
        nonlocal largest
        if kind == "DELETED":
            return
        largest = max(largest, len(json.dumps(obj).encode()))
        if (obj.get("status") or {}).get("state") in FINISHED:
            ended.setdefault(kube.name_of(obj), received)

    bodies = [run_manifest(f"p-{i:04d}", run_time=b.sizes.run_time) for i in range(n)]
    meter = b.cpu_meter()
    async with kube.Watcher(
        info=b.info, resource=api.PIPELINERUNS, namespace=namespace, handler=on_run
    ) as watcher:
        before = common.api_requests(await asyncio.to_thread(b.operator.metrics))
        meter.start()
        started = time.monotonic()
        await kube.create_all(b.client, api.PIPELINERUNS, namespace=namespace, bodies=bodies)
        await kube.wait_until(
            f"{n} PipelineRuns to finish",
            lambda: len(ended) >= n,
            timeout=120 + n * 3,
            watchers=[watcher],
            progress=lambda: f"{len(ended)} of {n} finished",
        )
        finished = max(ended.values())
        await asyncio.sleep(common.SETTLE_SECONDS)
        cpu = meter.stop()
        after = common.api_requests(await asyncio.to_thread(b.operator.metrics))
    listed = await b.client.list(api.PIPELINERUNS, namespace=namespace)
    states = [(i.get("status") or {}).get("state") for i in listed.get("items") or ()]
    if states.count("SUCCESS") != n:
        raise BenchError(f"pipelines: {states.count('SUCCESS')} of {n} runs succeeded")
    seconds = finished - started
    steps = n * CHILDREN_PER_RUN
    return {
        "runs": n,
        "steps": steps,
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "runs_per_minute": round(n / seconds * 60, 2),
        "api": common.per_job_writes(before, after, steps),
        "largest_run_bytes": largest,
        "cpu": cpu,
    }
