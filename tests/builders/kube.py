"""batch/v1 Jobs and pods as the Job controller and the kubelet write them."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import names
from conveyor.k8s import login
from tests.builders.clock import NAMESPACE, T0, ts

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
            "labels": {names.LABEL_PIPELINEJOB: name.rsplit("-", 1)[0]},
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
        "labels": {names.LABEL_JOB_NAME: job, "job-name": job},
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


def with_init_container(
    pod: dict[str, Any], *, name: str, state: Mapping[str, Any]
) -> dict[str, Any]:
    """`pod` with an init container `name` in `state` (e.g. {"waiting": {...}}),
    listed after any added before it."""
    statuses = pod["status"].setdefault("initContainerStatuses", [])
    statuses.append({"name": name, "image": "conveyor-agent:1", "state": dict(state)})
    return pod


class StaticLogin(login.Source):
    """Credentials for a fake API server: fixed, never loaded from a kubeconfig."""

    def __init__(self, server: str) -> None:
        super().__init__()
        self._fixed = login.Credentials(server=server, namespace="default")

    def current(self) -> login.Credentials:
        return self._fixed

    def renew(self, *, stale: login.Credentials | None) -> login.Credentials:
        return self._fixed
