"""Bodies of finished PipelineJobs (the shared fluent builder, tests/builders)
and PipelineRuns (which it has no builder for), as the API returns them."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from tests import builders as b

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def stamp(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(
    *,
    name: str = "api-build-1",
    namespace: str = "team-a",
    type_: str = "build",
    state: str = "SUCCESS",
    finished: datetime.datetime = T0,
    took: datetime.timedelta = datetime.timedelta(minutes=2),
    worker: str = "build",
    labels: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Any] | None = None,
    uid: str | None = None,
    spec: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A PipelineJob as served (the shared builder), ended in `state` at `finished`."""
    started = finished - took
    built = (
        b.pipelinejob(name, namespace)
        .type(type_)
        .params(params)
        .spec(spec)
        .labels(labels or {})
        # kubectl's copy of the whole spec: the archive must never keep it.
        .annotations({"kubectl.kubernetes.io/last-applied-configuration": "{...}"})
        .created(started - datetime.timedelta(seconds=5))
        .state(state)
        .reason("" if state == "SUCCESS" else "Failed")
        .message("done")
        .assigned(worker)
        .attempt(1)
        .started_at(started)
        .finished_at(None if state == "RUNNING" else finished)
        .attempts([b.attempt_entry(name=name, attempt=1, start=started, result=state)])
        .outputs(outputs or {})
    )
    body = built.served()
    body["metadata"]["uid"] = uid or str(uuid.uuid4())  # unique across namespaces
    body["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    if params is None:  # as the user wrote it: no params
        body["spec"]["params"] = {}
    return body


def run(
    *,
    name: str = "api-ci-1",
    namespace: str = "team-a",
    state: str = "SUCCESS",
    finished: datetime.datetime = T0,
    labels: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineRun",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": str(uuid.uuid4()),
            "creationTimestamp": stamp(finished - datetime.timedelta(minutes=10)),
            "labels": dict(labels or {}),
        },
        "spec": {
            "params": dict(params or {}),
            "steps": [{"name": "build", "job": {"type": "build", "params": {}}}],
        },
        "status": {
            "state": state,
            "startedAt": stamp(finished - datetime.timedelta(minutes=9)),
            "finishedAt": stamp(finished),
            "steps": [{"name": "build", "state": state}],
        },
    }
