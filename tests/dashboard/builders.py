"""Builders for the dashboard's tests: the core's builders plus labels,
PipelineRuns (the status shape of DESIGN.md §3b) and a filled store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conveyor.dashboard import store as store_
from conveyor.dashboard import watch
from tests.core import builders as core
from tests.core.builders import NAMESPACE, T0, at, ts  # noqa: F401  (re-exported)


def job(name: str, *, labels: Mapping[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    body = core.pipelinejob_body(name, **fields)
    if labels:
        body["metadata"]["labels"] = dict(labels)
    return body


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
