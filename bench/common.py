"""What the scenarios share: their sizes, the handle they get (`Bench`), the
trackers their watchers feed, and the operator's request counter.

Each scenario (baseline.py, drain.py, latency.py, memory.py, ...) is an
`async def (b: Bench, *, namespace: str) -> dict` returning a flat dict of raw
numbers for one run. Times are monotonic seconds taken by the benchmark's watchers when an event's
bytes arrived (creationTimestamp has only one-second resolution).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import pathlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import kopf

from bench import kube
from bench.infra import BenchError, Cluster, CpuMeter, Operator
from conveyor.k8s import api

WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")
# Each scenario: `async def (b, *, namespace) -> dict` of raw numbers for one run.
Scenario = Callable[..., Awaitable[dict[str, Any]]]
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
    kueue_version: str = "v0.17.0"
    # What a scenario prepares once per control plane (e.g. Kueue's CRDs).
    prepared: dict[str, Any] = dataclasses.field(default_factory=dict)

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


async def wait_worker_status(b: Bench, namespace: str, name: str, *, timeout: float = 60) -> None:
    async def probe() -> bool:
        body = await b.client.get(api.WORKERS, namespace=namespace, name=name)
        return bool((body.get("status") or {}).get("state"))

    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise BenchError(f"Worker {namespace}/{name} got no status in {timeout}s")
        await asyncio.sleep(0.2)


# --- Events ---------------------------------------------------------------------


def tally_events(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Occurrences of Events by the component that reported them
    (`reportingComponent`, else `source.component`): an Event object seen
    n times (`count`, or `series.count`) counts n, as n writes made it."""
    counts: dict[str, int] = collections.defaultdict(int)
    for event in items:
        component = str(
            event.get("reportingComponent") or (event.get("source") or {}).get("component") or "?"
        )
        series = int((event.get("series") or {}).get("count") or 0)
        counts[component] += max(int(event.get("count") or 0), series, 1)
    return dict(sorted(counts.items()))


async def events_by_component(client: api.Client, namespace: str) -> dict[str, int]:
    """`tally_events` of every Event in `namespace`, listed in pages."""
    items: list[dict[str, Any]] = []
    params = {"limit": "500"}
    while True:
        page = await client.list(api.EVENTS, namespace=namespace, **params)
        items += page.get("items") or ()
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return tally_events(items)
        params = {"limit": "500", "continue": token}
