"""What an attempt's batch/v1 Job and its pod say, reduced to what the state
machine needs.

Pure: no I/O. Takes API bodies as plain mappings.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

# The termination message is capped by the kubelet at 4 KiB; we accept no more.
MAX_OUTPUTS_BYTES = 4096


class Phase(enum.StrEnum):
    MISSING = "Missing"  # no Job (not created yet, or deleted)
    PENDING = "Pending"  # Job exists, pod not running yet
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Observation:
    phase: Phase
    # Why the pod is not running yet: ImagePullBackOff, Unschedulable, ...
    waiting_reason: str | None = None
    waiting_message: str | None = None
    pod: str | None = None
    pod_created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    # PodFailed or DeadlineExceeded (the Job controller's reason), for failures.
    failure_reason: str | None = None
    failure_message: str | None = None
    termination_message: str | None = None


def _condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == type_ and cond.get("status") == "True":
            return dict(cond)
    return None


# The container that is the job; others (sidecars) are ignored everywhere.
MAIN_CONTAINER = "main"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Waiting:
    """Why a pod is not running yet: ImagePullBackOff, Unschedulable, ..."""

    reason: str
    message: str | None = None


def _main_container_status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for status in statuses:
        if status.get("name") == MAIN_CONTAINER:
            return dict(status)
    return dict(statuses[0]) if statuses else {}


def _init_container(pod: Mapping[str, Any], *, state: str) -> tuple[str, Mapping[str, Any]] | None:
    """The first init container in `state` ("waiting", or "terminated" with a
    non-zero exit code): what holds the main container back (a checkout that
    cannot pull its image, a build step that failed)."""
    for status in (pod.get("status") or {}).get("initContainerStatuses") or ():
        found = (status.get("state") or {}).get(state) or {}
        if state == "waiting" and found.get("reason"):
            return str(status.get("name") or "init"), found
        if state == "terminated" and found.get("exitCode") not in (None, 0):
            return str(status.get("name") or "init"), found
    return None


def waiting(pod: Mapping[str, Any]) -> Waiting | None:
    """The pod's waiting reason, as the operator and `conveyor why` both read it:
    the main container's (a sidecar's never counts) unless an init container
    holds it back (then that one's, named), else the scheduler's."""
    state = _main_container_status(pod).get("state") or {}
    reason = (state.get("waiting") or {}).get("reason")
    held = _init_container(pod, state="waiting") if reason in (None, "PodInitializing") else None
    if held is not None:
        name, init = held
        detail = f": {init['message']}" if init.get("message") else ""
        return Waiting(reason=str(init["reason"]), message=f"init container {name}{detail}")
    if reason:
        return Waiting(reason=reason, message=state["waiting"].get("message"))
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return Waiting(
                reason=cond.get("reason") or "Unschedulable", message=cond.get("message")
            )
    return None


def latest_pod(pods: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest pod of a Job (a deleted pod may linger beside its replacement)."""
    if not pods:
        return None
    return max(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")


def summarize(*, job: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]]) -> Observation:
    """Reduce a Job and its pods to one Observation.

    The Job decides when an attempt is over (its Complete or Failed condition,
    so a slot is never reused while the Job controller still counts the Job
    as active); the pod gives the details: waiting reason, exit code,
    termination message.
    """
    if job is None:
        return Observation(phase=Phase.MISSING)
    job_status = job.get("status") or {}
    pod = latest_pod(pods)
    pod_name = (pod.get("metadata") or {}).get("name") if pod else None
    from_pod = _from_pod(pod, pod_name=pod_name) if pod is not None else None
    started = job_status.get("startTime")

    if _condition(job, "Failed") or _condition(job, "FailureTarget"):
        return _failed(job=job, pod=pod, pod_name=pod_name, from_pod=from_pod, started=started)

    if _condition(job, "Complete") or _condition(job, "SuccessCriteriaMet"):
        if from_pod is not None and from_pod.phase is Phase.SUCCEEDED:
            return from_pod
        if (lagging := _pod_lags(pod=pod, from_pod=from_pod)) is not None:
            return lagging
        return Observation(
            phase=Phase.SUCCEEDED,
            pod=pod_name,
            started_at=started,
            finished_at=job_status.get("completionTime"),
        )

    if from_pod is None:
        return Observation(phase=Phase.PENDING, pod=pod_name)
    if from_pod.phase in (Phase.SUCCEEDED, Phase.FAILED):
        # The pod is done but the Job controller has not said so yet: the
        # slot is still taken until it does.
        return dataclasses.replace(from_pod, phase=Phase.RUNNING)
    return from_pod


def _failed(
    *,
    job: Mapping[str, Any],
    pod: Mapping[str, Any] | None,
    pod_name: str | None,
    from_pod: Observation | None,
    started: str | None,
) -> Observation:
    """A Job the Job controller failed (Failed), or is failing (FailureTarget)."""
    final = _condition(job, "Failed")
    failed = final or _condition(job, "FailureTarget")
    assert failed is not None
    # FailureTarget comes before the Job controller has stopped the pod:
    # the slot stays taken until the pod is going or gone.
    pod_stopping = (
        pod is None
        or _gone(pod)
        or (from_pod is not None and from_pod.phase in (Phase.SUCCEEDED, Phase.FAILED))
    )
    if final is None and not pod_stopping and from_pod is not None:
        return dataclasses.replace(from_pod, phase=Phase.RUNNING)
    if failed.get("reason") == "DeadlineExceeded":
        return Observation(
            phase=Phase.FAILED,
            pod=pod_name,
            started_at=started,
            finished_at=failed.get("lastTransitionTime"),
            failure_reason="DeadlineExceeded",
            failure_message=failed.get("message"),
        )
    if from_pod is not None and from_pod.phase is Phase.FAILED:
        return from_pod
    if (lagging := _pod_lags(pod=pod, from_pod=from_pod)) is not None:
        return lagging
    return Observation(
        phase=Phase.FAILED,
        pod=pod_name,
        started_at=started,
        finished_at=failed.get("lastTransitionTime"),
        failure_reason="PodFailed",
        failure_message=failed.get("message") or failed.get("reason"),
    )


def _pod_lags(*, pod: Mapping[str, Any] | None, from_pod: Observation | None) -> Observation | None:
    """The Job has its verdict but its live pod's own event is still to come:
    RUNNING until it does (the slot stays taken)."""
    if from_pod is not None and pod is not None and not _gone(pod):
        return dataclasses.replace(from_pod, phase=Phase.RUNNING)
    return None


def _gone(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def _from_pod(pod: Mapping[str, Any], *, pod_name: str | None) -> Observation | None:
    status = pod.get("status") or {}
    phase = status.get("phase")
    container = _main_container_status(pod)
    state = container.get("state") or {}
    if phase == "Failed" and not state.get("terminated"):
        failed_init = _init_container(pod, state="terminated")
        if failed_init is not None:
            return _init_failed(pod, pod_name=pod_name, name=failed_init[0], ended=failed_init[1])
    if phase in ("Succeeded", "Failed"):
        terminated = state.get("terminated") or {}
        exit_code = terminated.get("exitCode")
        succeeded = phase == "Succeeded"
        return Observation(
            phase=Phase.SUCCEEDED if succeeded else Phase.FAILED,
            pod=pod_name,
            started_at=terminated.get("startedAt") or status.get("startTime"),
            finished_at=terminated.get("finishedAt"),
            exit_code=exit_code if isinstance(exit_code, int) else None,
            failure_reason=None if succeeded else "PodFailed",
            failure_message=None
            if succeeded
            else (terminated.get("reason") or status.get("reason")),
            termination_message=terminated.get("message") or None,
        )
    if phase == "Running":
        running = state.get("running") or {}
        return Observation(
            phase=Phase.RUNNING,
            pod=pod_name,
            started_at=running.get("startedAt") or status.get("startTime"),
        )
    created = (pod.get("metadata") or {}).get("creationTimestamp")
    why = waiting(pod)
    if why is not None:
        return Observation(
            phase=Phase.PENDING,
            pod=pod_name,
            pod_created_at=created,
            waiting_reason=why.reason,
            waiting_message=why.message,
        )
    return Observation(phase=Phase.PENDING, pod=pod_name, pod_created_at=created)


def _init_failed(
    pod: Mapping[str, Any], *, pod_name: str | None, name: str, ended: Mapping[str, Any]
) -> Observation:
    """The pod failed before its main container ran: the init container, its
    exit code and reason in the message (the job's exit code is the main
    container's, which never ran; its termination message is not outputs)."""
    why = f" ({ended['reason']})" if ended.get("reason") else ""
    return Observation(
        phase=Phase.FAILED,
        pod=pod_name,
        started_at=ended.get("startedAt") or (pod.get("status") or {}).get("startTime"),
        finished_at=ended.get("finishedAt"),
        failure_reason="PodFailed",
        failure_message=f"init container {name} exited with code {ended.get('exitCode')}{why}",
    )


def outputs(*, termination_message: str | None) -> tuple[dict[str, Any], str | None]:
    """Parse a termination message into status.outputs.

    Returns the outputs and, when the message was not usable, a sentence why
    (the job still succeeds: outputs are a bonus, not the result).
    """
    if not termination_message:
        return {}, None
    if len(termination_message.encode()) > MAX_OUTPUTS_BYTES:
        return {}, f"termination message is over {MAX_OUTPUTS_BYTES} bytes; outputs ignored"
    try:
        parsed = json.loads(termination_message)
    except ValueError:
        return {}, "termination message is not JSON; outputs ignored"
    if not isinstance(parsed, dict):
        return {}, "termination message is not a JSON object; outputs ignored"
    return parsed, None
