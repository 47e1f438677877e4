"""One admitted attempt of a PipelineJob: reflect its Job and pod into the
status, and what a failed attempt leads to (a retry after backoff, or FAILED);
an attempt whose pod never started can go back to the queue.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import dataclasses
import datetime

from conveyor.core import backoff, durations, health, model, observe, reasons, steps

State = model.State
Reason = model.Reason
Step = steps.Step
Event = steps.Event


# The reason on an attempt given back to the queue: its pod never started and
# the Worker's spec changed. Such attempts do not count against retry.limit.
WORKER_CHANGED = "WorkerChanged"


def attempts_allowed(spec: model.PipelineJobSpec) -> int:
    return spec.retry.limit + 1


def follow(
    *,
    job: model.PipelineJob,
    spec: model.PipelineJobSpec,
    status: model.JobStatus,
    obs: observe.Observation | None,
    now: datetime.datetime,
    events: list[Event],
    worker_generation: int | None = None,
) -> Step:
    """An admitted attempt: reflect its Job and pod into the status."""
    assert status.job is not None
    allowed = attempts_allowed(spec)
    phase = obs.phase if obs else observe.Phase.MISSING

    if phase is observe.Phase.MISSING:
        if status.state is State.RUNNING:
            # It ran and is gone: someone deleted it. Recreating it would run
            # the same attempt twice; count it as a failed attempt instead.
            lost = observe.Observation(
                phase=observe.Phase.FAILED,
                failure_reason=Reason.JOB_LOST,
                failure_message=f"Job {status.job} was deleted while running",
            )
            return _attempt_failed(
                job=job, spec=spec, status=status, obs=lost, now=now, events=events
            )
        return Step(status=status, create_job=True, events=tuple(events))

    assert obs is not None
    if (
        phase is observe.Phase.PENDING
        and obs.waiting_reason in health.CANNOT_START
        and worker_generation is not None
        and status.worker_generation is not None
        and worker_generation != status.worker_generation
    ):
        return _requeue(status=status, obs=obs, now=now, events=events)
    if phase is observe.Phase.PENDING:
        message = reasons.starting(
            job=status.job, waiting_reason=obs.waiting_reason, waiting_message=obs.waiting_message
        )
        if status.state is State.RUNNING and not obs.waiting_reason:
            # Not "created; waiting for its pod": it ran, and its pod was deleted.
            message = reasons.replacing(job=status.job or "")
        return Step(status=dataclasses.replace(status, message=message), events=tuple(events))

    if phase is observe.Phase.RUNNING:
        return _running(status=status, obs=obs, allowed=allowed, now=now, events=events)
    if phase is observe.Phase.SUCCEEDED:
        return _succeeded(status=status, obs=obs, now=now, events=events)
    return _attempt_failed(job=job, spec=spec, status=status, obs=obs, now=now, events=events)


def _running(
    *,
    status: model.JobStatus,
    obs: observe.Observation,
    allowed: int,
    now: datetime.datetime,
    events: list[Event],
) -> Step:
    if status.state is State.RUNNING:
        return Step(status=status, events=tuple(events))
    started = obs.started_at or model.format_time(now)
    status = dataclasses.replace(
        status,
        state=State.RUNNING,
        reason=Reason.RUNNING,
        message=reasons.running(attempt=status.attempt, attempts=allowed, pod=obs.pod),
        started_at=status.started_at or started,
        attempts=update_attempt(status.attempts, start=started),
    )
    # No Started Event: RUNNING is in the status, and the pod has its own.
    return Step(status=status, events=tuple(events))


def _succeeded(
    *,
    status: model.JobStatus,
    obs: observe.Observation,
    now: datetime.datetime,
    events: list[Event],
) -> Step:
    outputs, note = observe.outputs(termination_message=obs.termination_message)
    finished = obs.finished_at or model.format_time(now)
    message = reasons.succeeded(attempt=status.attempt, note=note)
    status = dataclasses.replace(
        status,
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        message=message,
        started_at=status.started_at or obs.started_at or finished,
        finished_at=finished,
        outputs=outputs,
        attempts=close_attempt(
            update_attempt(status.attempts, start=obs.started_at),
            now=now,
            finish=finished,
            result=State.SUCCESS,
            reason=Reason.SUCCEEDED,
            exit_code=obs.exit_code,
            message=message,
        ),
    )
    events.append(succeeded_event(status))
    return Step(status=status, events=tuple(events))


def succeeded_event(status: model.JobStatus) -> Event:
    """The one Event of a job that succeeds: what happened, and how long it
    waited and ran (the history `kubectl describe` shows; the status has the
    times, the Events the story)."""
    took = []
    for label, start_text, end_text in (
        ("queued", status.queued_at, status.started_at),
        ("ran", status.started_at, status.finished_at),
    ):
        start, end = model.parse_time(start_text), model.parse_time(end_text)
        if start is not None and end is not None and end >= start:
            took.append(f"{label} {durations.format(end - start)}")
    message = status.message or ""
    return Event(
        type="Normal",
        reason="Succeeded",
        message=f"{message} ({', '.join(took)})" if took else message,
    )


def _requeue(
    *,
    status: model.JobStatus,
    obs: observe.Observation,
    now: datetime.datetime,
    events: list[Event],
) -> Step:
    """The Worker's spec changed while this attempt's pod could not start: give
    the slot back and run a fresh attempt with the new spec."""
    message = (
        f"Worker {status.worker} changed while the pod of Job {status.job} could not start "
        f"({obs.waiting_reason}); requeued"
    )
    return requeue(status=status, message=message, now=now, events=events)


def requeue(
    *,
    status: model.JobStatus,
    message: str,
    now: datetime.datetime,
    events: list[Event] | None = None,
) -> Step:
    """Give an admitted attempt that never ran back to the queue (its Job is
    deleted if it exists). It does not count against spec.retry.limit."""
    new = dataclasses.replace(
        status,
        state=State.IN_QUEUE,
        reason=Reason.QUEUED,
        message=message,
        worker_generation=None,
        attempts=close_attempt(
            status.attempts, now=now, result=State.REVOKED, reason=WORKER_CHANGED, message=message
        ),
    )
    event = Event(type="Normal", reason="Requeued", message=message)
    return Step(status=new, delete_job=status.job, events=(*(events or ()), event))


def _tries(attempts: tuple[model.Attempt, ...]) -> int:
    """Attempts that count against spec.retry.limit (requeued ones never ran)."""
    return sum(1 for a in attempts if a.reason != WORKER_CHANGED)


def _attempt_failed(
    *,
    job: model.PipelineJob,
    spec: model.PipelineJobSpec,
    status: model.JobStatus,
    obs: observe.Observation,
    now: datetime.datetime,
    events: list[Event],
) -> Step:
    allowed = attempts_allowed(spec)
    reason = Reason(obs.failure_reason) if obs.failure_reason in set(Reason) else Reason.POD_FAILED
    timeout = durations.format(spec.timeout) if spec.timeout else None
    account = reasons.failure(
        reason=reason, exit_code=obs.exit_code, detail=obs.failure_message, timeout=timeout
    )
    finished = obs.finished_at or model.format_time(now)
    attempts = close_attempt(
        update_attempt(status.attempts, start=obs.started_at),
        now=now,
        finish=finished,
        result=State.FAILED,
        reason=reason,
        exit_code=obs.exit_code,
        message=account,
    )
    if _tries(attempts) < allowed:
        wait = backoff.delay(backoff=spec.retry.backoff, failures=_tries(attempts))
        next_at = now + wait
        message = reasons.retry_backoff(
            attempt=status.attempt, attempts=allowed, failure=account, next_at=next_at, now=now
        )
        status = dataclasses.replace(
            status,
            state=State.IN_QUEUE,
            reason=Reason.RETRY_BACKOFF,
            message=message,
            next_attempt_at=model.format_time(next_at),
            attempts=attempts,
        )
        events.append(Event(type="Warning", reason="Retrying", message=message))
        return Step(status=status, wake_at=next_at, events=tuple(events))

    if allowed > 1:
        final_reason = Reason.RETRIES_EXHAUSTED
        message = reasons.retries_exhausted(attempts=allowed, account=account)
    else:
        final_reason = reason
        message = reasons.failed(attempt=status.attempt, account=account)
    status = ended(
        status,
        state=State.FAILED,
        reason=final_reason,
        message=message,
        finished_at=finished,
        attempts=attempts,
    )
    events.append(Event(type="Warning", reason="Failed", message=message))
    return Step(status=status, events=tuple(events))


def ended(
    status: model.JobStatus,
    *,
    state: State,
    reason: str,
    message: str,
    finished_at: str,
    attempts: tuple[model.Attempt, ...],
) -> model.JobStatus:
    """The status of a job that has come to an end (FAILED, REVOKED): no attempt follows."""
    return dataclasses.replace(
        status,
        state=state,
        reason=reason,
        message=message,
        finished_at=finished_at,
        next_attempt_at=None,
        attempts=attempts,
    )


def update_attempt(
    attempts: tuple[model.Attempt, ...], *, start: str | None
) -> tuple[model.Attempt, ...]:
    if not attempts or not start or attempts[-1].start:
        return attempts
    return (*attempts[:-1], dataclasses.replace(attempts[-1], start=start))


def close_attempt(
    attempts: tuple[model.Attempt, ...],
    *,
    now: datetime.datetime,
    result: State,
    reason: str,
    message: str,
    finish: str | None = None,
    exit_code: int | None = None,
) -> tuple[model.Attempt, ...]:
    if not attempts or attempts[-1].result:
        return attempts
    last = dataclasses.replace(
        attempts[-1],
        finish=finish or model.format_time(now),
        result=str(result),
        reason=str(reason),
        exit_code=exit_code,
        message=message,
    )
    return (*attempts[:-1], last)
