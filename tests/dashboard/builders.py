"""Builders for the dashboard's tests, on the shared fluent family
(tests/builders): a PipelineJob as served with keyword fields, Workers,
PipelineRuns (the status shape of DESIGN.md §3b) and a filled store."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conveyor.dashboard import store as store_
from conveyor.dashboard import watch
from tests import builders as fluent
from tests.builders import NAMESPACE, T0, at, ts  # noqa: F401  (re-exported)

attempt_entry = fluent.attempt_entry
pod_running = fluent.pod_running
pod_pending = fluent.pod_pending


def job(
    name: str,
    *,
    type: str = "custom",
    labels: Mapping[str, str] | None = None,
    created: datetime.datetime = T0,
    state: str | None = None,
    reason: str | None = None,
    message: str | None = None,
    worker: str | None = None,  # status.worker
    attempt: int = 0,
    job: str | None = None,
    attempts: Sequence[Mapping[str, Any]] = (),
    queued_at: datetime.datetime | None = None,
    started_at: datetime.datetime | None = None,
    finished_at: datetime.datetime | None = None,
    outputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A PipelineJob as the API server returns it; `state=None`: never seen."""
    built = (
        fluent.pipelinejob(name)
        .type(type)
        .labels(labels or {})
        .created(created)
        .state(state)
        .reason(reason)
        .message(message)
        .assigned(worker)
        .attempt(attempt)
        .job(job)
        .attempts(attempts)
        .queued_at(queued_at)
        .started_at(started_at)
        .finished_at(finished_at)
        .outputs(outputs)
    )
    return built.served()


def worker_body(
    name: str = "build",
    *,
    type: str = "build",
    concurrency: int = 2,
    status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return fluent.worker(name).type(type).concurrency(concurrency).status(status).served()


def run(
    name: str,
    *,
    steps: Sequence[Mapping[str, Any]] = (),
    finally_: Sequence[Mapping[str, Any]] = (),
    status_steps: Sequence[Mapping[str, Any]] = (),
    state: str | None = None,
    namespace: str = NAMESPACE,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineRun",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "resourceVersion": "1",
            "creationTimestamp": ts(T0),
        },
        "spec": {"steps": [dict(s) for s in steps], "finally": [dict(s) for s in finally_]},
    }
    if state is not None or status_steps:
        body["status"] = {"state": state, "steps": [dict(s) for s in status_steps]}
    return body


def step(name: str, *deps: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "job": {"type": "custom"}}
    if deps:
        out["dependsOn"] = list(deps)
    return out


def filled(**kinds: Iterable[Mapping[str, Any]]) -> store_.Store:
    """A store with these objects listed, every kind live."""
    store = store_.Store(kinds=watch.KIND_NAMES)
    for kind in watch.KIND_NAMES:
        store.replace(kind=kind, items=kinds.get(kind, ()), resource_version="1")
    return store
