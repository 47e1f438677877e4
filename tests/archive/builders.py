"""Bodies of finished PipelineJobs and PipelineRuns, as the API returns them."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

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
    started = finished - took
    status: dict[str, Any] = {"state": state, "worker": worker, "attempt": 1}
    if state != "RUNNING":
        status["finishedAt"] = stamp(finished)
    status |= {
        "reason": "" if state == "SUCCESS" else "Failed",
        "message": "done",
        "startedAt": stamp(started),
        "attempts": [{"job": f"{name}-1", "result": state}],
        "outputs": dict(outputs or {}),
        "conditions": [{"type": "Ready", "status": "True"}],
    }
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineJob",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid or str(uuid.uuid4()),
            "creationTimestamp": stamp(started - datetime.timedelta(seconds=5)),
            "labels": dict(labels or {}),
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
        },
        "spec": {"type": type_, "params": dict(params or {}), **(spec or {})},
        "status": status,
    }


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
