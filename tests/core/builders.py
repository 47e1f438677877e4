"""Builders for the objects the pure core reads: PipelineJobs and Workers (parsed
from API bodies, so parsing is exercised too), batch/v1 Jobs and pods as the
API server shows them, and a fixed clock.

Every builder takes keyword arguments named like the fields a user or the
Kubernetes controllers write, so a test reads as the situation it sets up.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model, status

NAMESPACE = "team-a"

# --- the clock ------------------------------------------------------------------------

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def at(seconds: float = 0, *, minutes: float = 0, hours: float = 0) -> datetime.datetime:
    """T0 plus an offset: `at(5)` is five seconds after T0, `at(minutes=-1)` one before."""
    return T0 + datetime.timedelta(seconds=seconds, minutes=minutes, hours=hours)


def ts(when: datetime.datetime) -> str:
    """A time as Kubernetes writes it (RFC 3339, UTC, seconds)."""
    return model.format_time(when)


# --- params that validate -------------------------------------------------------------

CUSTOM_PARAMS: dict[str, Any] = {"image": "alpine:3.20", "command": ["sh", "-c", "true"]}
DELAY_PARAMS: dict[str, Any] = {"duration": "5s"}
VALID_PARAMS: dict[str, dict[str, Any]] = {
    "custom": CUSTOM_PARAMS,
    "delay": DELAY_PARAMS,
    "build": {"repository": "https://github.com/acme/api.git", "image": "registry.example/api:1"},
    "deploy": {
        "chart": {"name": "api", "repository": "https://charts.example"},
        "release": "api",
        "targetNamespace": "prod",
    },
    "clone-env": {"source": "staging", "target": "qa-17"},
}

# --- PipelineJob ----------------------------------------------------------------------


def attempt_entry(
    attempt: int,
    *,
    job: str | None = None,
    start: datetime.datetime | None = None,
    finish: datetime.datetime | None = None,
    result: str | None = None,
    reason: str | None = None,
    exit_code: int | None = None,
    message: str | None = None,
    name: str = "j",
) -> dict[str, Any]:
    """One entry of status.attempts, as the API shows it."""
    return model.Attempt(
        attempt=attempt,
        job=job or f"{name}-{attempt}",
        start=ts(start) if start else None,
        finish=ts(finish) if finish else None,
        result=result,
        reason=reason,
        exit_code=exit_code,
        message=message,
    ).to_dict()


def pipelinejob_body(
    name: str = "j",
    *,
    type: str = "custom",
    namespace: str = NAMESPACE,
    priority: int = 0,
    created: datetime.datetime = T0,
    state: str | None = None,
    reason: str | None = None,
    message: str | None = None,
    attempt: int = 0,
    job: str | None = None,
    worker: str | None = None,
    spec_worker: str | None = None,
    retry_limit: int = 0,
    backoff: Mapping[str, Any] | None = None,
    timeout: str | None = None,
    start_at: datetime.datetime | None = None,
    revoke: bool = False,
    ttl: str | None = None,
    params: Mapping[str, Any] | None = None,
    attempts: Sequence[Mapping[str, Any] | model.Attempt] = (),
    queued_at: datetime.datetime | None = None,
    next_attempt_at: datetime.datetime | None = None,
    started_at: datetime.datetime | None = None,
    finished_at: datetime.datetime | None = None,
    outputs: Mapping[str, Any] | None = None,
    generation: int = 1,
    extra_spec: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A PipelineJob as the API server returns it. `state=None`: never seen by the operator.

    `job` defaults to `<name>-<attempt>` once an attempt exists; `worker` is
    status.worker, `spec_worker` is spec.worker.
    """
    spec: dict[str, Any] = {
        "type": type,
        "priority": priority,
        "params": dict(VALID_PARAMS.get(type, {}) if params is None else params),
        "retry": {"limit": retry_limit, "backoff": dict(backoff or {})},
        "revoke": revoke,
    }
    if spec_worker is not None:
        spec["worker"] = spec_worker
    if timeout is not None:
        spec["timeout"] = timeout
    if start_at is not None:
        spec["startAt"] = ts(start_at)
    if ttl is not None:
        spec["ttlAfterFinished"] = ttl
    spec.update(extra_spec or {})

    body: dict[str, Any] = {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineJob",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "resourceVersion": "1",
            "generation": generation,
            "creationTimestamp": ts(created),
        },
        "spec": spec,
    }
    if state is not None:
        if job is None and attempt > 0:
            job = f"{name}-{attempt}"
        fields: dict[str, Any] = {
            "state": state,
            "reason": reason,
            "message": message,
            "worker": worker,
            "attempt": attempt,
            "job": job,
            "queuedAt": ts(queued_at or created),
            "startedAt": ts(started_at) if started_at else None,
            "finishedAt": ts(finished_at) if finished_at else None,
            "nextAttemptAt": ts(next_attempt_at) if next_attempt_at else None,
            "attempts": [
                a.to_dict() if isinstance(a, model.Attempt) else dict(a) for a in attempts
            ],
            "outputs": dict(outputs or {}),
            "observedGeneration": generation,
        }
        body["status"] = {k: v for k, v in fields.items() if v is not None}
    return body


def pipelinejob(name: str = "j", **fields: Any) -> model.PipelineJob:
    """A parsed PipelineJob; takes the keyword fields of `pipelinejob_body`."""
    return model.parse_pipelinejob(pipelinejob_body(name, **fields))


def persisted(new: model.JobStatus, *, generation: int = 1) -> dict[str, Any]:
    """The status as written to the API (without conditions, which depend on history)."""
    written = status.to_dict(status=new, generation=generation, previous_conditions=(), now=T0)
    written.pop("conditions")
    return written


def with_status(job: model.PipelineJob, new: model.JobStatus) -> model.PipelineJob:
    """`job` as the API shows it after the operator wrote `new`: the status goes
    through its API form and back, as it does across an operator restart."""
    written = persisted(new, generation=job.meta.generation)
    return dataclasses.replace(job, status=model.JobStatus.from_dict(written))


# --- Worker ---------------------------------------------------------------------------


def worker_body(
    name: str = "build",
    *,
    type: str = "build",
    namespace: str = NAMESPACE,
    concurrency: int = 2,
    paused: bool = False,
    deleting: bool = False,
    generation: int = 1,
    spec: Mapping[str, Any] | None = None,
    status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Worker as the API server returns it; `spec` replaces the whole spec."""
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-worker-{name}",
        "resourceVersion": "1",
        "generation": generation,
        "creationTimestamp": ts(T0),
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(T0)
    body: dict[str, Any] = {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "Worker",
        "metadata": metadata,
        "spec": dict(spec)
        if spec is not None
        else {"type": type, "concurrency": concurrency, "paused": paused},
    }
    if status is not None:
        body["status"] = dict(status)
    return body


def worker(
    name: str = "build",
    *,
    type: str = "build",
    namespace: str = NAMESPACE,
    concurrency: int = 2,
    paused: bool = False,
    deleting: bool = False,
    generation: int = 1,
    spec: Mapping[str, Any] | None = None,
    status: Mapping[str, Any] | None = None,
) -> model.Worker:
    """A parsed Worker (see `worker_body`)."""
    return model.parse_worker(
        worker_body(
            name,
            type=type,
            namespace=namespace,
            concurrency=concurrency,
            paused=paused,
            deleting=deleting,
            generation=generation,
            spec=spec,
            status=status,
        )
    )


# --- batch/v1 Job ---------------------------------------------------------------------


def condition(
    type: str,
    *,
    reason: str | None = None,
    message: str | None = None,
    when: datetime.datetime = T0,
    status: str = "True",
) -> dict[str, Any]:
    """A Job condition as the Job controller writes it."""
    out: dict[str, Any] = {
        "type": type,
        "status": status,
        "lastProbeTime": ts(when),
        "lastTransitionTime": ts(when),
    }
    if reason is not None:
        out["reason"] = reason
    if message is not None:
        out["message"] = message
    return out


def complete(*, when: datetime.datetime = T0) -> list[dict[str, Any]]:
    """The conditions of a Job that succeeded."""
    return [
        condition("SuccessCriteriaMet", reason="CompletionsReached", when=when),
        condition("Complete", reason="CompletionsReached", when=when),
    ]


def failed(
    reason: str = "BackoffLimitExceeded",
    *,
    message: str | None = None,
    when: datetime.datetime = T0,
) -> list[dict[str, Any]]:
    """The conditions of a Job that failed for good (`reason`: BackoffLimitExceeded,
    DeadlineExceeded, ...)."""
    message = message or {
        "BackoffLimitExceeded": "Job has reached the specified backoff limit",
        "DeadlineExceeded": "Job was active longer than specified deadline",
    }.get(reason)
    return [
        condition("FailureTarget", reason=reason, message=message, when=when),
        condition("Failed", reason=reason, message=message, when=when),
    ]


def failure_target(
    reason: str = "BackoffLimitExceeded", *, when: datetime.datetime = T0
) -> list[dict[str, Any]]:
    """A Job the controller has decided to fail, before its pods are gone."""
    return [condition("FailureTarget", reason=reason, when=when)]


def batch_job(
    name: str = "j-1",
    *,
    namespace: str = NAMESPACE,
    conditions: Sequence[Mapping[str, Any]] = (),
    start_time: datetime.datetime | None = T0,
    completion_time: datetime.datetime | None = None,
    active: int = 0,
) -> dict[str, Any]:
    """A batch/v1 Job of one attempt."""
    job_status: dict[str, Any] = {"conditions": [dict(c) for c in conditions]}
    if start_time is not None:
        job_status["startTime"] = ts(start_time)
    if completion_time is not None:
        job_status["completionTime"] = ts(completion_time)
    if active:
        job_status["active"] = active
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-job-{name}",
            "labels": {"conveyor.dev/pipelinejob": name.rsplit("-", 1)[0]},
        },
        "status": job_status,
    }


# --- pods -----------------------------------------------------------------------------


def _pod(
    job: str,
    *,
    phase: str,
    container_state: Mapping[str, Any] | None,
    conditions: Sequence[Mapping[str, Any]] = (),
    created: datetime.datetime = T0,
    deleting: bool = False,
    reason: str | None = None,
    suffix: str = "abcde",
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": f"{job}-{suffix}",
        "namespace": NAMESPACE,
        "creationTimestamp": ts(created),
        "labels": {"batch.kubernetes.io/job-name": job, "job-name": job},
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(created)
    pod_status: dict[str, Any] = {"phase": phase, "startTime": ts(created)}
    if conditions:
        pod_status["conditions"] = [dict(c) for c in conditions]
    if container_state is not None:
        pod_status["containerStatuses"] = [
            {"name": "main", "image": "alpine:3.20", "ready": False, "state": dict(container_state)}
        ]
    if reason is not None:
        pod_status["reason"] = reason
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "status": pod_status}


def pod_pending(
    job: str = "j-1",
    *,
    waiting_reason: str | None = None,
    waiting_message: str | None = None,
    created: datetime.datetime = T0,
) -> dict[str, Any]:
    """A scheduled pod whose container has not started (ContainerCreating,
    ImagePullBackOff, ...); without a reason: not even a container status yet."""
    if waiting_reason is None:
        return _pod(job, phase="Pending", container_state=None, created=created)
    waiting: dict[str, Any] = {"reason": waiting_reason}
    if waiting_message is not None:
        waiting["message"] = waiting_message
    return _pod(job, phase="Pending", container_state={"waiting": waiting}, created=created)


def pod_unschedulable(
    job: str = "j-1",
    *,
    message: str = "0/3 nodes are available: 3 Insufficient cpu.",
    created: datetime.datetime = T0,
) -> dict[str, Any]:
    """A pod the scheduler cannot place."""
    scheduled = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
    }
    return _pod(job, phase="Pending", container_state=None, conditions=[scheduled], created=created)


def pod_running(
    job: str = "j-1",
    *,
    started: datetime.datetime = T0,
    created: datetime.datetime = T0,
    deleting: bool = False,
) -> dict[str, Any]:
    return _pod(
        job,
        phase="Running",
        container_state={"running": {"startedAt": ts(started)}},
        created=created,
        deleting=deleting,
    )


def pod_terminated(
    job: str = "j-1",
    *,
    exit_code: int,
    message: str | None = None,
    started: datetime.datetime = T0,
    finished: datetime.datetime = T0,
    created: datetime.datetime = T0,
    deleting: bool = False,
    suffix: str = "abcde",
) -> dict[str, Any]:
    """A pod whose container ended: Succeeded for exit code 0, else Failed."""
    terminated: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": "Completed" if exit_code == 0 else "Error",
        "startedAt": ts(started),
        "finishedAt": ts(finished),
    }
    if message is not None:
        terminated["message"] = message
    return _pod(
        job,
        phase="Succeeded" if exit_code == 0 else "Failed",
        container_state={"terminated": terminated},
        created=created,
        deleting=deleting,
        suffix=suffix,
    )


def pod_succeeded(
    job: str = "j-1",
    *,
    message: str | None = None,
    started: datetime.datetime = T0,
    finished: datetime.datetime = T0,
    deleting: bool = False,
) -> dict[str, Any]:
    return pod_terminated(
        job, exit_code=0, message=message, started=started, finished=finished, deleting=deleting
    )


def pod_failed(
    job: str = "j-1",
    *,
    exit_code: int = 1,
    message: str | None = None,
    started: datetime.datetime = T0,
    finished: datetime.datetime = T0,
    deleting: bool = False,
) -> dict[str, Any]:
    return pod_terminated(
        job,
        exit_code=exit_code,
        message=message,
        started=started,
        finished=finished,
        deleting=deleting,
    )
