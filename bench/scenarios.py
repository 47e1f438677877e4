"""The measured scenarios. Each returns a flat dict of raw numbers for one run.

Times are monotonic seconds taken by the benchmark's watchers when an event's
bytes arrived (creationTimestamp has only one-second resolution).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import functools
import math
import pathlib
import time
from typing import Any

import kopf

from bench import kube
from bench.infra import BenchError, Cluster, CpuMeter, Operator, log
from conveyor.k8s import api

WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")
SETTLE_SECONDS = 3.0  # Events and Worker status writes trail the last transition


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sizes:
    drain_jobs: int
    drain_concurrency: int
    run_time: str
    latency_rate: float
    latency_seconds: float
    memory_stages: tuple[int, ...]  # PipelineJobs present at each RSS reading
    cold_queued: int  # of the last stage, this many are IN-QUEUE; the rest REVOKED
    cold_concurrency: int  # the Worker's concurrency once the operator restarts
    pipeline_runs: int = 100  # PipelineRuns of the example's shape (bench/pipelines.py)


@dataclasses.dataclass(kw_only=True)
class Bench:
    cluster: Cluster
    operator: Operator
    info: kopf.ConnectionInfo
    client: api.Client
    sizes: Sizes
    log_dir: pathlib.Path

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(operator=self.operator, cluster=self.cluster)

    async def restart_operator(self) -> None:
        self.operator.stop()
        self.operator.start()
        await asyncio.to_thread(self.operator.wait_ready)
        await asyncio.to_thread(self.operator.settle)


# --- trackers ----------------------------------------------------------------------


class PipelineJobs:
    """Per PipelineJob: when it was first seen, and when first seen in each state."""

    def __init__(self) -> None:
        self.first: dict[str, dict[str, float]] = collections.defaultdict(dict)
        self.state: dict[str, str] = {}
        self.counts: collections.Counter[str] = collections.Counter()

    def __call__(self, kind: str, obj: dict[str, Any], received: float) -> None:
        if kind == "DELETED":
            return
        name = kube.name_of(obj)
        firsts = self.first[name]
        firsts.setdefault("seen", received)
        state = str((obj.get("status") or {}).get("state") or "")
        if state:
            firsts.setdefault(state, received)
        old = self.state.get(name)
        if old != state:
            if old is not None:
                self.counts[old] -= 1
            self.counts[state] += 1
            self.state[name] = state

    def progress(self) -> str:
        return ", ".join(f"{k or 'no status'}: {v}" for k, v in sorted(self.counts.items()) if v)


class Jobs:
    """Per owner (the PipelineJob label, or the Job's name): first seen, first finished."""

    def __init__(self, *, by_label: bool = True) -> None:
        self.by_label = by_label
        self.seen: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        self.failed: set[str] = set()

    def __call__(self, kind: str, obj: dict[str, Any], received: float) -> None:
        if kind == "DELETED":
            return
        owner = (
            kube.labels_of(obj).get("conveyor.dev/pipelinejob", "")
            if self.by_label
            else kube.name_of(obj)
        )
        self.seen.setdefault(owner, received)
        if kube.job_finished(obj):
            self.finished.setdefault(owner, received)
            if kube.job_failed(obj):
                self.failed.add(owner)


class Pods:
    """Per PipelineJob: when its pod was first seen Running and Succeeded."""

    def __init__(self) -> None:
        self.phase_at: dict[str, dict[str, float]] = collections.defaultdict(dict)

    def __call__(self, kind: str, obj: dict[str, Any], received: float) -> None:
        if kind == "DELETED":
            return
        owner = kube.labels_of(obj).get("conveyor.dev/pipelinejob", "")
        phase = str((obj.get("status") or {}).get("phase") or "")
        if owner and phase:
            self.phase_at[owner].setdefault(phase, received)


# --- operator metrics ------------------------------------------------------------


def api_requests(samples: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, float]:
    """conveyor_api_requests_total as {"VERB resource code": count}."""
    counts: dict[str, float] = collections.defaultdict(float)
    for labels, value in samples.get("conveyor_api_requests_total", ()):
        counts[f"{labels['verb']} {labels['resource']} {labels['code']}"] += value
    return dict(counts)


def jobs_known(samples: dict[str, list[tuple[dict[str, str], float]]], namespace: str) -> float:
    return sum(
        v for labels, v in samples.get("conveyor_jobs", ()) if labels["namespace"] == namespace
    )


def per_job_writes(before: dict[str, float], after: dict[str, float], jobs: int) -> dict[str, Any]:
    """Writes per job by "VERB resource", Events apart, failed requests apart."""
    writes: dict[str, float] = collections.defaultdict(float)
    events: dict[str, float] = collections.defaultdict(float)
    failed: dict[str, float] = collections.defaultdict(float)
    reads: dict[str, float] = collections.defaultdict(float)
    for key, value in after.items():
        delta = value - before.get(key, 0.0)
        if not delta:
            continue
        verb, resource, code = key.split(" ")
        short = f"{verb} {resource}"
        if verb not in WRITE_VERBS:
            reads[short] += delta
        elif resource == "events":
            events[short] += delta
        else:
            writes[short] += delta
        if not code.isdigit() or int(code) >= 400:
            failed[key] += delta
    return {
        "writes": {k: round(v / jobs, 3) for k, v in sorted(writes.items())},
        "writes_total": round(sum(writes.values()) / jobs, 3),
        "events": {k: round(v / jobs, 3) for k, v in sorted(events.items())},
        "reads": {k: round(v / jobs, 3) for k, v in sorted(reads.items())},
        "failed_requests": dict(failed),
    }


async def _wait_worker_status(b: Bench, namespace: str, name: str, *, timeout: float = 60) -> None:
    async def probe() -> bool:
        body = await b.client.get(api.WORKERS, namespace=namespace, name=name)
        return bool((body.get("status") or {}).get("state"))

    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise BenchError(f"Worker {namespace}/{name} got no status in {timeout}s")
        await asyncio.sleep(0.2)


# --- 2. baseline ---------------------------------------------------------------------


async def baseline(b: Bench, *, namespace: str) -> dict[str, Any]:
    """The same Jobs, no operator: the benchmark keeps `limit` running at once."""
    n, limit = b.sizes.drain_jobs, b.sizes.drain_concurrency
    await kube.create_namespace(b.client, namespace)
    jobs = Jobs(by_label=False)
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
                raise BenchError(
                    f"baseline: timed out; {len(jobs.finished)} of {n} Jobs finished"
                ) from None
            if errors:
                raise BenchError(f"baseline: creating a Job failed: {errors[0]!r}")
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
        raise BenchError(f"baseline: creating a Job failed: {errors[0]!r}")
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


# --- 1, 4, 5b. drain -----------------------------------------------------------------


async def drain(b: Bench, *, namespace: str) -> dict[str, Any]:
    n, concurrency = b.sizes.drain_jobs, b.sizes.drain_concurrency
    await kube.create_namespace(b.client, namespace)
    await b.client.create(
        api.WORKERS, namespace=namespace, body=kube.worker("build", concurrency=concurrency)
    )
    await _wait_worker_status(b, namespace, "build")
    bodies = [
        kube.pipelinejob(f"d-{i:05d}", worker="build", run_time=b.sizes.run_time) for i in range(n)
    ]
    pjs = PipelineJobs()
    meter = b.cpu_meter()
    timeline: list[dict[str, float]] = []
    async with kube.Watcher(
        info=b.info, resource=api.PIPELINEJOBS, namespace=namespace, handler=pjs
    ) as watcher:
        before = api_requests(await asyncio.to_thread(b.operator.metrics))
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
            raise BenchError(f"drain: not all succeeded: {pjs.progress()}")
        ended = max(f["SUCCESS"] for f in pjs.first.values())
        await asyncio.sleep(SETTLE_SECONDS)
        cpu = meter.stop()
        after = api_requests(await asyncio.to_thread(b.operator.metrics))
    seconds = ended - started
    return {
        "jobs": n,
        "concurrency": concurrency,
        "create_seconds": round(created - started, 3),
        "seconds": round(seconds, 3),
        "jobs_per_second": round(n / seconds, 2),
        "api": per_job_writes(before, after, n),
        "cpu": cpu,
        "operator_cpu_per_1000_jobs": round(cpu.get("operator", 0.0) / n * 1000, 2),
        "timeline": timeline,
    }


async def _timeline(
    pjs: PipelineJobs, *, started: float, into: list[dict[str, float]], every: float = 5.0
) -> None:
    """Every few seconds, how many PipelineJobs are in each state (JSON only):
    shows whether throughput depends on the queue's length."""
    while True:
        await asyncio.sleep(every)
        row: dict[str, float] = {"t": round(time.monotonic() - started, 1)}
        row |= {state or "no status": count for state, count in pjs.counts.items() if count}
        into.append(row)


# --- 3. latency ----------------------------------------------------------------------


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


async def latency(b: Bench, *, namespace: str) -> dict[str, Any]:
    rate, duration = b.sizes.latency_rate, b.sizes.latency_seconds
    n = int(rate * duration)
    await kube.create_namespace(b.client, namespace)
    # Free capacity: far more slots than jobs can be running at this rate.
    await b.client.create(
        api.WORKERS, namespace=namespace, body=kube.worker("build", concurrency=max(1000, n))
    )
    await _wait_worker_status(b, namespace, "build")
    pjs, jobs, pods = PipelineJobs(), Jobs(), Pods()
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
                raise BenchError(f"latency: creating a PipelineJob failed: {errors[0]!r}")
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
        raise BenchError(f"latency: creating a PipelineJob failed: {errors[0]!r}")
    if pjs.counts["SUCCESS"] != n:
        raise BenchError(f"latency: not all succeeded: {pjs.progress()}")

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


# --- 5a, 6. memory and cold start -------------------------------------------------------


def _reached(counts: collections.Counter[str], wanted: dict[str, int]) -> bool:
    return all(counts[state] >= n for state, n in wanted.items())


async def memory_and_cold_start(b: Bench, *, namespace: str) -> dict[str, Any]:
    """RSS at idle and with N PipelineJobs present (REVOKED at once, and the
    last `cold_queued` IN-QUEUE behind a Worker with concurrency 0); then the
    operator is restarted with all of them present and the Worker opened."""
    sizes = b.sizes
    result: dict[str, Any] = {}
    await b.restart_operator()
    result["rss_idle"] = b.operator.rss()
    await kube.create_namespace(b.client, namespace)
    await b.client.create(api.WORKERS, namespace=namespace, body=kube.worker("hold", concurrency=0))
    await _wait_worker_status(b, namespace, "hold")

    pjs = PipelineJobs()
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
            log(
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
    jobs = Jobs()
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
                raise BenchError(
                    f"cold start: after {deadline - started:.0f}s the view has "
                    f"{'' if view else 'not '}been rebuilt and {len(jobs.seen)} of "
                    f"{want_slots} Jobs exist"
                )
            if view is None:
                samples = await asyncio.to_thread(b.operator.metrics)
                if jobs_known(samples, namespace) >= total:
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
