"""lifecycle: one PipelineJob's next status, from its spec, its status and what
its current attempt's batch/v1 Job and pod show.

Each case is a situation (the PipelineJob as the API shows it, its Job and pods,
the time) and what the state machine must decide: the next state, reason and
message, the effects (create or delete a Job, delete the PipelineJob, wait for
a slot, look again later) and the Events a person sees in `kubectl describe`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from conveyor.core import attempts, lifecycle, model, observe
from tests import builders as b

State = model.State
Reason = model.Reason
T0 = b.T0
DIGEST = {"digest": "sha256:" + "a" * 64}


# --- the situations ------------------------------------------------------------------


def queued() -> b.PipelineJob:
    """Seen by the operator, waiting for a slot."""
    return b.pipelinejob().state("IN-QUEUE").reason("Queued")


def _failed_before(attempt: int) -> list[dict[str, Any]]:
    return [
        b.attempt_entry(n, start=T0, finish=T0, result="FAILED", reason="PodFailed")
        for n in range(1, attempt)
    ]


def starting(attempt: int = 1) -> b.PipelineJob:
    """Admitted: its Job is created (or about to be), its pod not running yet."""
    return (
        b.pipelinejob()
        .state("IN-QUEUE")
        .reason("Starting")
        .assigned("build")
        .attempt(attempt)
        .attempts([*_failed_before(attempt), b.attempt_entry(attempt)])
    )


def running(attempt: int = 1) -> b.PipelineJob:
    """Its pod is running."""
    return (
        b.pipelinejob()
        .state("RUNNING")
        .reason("Running")
        .assigned("build")
        .attempt(attempt)
        .started_at(T0)
        .attempts([*_failed_before(attempt), b.attempt_entry(attempt, start=T0)])
    )


def backing_off(*, until: datetime.datetime) -> b.PipelineJob:
    """Attempt 1 failed; waiting out the retry backoff."""
    failed = b.attempt_entry(
        1, start=T0, finish=T0, result="FAILED", reason="PodFailed", exit_code=1
    )
    return (
        b.pipelinejob()
        .state("IN-QUEUE")
        .reason("RetryBackoff")
        .assigned("build")
        .attempt(1)
        .started_at(T0)
        .next_attempt_at(until)
        .attempts([failed])
    )


def finished(state: str = "SUCCESS", *, at: datetime.datetime = T0) -> b.PipelineJob:
    reason = {"SUCCESS": "Succeeded", "FAILED": "PodFailed", "REVOKED": "Revoked"}[state]
    return (
        b.pipelinejob()
        .state(state)
        .reason(reason)
        .assigned("build")
        .attempt(1)
        .started_at(T0)
        .finished_at(at)
        .attempts([b.attempt_entry(1, start=T0, finish=at, result=state, reason=reason)])
    )


JOB = b.batch_job("j-1")
COMPLETE = b.batch_job("j-1", conditions=b.complete(when=b.at(60)), completion_time=b.at(60))
FAILED = b.batch_job("j-1", conditions=b.failed("BackoffLimitExceeded", when=b.at(30)))
DEADLINE = b.batch_job("j-1", conditions=b.failed("DeadlineExceeded", when=b.at(1800)))


def succeeded_with(message: str | None) -> tuple[dict[str, Any], ...]:
    return (b.pod_succeeded(message=message, started=b.at(2), finished=b.at(59)),)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    id: str
    job: model.PipelineJob
    now: datetime.datetime = T0
    k8s_job: Mapping[str, Any] | None = None
    pods: Sequence[Mapping[str, Any]] = ()
    # What must come out:
    state: State
    reason: str
    message: Sequence[str] = ()  # fragments of status.message
    wants_admission: bool = False
    create_job: bool = False
    delete_job: str | None = None
    delete_pipelinejob: bool = False
    wake_at: datetime.datetime | None = None
    events: Sequence[tuple[str, str]] = ()  # (type, reason) in order
    status: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # JobStatus fields
    last_attempt: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # Attempt fields


CASES = [
    # -- waiting for a slot -----------------------------------------------------------
    Case(
        id="new job: IN-QUEUE/Queued, wants a slot",
        job=b.pipelinejob().model(),
        now=b.at(1),
        state=State.IN_QUEUE,
        reason=Reason.QUEUED,
        message=["waiting to be scheduled"],
        wants_admission=True,
        events=[],  # no Queued Event: the status says why it waits
        status={"queued_at": b.ts(b.at(1)), "attempt": 0, "job": None, "attempts": ()},
    ),
    Case(
        id="already queued: still wants a slot, the scheduler's reason kept, no event",
        job=b.pipelinejob()
        .state("IN-QUEUE")
        .reason("ConcurrencyLimit")
        .message("2 of 2 busy")
        .model(),
        state=State.IN_QUEUE,
        reason=Reason.CONCURRENCY_LIMIT,
        message=["2 of 2 busy"],
        wants_admission=True,
    ),
    Case(
        id="startAt in the future: Delayed, look again then",
        job=b.pipelinejob().start_at(b.at(minutes=10)).model(),
        state=State.IN_QUEUE,
        reason=Reason.DELAYED,
        message=["delayed start", "2026-01-01T12:10:00Z", "in 10m"],
        wake_at=b.at(minutes=10),
        events=[],  # no Queued Event: the status says why it waits
    ),
    Case(
        id="startAt reached: wants a slot",
        job=queued().start_at(b.at(minutes=10)).model(),
        now=b.at(minutes=10),
        state=State.IN_QUEUE,
        reason=Reason.QUEUED,
        wants_admission=True,
    ),
    # -- starting -----------------------------------------------------------------------
    Case(
        id="admitted, its Job missing: create it",
        job=starting().model(),
        state=State.IN_QUEUE,
        reason=Reason.STARTING,
        create_job=True,
        status={"job": "j-1", "attempt": 1},
    ),
    Case(
        id="Starting, no pod yet: waiting for its pod",
        job=starting().model(),
        k8s_job=JOB,
        state=State.IN_QUEUE,
        reason=Reason.STARTING,
        message=["Job j-1 created; waiting for its pod to start"],
    ),
    Case(
        id="Starting, image pull failing: the message carries the waiting reason",
        job=starting().model(),
        k8s_job=JOB,
        pods=[
            b.pod_pending(
                waiting_reason="ImagePullBackOff", waiting_message='Back-off pulling image "nope:1"'
            )
        ],
        state=State.IN_QUEUE,
        reason=Reason.STARTING,
        message=["j-1", "ImagePullBackOff", 'Back-off pulling image "nope:1"'],
    ),
    Case(
        id="Starting, unschedulable: the message says why",
        job=starting().model(),
        k8s_job=JOB,
        pods=[b.pod_unschedulable(message="0/3 nodes are available: 3 Insufficient cpu.")],
        state=State.IN_QUEUE,
        reason=Reason.STARTING,
        message=["Unschedulable", "Insufficient cpu"],
    ),
    # -- running ------------------------------------------------------------------------
    Case(
        id="RUNNING, its pod deleted and a new one pending: says the pod is being replaced",
        job=running().model(),
        k8s_job=JOB,
        pods=[b.pod_pending()],
        state=State.RUNNING,
        reason=Reason.RUNNING,
        message=["the pod of Job j-1 is gone; waiting for its replacement to start"],
    ),
    Case(
        id="pod running: RUNNING with startedAt and the attempt's start",
        job=starting().retry_limit(2).model(),
        now=b.at(5),
        k8s_job=JOB,
        pods=[b.pod_running(started=b.at(3))],
        state=State.RUNNING,
        reason=Reason.RUNNING,
        message=["attempt 1 of 3 running in pod j-1-abcde"],
        events=[],  # no Started Event: RUNNING is in the status
        status={"started_at": b.ts(b.at(3)), "finished_at": None},
        last_attempt={"start": b.ts(b.at(3)), "result": None},
    ),
    Case(
        id="second attempt running: startedAt of the job stays the first start",
        job=b.pipelinejob()
        .state("IN-QUEUE")
        .reason("Starting")
        .retry_limit(1)
        .attempt(2)
        .started_at(T0)
        .attempts(
            [
                b.attempt_entry(1, start=T0, finish=b.at(9), result="FAILED"),
                b.attempt_entry(2),
            ]
        )
        .model(),
        now=b.at(40),
        k8s_job=b.batch_job("j-2"),
        pods=[b.pod_running("j-2", started=b.at(40))],
        state=State.RUNNING,
        reason=Reason.RUNNING,
        message=["attempt 2 of 2"],
        events=[],  # no Started Event: RUNNING is in the status
        status={"started_at": b.ts(T0)},
        last_attempt={"attempt": 2, "job": "j-2", "start": b.ts(b.at(40))},
    ),
    Case(
        id="still running: nothing changes, no event",
        job=running().model(),
        now=b.at(30),
        k8s_job=JOB,
        pods=[b.pod_running()],
        state=State.RUNNING,
        reason=Reason.RUNNING,
    ),
    Case(
        id="pod done but the Job not marked yet: still RUNNING",
        job=running().model(),
        k8s_job=JOB,
        pods=[b.pod_succeeded()],
        state=State.RUNNING,
        reason=Reason.RUNNING,
    ),
    # -- success ------------------------------------------------------------------------
    Case(
        id="Job Complete, pod Succeeded with a JSON object: SUCCESS with outputs",
        job=running().model(),
        now=b.at(61),
        k8s_job=COMPLETE,
        pods=succeeded_with(json.dumps(DIGEST)),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        message=["attempt 1 succeeded"],
        events=[("Normal", "Succeeded")],
        status={"outputs": DIGEST, "finished_at": b.ts(b.at(59)), "started_at": b.ts(T0)},
        last_attempt={
            "result": "SUCCESS",
            "reason": "Succeeded",
            "exit_code": 0,
            "finish": b.ts(b.at(59)),
            "start": b.ts(T0),
        },
    ),
    Case(
        id="SUCCESS without a termination message: no outputs, no note",
        job=running().model(),
        k8s_job=COMPLETE,
        pods=succeeded_with(None),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        message=["attempt 1 succeeded"],
        events=[("Normal", "Succeeded")],
        status={"outputs": {}, "message": "attempt 1 succeeded"},
    ),
    Case(
        id="termination message not JSON: SUCCESS, no outputs, a note",
        job=running().model(),
        k8s_job=COMPLETE,
        pods=succeeded_with("all done"),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        message=["attempt 1 succeeded", "not JSON"],
        events=[("Normal", "Succeeded")],
        status={"outputs": {}},
    ),
    Case(
        id="termination message a JSON array: SUCCESS, no outputs, a note",
        job=running().model(),
        k8s_job=COMPLETE,
        pods=succeeded_with("[1, 2, 3]"),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        message=["attempt 1 succeeded", "not a JSON object"],
        events=[("Normal", "Succeeded")],
        status={"outputs": {}},
    ),
    Case(
        id="termination message over 4 KiB: SUCCESS, no outputs, a note",
        job=running().model(),
        k8s_job=COMPLETE,
        pods=succeeded_with(json.dumps({"log": "x" * 5000})),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        message=["attempt 1 succeeded", "4096 bytes"],
        events=[("Normal", "Succeeded")],
        status={"outputs": {}},
    ),
    Case(
        id="Starting straight to SUCCESS (pod never seen running): start from the pod",
        job=starting().model(),
        now=b.at(61),
        k8s_job=COMPLETE,
        pods=succeeded_with(None),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        events=[("Normal", "Succeeded")],
        status={"started_at": b.ts(b.at(2)), "finished_at": b.ts(b.at(59))},
        last_attempt={"start": b.ts(b.at(2)), "finish": b.ts(b.at(59)), "result": "SUCCESS"},
    ),
    # -- failure and retry --------------------------------------------------------------
    Case(
        id="pod failed exit 1, retries left: IN-QUEUE/RetryBackoff until now + backoff",
        job=running().retry_limit(2).backoff({"delay": "10s"}).model(),
        now=b.at(31),
        k8s_job=FAILED,
        pods=[b.pod_failed(exit_code=1, finished=b.at(30))],
        state=State.IN_QUEUE,
        reason=Reason.RETRY_BACKOFF,
        message=[
            "attempt 1 of 3 failed (exit code 1)",
            "next attempt at 2026-01-01T12:00:41Z (in 10s)",
        ],
        wake_at=b.at(41),
        events=[("Warning", "Retrying")],
        status={"next_attempt_at": b.ts(b.at(41)), "finished_at": None, "attempt": 1},
        last_attempt={
            "result": "FAILED",
            "reason": "PodFailed",
            "exit_code": 1,
            "finish": b.ts(b.at(30)),
        },
    ),
    Case(
        id="second failure: the backoff has grown by the factor",
        job=running(attempt=2).retry_limit(2).backoff({"delay": "10s", "factor": 3}).model(),
        now=b.at(100),
        k8s_job=b.batch_job("j-2", conditions=b.failed()),
        pods=[b.pod_failed("j-2", exit_code=1)],
        state=State.IN_QUEUE,
        reason=Reason.RETRY_BACKOFF,
        message=["attempt 2 of 3 failed", "in 30s"],
        wake_at=b.at(130),
        events=[("Warning", "Retrying")],
        status={"next_attempt_at": b.ts(b.at(130))},
    ),
    Case(
        id="waiting out the backoff: no slot wanted, look again when it ends",
        job=backing_off(until=b.at(41)).retry_limit(2).model(),
        now=b.at(35),
        k8s_job=FAILED,
        pods=[b.pod_failed()],
        state=State.IN_QUEUE,
        reason=Reason.RETRY_BACKOFF,
        wake_at=b.at(41),
    ),
    Case(
        id="backoff over: wants a slot for the next attempt",
        job=backing_off(until=b.at(41)).retry_limit(2).model(),
        now=b.at(41),
        k8s_job=FAILED,
        pods=[b.pod_failed()],
        state=State.IN_QUEUE,
        reason=Reason.RETRY_BACKOFF,
        wants_admission=True,
    ),
    Case(
        id="last attempt failed: FAILED/RetriesExhausted",
        job=running(attempt=3).retry_limit(2).model(),
        now=b.at(31),
        k8s_job=b.batch_job("j-3", conditions=b.failed()),
        pods=[b.pod_failed("j-3", exit_code=2, finished=b.at(30))],
        state=State.FAILED,
        reason=Reason.RETRIES_EXHAUSTED,
        message=["all 3 attempts failed", "exit code 2"],
        events=[("Warning", "Failed")],
        status={"finished_at": b.ts(b.at(30)), "next_attempt_at": None},
        last_attempt={"attempt": 3, "result": "FAILED", "reason": "PodFailed", "exit_code": 2},
    ),
    Case(
        id="no retries, pod failed: FAILED/PodFailed with the exit code",
        job=running().model(),
        now=b.at(31),
        k8s_job=FAILED,
        pods=[b.pod_failed(exit_code=1, finished=b.at(30))],
        state=State.FAILED,
        reason=Reason.POD_FAILED,
        message=["attempt 1 failed: exit code 1"],
        events=[("Warning", "Failed")],
        status={"finished_at": b.ts(b.at(30))},
        last_attempt={"result": "FAILED", "reason": "PodFailed", "exit_code": 1},
    ),
    Case(
        id="no retries, Job failed without a pod: FAILED/PodFailed with the Job's word",
        job=running().model(),
        now=b.at(31),
        k8s_job=FAILED,
        state=State.FAILED,
        reason=Reason.POD_FAILED,
        message=["backoff limit"],
        events=[("Warning", "Failed")],
    ),
    Case(
        id="timeout: FAILED/DeadlineExceeded naming the timeout",
        job=running().timeout("30m").model(),
        now=b.at(1801),
        k8s_job=DEADLINE,
        pods=[b.pod_running()],
        state=State.FAILED,
        reason=Reason.DEADLINE_EXCEEDED,
        message=["timeout 30m"],
        events=[("Warning", "Failed")],
        status={"finished_at": b.ts(b.at(1800))},
        last_attempt={"result": "FAILED", "reason": "DeadlineExceeded", "exit_code": None},
    ),
    Case(
        id="timeout with retries left: retried",
        job=running().timeout("1m30s").retry_limit(1).model(),
        now=b.at(91),
        k8s_job=DEADLINE,
        state=State.IN_QUEUE,
        reason=Reason.RETRY_BACKOFF,
        message=["timeout 1m30s"],
        wake_at=b.at(96),
        events=[("Warning", "Retrying")],
        last_attempt={"reason": "DeadlineExceeded"},
    ),
    Case(
        id="RUNNING and its Job gone: JobLost, a failed attempt, not a second Job",
        job=running().model(),
        now=b.at(20),
        state=State.FAILED,
        reason=Reason.JOB_LOST,
        message=["Job j-1 was deleted while running"],
        events=[("Warning", "Failed")],
        status={"finished_at": b.ts(b.at(20))},
        last_attempt={"result": "FAILED", "reason": "JobLost"},
    ),
    Case(
        id="RUNNING and its Job gone, retries left: retried",
        job=running().retry_limit(1).model(),
        now=b.at(20),
        state=State.IN_QUEUE,
        reason=Reason.RETRY_BACKOFF,
        message=["Job j-1 was deleted while running"],
        wake_at=b.at(25),
        events=[("Warning", "Retrying")],
        last_attempt={"result": "FAILED", "reason": "JobLost"},
    ),
    # -- revoke -------------------------------------------------------------------------
    Case(
        id="revoked while queued: REVOKED at once, no Job to stop",
        job=queued().revoke(True).model(),
        now=b.at(3),
        state=State.REVOKED,
        reason=Reason.REVOKED,
        message=["revoked", "before it started"],
        events=[("Normal", "Revoked")],
        status={"finished_at": b.ts(b.at(3)), "attempts": ()},
    ),
    Case(
        id="revoked while waiting out a backoff: no Job to stop",
        job=backing_off(until=b.at(41)).retry_limit(2).revoke(True).model(),
        now=b.at(35),
        state=State.REVOKED,
        reason=Reason.REVOKED,
        events=[("Normal", "Revoked")],
        status={"next_attempt_at": None},
        last_attempt={"result": "FAILED"},
    ),
    Case(
        id="revoked while starting: REVOKED, its Job stopped",
        job=starting().revoke(True).model(),
        k8s_job=JOB,
        state=State.REVOKED,
        reason=Reason.REVOKED,
        delete_job="j-1",
        events=[("Normal", "Revoked")],
    ),
    Case(
        id="revoked while running: REVOKED, its Job stopped, the attempt closed",
        job=running().revoke(True).model(),
        now=b.at(10),
        k8s_job=JOB,
        pods=[b.pod_running()],
        state=State.REVOKED,
        reason=Reason.REVOKED,
        message=["revoked", "stopped"],
        delete_job="j-1",
        events=[("Normal", "Revoked")],
        status={"finished_at": b.ts(b.at(10))},
        last_attempt={"result": "REVOKED", "reason": "Revoked", "finish": b.ts(b.at(10))},
    ),
    # -- invalid spec -------------------------------------------------------------------
    Case(
        id="params missing a field: FAILED/InvalidSpec naming it",
        job=b.pipelinejob().params({"command": ["true"]}).model(),
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=["spec.params.image"],
        events=[("Warning", "Failed")],
        status={"finished_at": b.ts(T0)},
    ),
    Case(
        id="an unknown param: FAILED/InvalidSpec naming it",
        job=queued().params({**b.CUSTOM_PARAMS, "imgae": "alpine"}).model(),
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=["spec.params.imgae"],
        events=[("Warning", "Failed")],
    ),
    Case(
        id="an unknown job type: FAILED/InvalidSpec naming spec.type",
        job=queued().type("no-such-type").model(),
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=["spec.type"],
        events=[("Warning", "Failed")],
    ),
    Case(
        id="a malformed timeout: FAILED/InvalidSpec naming spec.timeout",
        job=queued().timeout("half an hour").model(),
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=["spec.timeout"],
        events=[("Warning", "Failed")],
    ),
    Case(
        id="a retry limit below 0: FAILED/InvalidSpec naming spec.retry.limit",
        job=queued().retry_limit(-1).model(),
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=["spec.retry.limit"],
        events=[("Warning", "Failed")],
    ),
    Case(
        id="params made invalid while running: FAILED/InvalidSpec, its Job stopped",
        job=running().params({"image": ""}).model(),
        k8s_job=JOB,
        pods=[b.pod_running()],
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=["spec.params.image"],
        delete_job="j-1",
        events=[("Warning", "Failed")],
        last_attempt={"result": "FAILED", "reason": "InvalidSpec"},
    ),
    # -- finished -----------------------------------------------------------------------
    Case(
        id="finished, no ttlAfterFinished: kept, nothing to do",
        job=finished("SUCCESS").model(),
        now=b.at(hours=100),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
    ),
    Case(
        id="finished with ttlAfterFinished: look again when it is due",
        job=finished("FAILED").ttl("1h").model(),
        now=b.at(60),
        state=State.FAILED,
        reason=Reason.POD_FAILED,
        wake_at=b.at(hours=1),
    ),
    Case(
        id="ttlAfterFinished passed: delete the PipelineJob",
        job=finished("SUCCESS").ttl("1h").model(),
        now=b.at(hours=1),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        delete_pipelinejob=True,
    ),
    Case(
        id="ttlAfterFinished 0s: delete at once",
        job=finished("REVOKED").ttl("0s").model(),
        state=State.REVOKED,
        reason=Reason.REVOKED,
        delete_pipelinejob=True,
    ),
    Case(
        id="finished is final: a later revoke changes nothing",
        job=finished("FAILED").revoke(True).model(),
        state=State.FAILED,
        reason=Reason.POD_FAILED,
    ),
    Case(
        id="finished is final: params made invalid later change nothing",
        job=finished("SUCCESS").params({"image": ""}).model(),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
    ),
    # -- delay jobs (the operator waits itself: no worker, no Job, no pod) -------------
    Case(
        id="delay job, new: RUNNING/Delayed until now + duration",
        job=b.pipelinejob().type("delay").model(),
        now=b.at(1),
        state=State.RUNNING,
        reason=Reason.DELAYED,
        message=["2026-01-01T12:00:06Z", "in 5s"],
        wake_at=b.at(6),
        events=[],
        status={"started_at": b.ts(b.at(1)), "attempt": 1, "worker": None},
    ),
    Case(
        id="delay job, waiting: look again when the duration is over",
        job=b.pipelinejob().type("delay").state("RUNNING").reason("Delayed").started_at(T0).model(),
        now=b.at(3),
        state=State.RUNNING,
        reason=Reason.DELAYED,
        wake_at=b.at(5),
    ),
    Case(
        id="delay job, duration over: SUCCESS",
        job=b.pipelinejob().type("delay").state("RUNNING").reason("Delayed").started_at(T0).model(),
        now=b.at(5),
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        message=["waited 5s"],
        events=[("Normal", "Succeeded")],
        status={"finished_at": b.ts(b.at(5)), "started_at": b.ts(T0)},
    ),
    Case(
        id="delay job with startAt: IN-QUEUE/Delayed until then",
        job=b.pipelinejob().type("delay").start_at(b.at(minutes=1)).model(),
        state=State.IN_QUEUE,
        reason=Reason.DELAYED,
        wake_at=b.at(minutes=1),
        events=[],  # no Queued Event: the status says why it waits
    ),
    Case(
        id="delay job with a malformed duration: FAILED/InvalidSpec naming it",
        job=b.pipelinejob().type("delay").params({"duration": "soon"}).model(),
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=["spec.params.duration"],
        events=[("Warning", "Failed")],
    ),
    Case(
        id="delay job revoked while waiting: REVOKED, no Job to stop",
        job=b.pipelinejob()
        .type("delay")
        .state("RUNNING")
        .reason("Delayed")
        .started_at(T0)
        .revoke(True)
        .model(),
        now=b.at(2),
        state=State.REVOKED,
        reason=Reason.REVOKED,
        events=[("Normal", "Revoked")],
    ),
]


def observation(
    job: model.PipelineJob, k8s_job: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]]
) -> observe.Observation | None:
    """What the operator passes in: the summary of status.job, None without one."""
    return observe.summarize(job=k8s_job, pods=pods) if job.status.job else None


def advance(case: Case, job: model.PipelineJob | None = None) -> lifecycle.Step:
    job = job or case.job
    return lifecycle.advance(
        job=job, observation=observation(job, case.k8s_job, case.pods), now=case.now
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_advance(case: Case) -> None:
    step = advance(case)
    new = step.status

    assert (new.state, new.reason) == (case.state, case.reason)
    for fragment in case.message:
        assert fragment in (new.message or ""), f"{fragment!r} not in {new.message!r}"
    assert {
        "wants_admission": step.wants_admission,
        "create_job": step.create_job,
        "delete_job": step.delete_job,
        "delete_pipelinejob": step.delete_pipelinejob,
        "wake_at": step.wake_at,
    } == {
        "wants_admission": case.wants_admission,
        "create_job": case.create_job,
        "delete_job": case.delete_job,
        "delete_pipelinejob": case.delete_pipelinejob,
        "wake_at": case.wake_at,
    }
    assert [(e.type, e.reason) for e in step.events] == list(case.events)
    for field, value in case.status.items():
        assert getattr(new, field) == value, field
    for field, value in case.last_attempt.items():
        assert new.attempts, "no attempt recorded"
        assert getattr(new.attempts[-1], field) == value, f"attempts[-1].{field}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_advance_keeps_a_slot_exactly_while_admitted(case: Case) -> None:
    new = advance(case).status
    admitted = new.state is State.RUNNING or new.reason == Reason.STARTING
    assert new.holds_slot is admitted
    if new.state is not None and new.state.finished:
        assert new.finished_at is not None
        assert new.next_attempt_at is None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_event_message_is_a_sentence(case: Case) -> None:
    for event in advance(case).events:
        assert event.message
        assert event.type == "Normal" or event.reason in ("Failed", "Retrying")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_status_reads_back_as_written(case: Case) -> None:
    """The status is the only state: what is written must parse back the same."""
    new = advance(case).status
    back = model.JobStatus.from_dict(b.persisted(new, generation=case.job.meta.generation))
    assert back == dataclasses.replace(new, observed_generation=case.job.meta.generation)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_advancing_again_changes_nothing_and_says_nothing(case: Case) -> None:
    """Re-deriving from the written status (after a restart, or a repeated event)
    decides the same: no second Event, no second failure counted."""
    first = advance(case)
    again = advance(case, b.with_status(case.job, first.status))
    assert b.persisted(again.status) == b.persisted(first.status)
    assert again.events == ()
    assert again.wants_admission == first.wants_admission
    if first.status.state is not None and not first.status.state.finished:
        assert again.wake_at == first.wake_at


# --- admission ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "attempt", "name"),
    [
        pytest.param(queued().model(), 1, "j-1", id="first attempt"),
        pytest.param(
            backing_off(until=T0).retry_limit(3).model(), 2, "j-2", id="after one failure"
        ),
        pytest.param(
            b.pipelinejob("api-build-42").state("IN-QUEUE").reason("Queued").model(),
            1,
            "api-build-42-1",
            id="named after the PipelineJob",
        ),
    ],
)
def test_admit_starts_the_next_attempt(job: model.PipelineJob, attempt: int, name: str) -> None:
    step = lifecycle.admit(job=job, worker="build", now=b.at(50))
    new = step.status
    assert step.create_job
    assert (new.state, new.reason) == (State.IN_QUEUE, Reason.STARTING)
    assert new.holds_slot
    assert new.attempt == attempt
    assert new.job == name
    assert new.worker == "build"
    assert new.next_attempt_at is None
    assert new.queued_at == job.status.queued_at
    assert name in (new.message or "")
    assert len(new.attempts) == attempt
    assert new.attempts[-1] == model.Attempt(attempt=attempt, job=name)
    assert new.attempts[:-1] == job.status.attempts


def test_admit_a_job_never_written_sets_queued_at() -> None:
    step = lifecycle.admit(job=b.pipelinejob().model(), worker="build", now=b.at(7))
    assert step.status.queued_at == b.ts(b.at(7))


def test_admit_is_deterministic() -> None:
    job = backing_off(until=T0).retry_limit(3).model()
    assert lifecycle.admit(job=job, worker="build", now=T0) == lifecycle.admit(
        job=job, worker="build", now=T0
    )


@pytest.mark.parametrize(("limit", "attempts"), [(0, 1), (1, 2), (5, 6)])
def test_attempts_allowed_is_the_first_plus_the_retries(limit: int, attempts: int) -> None:
    job = b.pipelinejob().retry_limit(limit).model()
    assert job.spec is not None
    assert lifecycle.attempts_allowed(job.spec) == attempts


def test_invalid_records_a_template_error_naming_the_field() -> None:
    error = model.SpecError(field="spec.podTemplate.spec.containers", message="must be a list")
    step = lifecycle.invalid(job=queued().model(), error=error, now=b.at(4))
    assert (step.status.state, step.status.reason) == (State.FAILED, Reason.INVALID_SPEC)
    assert step.status.message == "spec.podTemplate.spec.containers: must be a list"
    assert step.status.finished_at == b.ts(b.at(4))
    assert step.delete_job is None
    assert [(e.type, e.reason) for e in step.events] == [("Warning", "Failed")]


# --- whole lives -------------------------------------------------------------------------


class Life:
    """One PipelineJob driven through the state machine as the operator does:
    every step's status is written and read back before the next."""

    def __init__(self, job: model.PipelineJob) -> None:
        self.job = job
        self.events: list[str] = []

    def step(
        self,
        now: datetime.datetime,
        k8s_job: Mapping[str, Any] | None = None,
        pods: Sequence[Mapping[str, Any]] = (),
    ) -> lifecycle.Step:
        step = lifecycle.advance(
            job=self.job, observation=observation(self.job, k8s_job, pods), now=now
        )
        return self._apply(step)

    def admit(self, now: datetime.datetime) -> lifecycle.Step:
        assert self.step(now).wants_admission
        return self._apply(lifecycle.admit(job=self.job, worker="build", now=now))

    def _apply(self, step: lifecycle.Step) -> lifecycle.Step:
        self.events += [e.reason for e in step.events]
        self.job = b.with_status(self.job, step.status)
        return step

    def attempt(
        self, n: int, *, start: float, end: float, exit_code: int, message: str | None = None
    ) -> None:
        """Admit attempt `n` at `start`, run it, end it at `end` with `exit_code`."""
        name = f"j-{n}"
        assert self.admit(b.at(start)).create_job
        assert self.step(b.at(start), b.batch_job(name)).status.reason == Reason.STARTING
        self.step(b.at(start + 1), b.batch_job(name), [b.pod_running(name, started=b.at(start))])
        assert self.job.status.state is State.RUNNING
        conditions = b.complete() if exit_code == 0 else b.failed()
        pod = b.pod_terminated(
            name, exit_code=exit_code, message=message, started=b.at(start), finished=b.at(end)
        )
        self.step(b.at(end), b.batch_job(name, conditions=conditions), [pod])


def test_a_job_retried_twice_succeeds_on_its_third_attempt_with_three_entries() -> None:
    life = Life(b.pipelinejob().retry_limit(2).backoff({"delay": "10s"}).model())
    assert life.step(T0).wants_admission

    life.attempt(1, start=0, end=10, exit_code=1)
    assert life.job.status.reason == Reason.RETRY_BACKOFF
    assert life.job.status.next_attempt_at == b.ts(b.at(20))
    assert life.step(b.at(15)).wake_at == b.at(20)

    life.attempt(2, start=20, end=30, exit_code=1)
    assert life.job.status.next_attempt_at == b.ts(b.at(50))  # 10s * 2

    life.attempt(3, start=50, end=60, exit_code=0, message=json.dumps(DIGEST))

    final = life.job.status
    assert (final.state, final.reason) == (State.SUCCESS, Reason.SUCCEEDED)
    assert (final.attempt, final.job) == (3, "j-3")
    assert final.started_at == b.ts(T0)
    assert final.finished_at == b.ts(b.at(60))
    assert final.next_attempt_at is None
    assert final.outputs == DIGEST
    assert [(a.attempt, a.job, a.result, a.reason, a.exit_code) for a in final.attempts] == [
        (1, "j-1", "FAILED", "PodFailed", 1),
        (2, "j-2", "FAILED", "PodFailed", 1),
        (3, "j-3", "SUCCESS", "Succeeded", 0),
    ]
    assert [(a.start, a.finish) for a in final.attempts] == [
        (b.ts(b.at(0)), b.ts(b.at(10))),
        (b.ts(b.at(20)), b.ts(b.at(30))),
        (b.ts(b.at(50)), b.ts(b.at(60))),
    ]
    assert life.events == ["Retrying", "Retrying", "Succeeded"]


def test_a_job_that_succeeds_at_once_gets_one_event_saying_how_long_it_waited_and_ran() -> None:
    """Events are the history `kubectl describe` shows: for a job that
    succeeds on its first attempt, one line; the status has the rest."""
    life = Life(b.pipelinejob().model())
    life.step(T0)
    life.step(b.at(5))  # still waiting
    life.admit(b.at(12))
    life.step(b.at(13), b.batch_job("j-1"), [b.pod_running("j-1", started=b.at(12))])
    pod = b.pod_terminated("j-1", exit_code=0, started=b.at(12), finished=b.at(15))
    last = life.step(b.at(15), b.batch_job("j-1", conditions=b.complete()), [pod])
    life.step(b.at(20), b.batch_job("j-1", conditions=b.complete()), [pod])  # nothing new

    assert life.job.status.state is State.SUCCESS
    assert life.events == ["Succeeded"]
    assert last.events == (
        lifecycle.Event(
            type="Normal", reason="Succeeded", message="attempt 1 succeeded (queued 12s, ran 3s)"
        ),
    )


def test_the_succeeded_event_leaves_out_times_it_does_not_have() -> None:
    status = b.pipelinejob().state("SUCCESS").reason("Succeeded").message("done").model().status
    assert attempts.succeeded_event(status) == lifecycle.Event(
        type="Normal", reason="Succeeded", message="done"
    )


def test_a_job_failing_every_attempt_ends_retries_exhausted() -> None:
    life = Life(b.pipelinejob().retry_limit(2).backoff({"delay": "10s"}).model())
    life.step(T0)
    life.attempt(1, start=0, end=10, exit_code=1)
    life.attempt(2, start=20, end=30, exit_code=2)
    life.attempt(3, start=50, end=60, exit_code=3)

    final = life.job.status
    assert (final.state, final.reason) == (State.FAILED, Reason.RETRIES_EXHAUSTED)
    assert final.message == "all 3 attempts failed; last: exit code 3"
    assert [(a.result, a.exit_code) for a in final.attempts] == [
        ("FAILED", 1),
        ("FAILED", 2),
        ("FAILED", 3),
    ]
    assert life.events[-1] == "Failed"
    assert life.events.count("Retrying") == 2
    # Finished: nothing more happens, however often it is looked at.
    assert life.step(b.at(hours=1)) == lifecycle.Step(status=life.job.status)


def test_a_delay_job_runs_for_its_duration_then_succeeds() -> None:
    life = Life(b.pipelinejob().type("delay").params({"duration": "1m30s"}).model())
    step = life.step(b.at(10))
    assert (step.status.state, step.status.reason) == (State.RUNNING, Reason.DELAYED)
    assert step.wake_at == b.at(100)
    assert not step.create_job
    assert not step.wants_admission
    assert life.step(b.at(99)).wake_at == b.at(100)
    step = life.step(b.at(100))
    assert (step.status.state, step.status.reason) == (State.SUCCESS, Reason.SUCCEEDED)
    assert step.status.message == "waited 1m30s"
    assert life.events == ["Succeeded"]
    # One attempt, without a Job: the operator's wait.
    (attempt,) = step.status.attempts
    assert attempt.to_dict() == {
        "attempt": 1,
        "start": b.ts(b.at(10)),
        "finish": b.ts(b.at(100)),
        "result": "SUCCESS",
        "reason": "Succeeded",
        "message": "waited 1m30s",
    }


def test_a_finished_job_with_ttl_is_deleted_when_due() -> None:
    life = Life(b.pipelinejob().ttl("10m").model())
    life.step(T0)
    life.attempt(1, start=0, end=30, exit_code=0)
    assert life.job.status.state is State.SUCCESS
    assert life.step(b.at(31)).wake_at == b.at(30 + 600)
    assert not life.step(b.at(629)).delete_pipelinejob
    assert life.step(b.at(630)).delete_pipelinejob


def test_a_job_revoked_while_running_stops_its_job_once() -> None:
    life = Life(b.pipelinejob().retry_limit(3).model())
    life.step(T0)
    life.admit(T0)
    life.step(b.at(1), b.batch_job("j-1"), [b.pod_running("j-1")])
    life.job = dataclasses.replace(
        life.job, spec=life.job.spec.model_copy(update={"revoke": True}) if life.job.spec else None
    )
    step = life.step(b.at(5), b.batch_job("j-1"), [b.pod_running("j-1")])
    assert step.delete_job == "j-1"
    assert step.status.state is State.REVOKED
    # The Job's pod ending after the revoke does not revive or retry the job.
    later = life.step(b.at(6), b.batch_job("j-1", conditions=b.failed()), [b.pod_failed("j-1")])
    assert later.status.state is State.REVOKED
    assert later.delete_job is None
    assert life.events == ["Revoked"]


@pytest.mark.parametrize(
    ("field", "spec"),
    [
        pytest.param("spec.timeout", {"timeout": "9999999999999h"}, id="timeout"),
        pytest.param("spec.ttlAfterFinished", {"ttlAfterFinished": "9999999999999h"}, id="ttl"),
        pytest.param(
            "spec.retry.backoff.maxDelay",
            {"retry": {"backoff": {"maxDelay": "9999999999999h"}}},
            id="maxDelay",
        ),
    ],
)
def test_a_duration_too_long_is_invalid_spec_not_a_crash(field: str, spec: dict[str, Any]) -> None:
    # The CRD pattern and maxLength (64) let such a value through; the operator
    # must end the job FAILED/InvalidSpec naming the field, never raise.
    job = b.pipelinejob().spec(spec).model()
    step = lifecycle.advance(job=job, observation=None, now=T0)
    assert (step.status.state, step.status.reason) == (State.FAILED, Reason.INVALID_SPEC)
    assert (step.status.message or "").startswith(field)


# --- unrecorded_job: the Job an interrupted admission left behind ----------------------


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        pytest.param(b.pipelinejob("a").model(), "a-1", id="new: its first attempt"),
        pytest.param(
            b.pipelinejob("a").state("IN-QUEUE").reason("ConcurrencyLimit").model(),
            "a-1",
            id="waiting",
        ),
        pytest.param(
            b.pipelinejob("a")
            .state("IN-QUEUE")
            .reason("RetryBackoff")
            .attempt(1)
            .job("a-1")
            .model(),
            "a-2",
            id="between retries: the next attempt",
        ),
        pytest.param(
            b.pipelinejob("a").state("IN-QUEUE").reason("Starting").attempt(1).job("a-1").model(),
            None,
            id="admitted and recorded",
        ),
        pytest.param(
            b.pipelinejob("a").state("RUNNING").reason("Running").attempt(1).job("a-1").model(),
            None,
            id="running",
        ),
        pytest.param(
            b.pipelinejob("a").state("SUCCESS").reason("Succeeded").attempt(1).job("a-1").model(),
            None,
            id="finished",
        ),
        pytest.param(
            b.pipelinejob("a").type("delay").params({"duration": "1s"}).model(), None, id="delay"
        ),
    ],
)
def test_unrecorded_job(job: model.PipelineJob, expected: str | None) -> None:
    assert lifecycle.unrecorded_job(job) == expected
