"""Builders for test objects: a valid object by default, overrides by keyword."""

from __future__ import annotations

from typing import Any

SIM_RUN_TIME = "sim.conveyor.dev/run-time"
SIM_EXIT_CODE = "sim.conveyor.dev/exit-code"
SIM_MESSAGE = "sim.conveyor.dev/termination-message"


def worker(
    name: str = "build", *, type: str = "build", concurrency: int = 2, **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "Worker",
        "metadata": {"name": name},
        "spec": {"type": type, "concurrency": concurrency, **spec},
    }


def pipelinejob(
    name: str,
    *,
    type: str = "custom",
    params: dict[str, Any] | None = None,
    run_time: str | None = None,
    exit_code: int | None = None,
    message: str | None = None,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A PipelineJob; run_time/exit_code/message script its simulated pod."""
    pod_annotations: dict[str, str] = {}
    if run_time is not None:
        pod_annotations[SIM_RUN_TIME] = run_time
    if exit_code is not None:
        pod_annotations[SIM_EXIT_CODE] = str(exit_code)
    if message is not None:
        pod_annotations[SIM_MESSAGE] = message
    body_spec: dict[str, Any] = {"type": type, **spec}
    if params is None and type == "custom":
        params = {"image": "alpine:3.20", "command": ["sh", "-c", "echo hello"]}
    if params is not None:
        body_spec["params"] = params
    if pod_annotations:
        body_spec.setdefault("podTemplate", {}).setdefault("metadata", {})["annotations"] = (
            pod_annotations
        )
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    if labels:
        metadata["labels"] = labels
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineJob",
        "metadata": metadata,
        "spec": body_spec,
    }
