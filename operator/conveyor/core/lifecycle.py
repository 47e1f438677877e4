"""The PipelineJob state machine: one job's next status, from its spec, its
status and what its current attempt's Job shows.

Admission (which waiting job gets a slot) is not decided here but in
`scheduling`, over all jobs of a Worker at once; a step only says that the job
wants a slot.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import dataclasses
import datetime

from conveyor.core import attempts, durations, model, names, observe, params, reasons, steps

State = model.State
Reason = model.Reason
# Defined beside this module; the shell and tests use them from here.
Event = steps.Event
Step = steps.Step
WORKER_CHANGED = attempts.WORKER_CHANGED
attempts_allowed = attempts.attempts_allowed
requeue = attempts.requeue


def unrecorded_job(job: model.PipelineJob) -> str | None:
    """The Job an admission of `job` would have created but not recorded yet:
    admission creates the Job before it writes the status (see the
    controller), so a stop in between leaves this Job behind. None for a job
    that holds its slot already or is finished."""
    status = job.status
    if job.spec is None or status.holds_slot or (status.state and status.state.finished):
        return None
    if job.spec.type is model.JobType.DELAY:
        return None
    return names.job_name(pipelinejob=job.meta.name, attempt=status.attempt + 1)


def advance(
    *,
    job: model.PipelineJob,
    observation: observe.Observation | None,
    now: datetime.datetime,
    worker_generation: int | None = None,
) -> Step:
    """The next step for one job. `observation` is of status.job (None if none);
    `worker_generation` is the current generation of the job's Worker."""
    status = job.status
    events: list[Event] = []
    if status.state is None:
        status = dataclasses.replace(
            status,
            state=State.IN_QUEUE,
            reason=Reason.QUEUED,
            message=reasons.queued(),
            queued_at=model.format_time(now),
        )
        # No Queued Event: why it waits is the status's (IN-QUEUE, reason,
        # message), and how long it waited is in its one final Event.

    assert status.state is not None
    if status.state.finished:
        return _finished(job=job, status=status, now=now, events=events)

    error = job.spec_error or _params_error(job)
    if error is not None or job.spec is None:
        assert error is not None
        return invalid(job=job, error=error, now=now, status=status, events=events)
    spec = job.spec

    if spec.revoke:
        return _revoke(status=status, now=now, events=events)

    if spec.type is model.JobType.DELAY:
        return _delay(job=job, spec=spec, status=status, now=now, events=events)

    if status.holds_slot and status.job:
        return attempts.follow(
            job=job,
            spec=spec,
            status=status,
            obs=observation,
            now=now,
            events=events,
            worker_generation=worker_generation,
        )

    return _waiting(spec=spec, status=status, now=now, events=events)


def _waiting(
    *,
    spec: model.PipelineJobSpec,
    status: model.JobStatus,
    now: datetime.datetime,
    events: list[Event],
) -> Step:
    """A job without a slot: backing off, before its start time, or in the queue."""
    if status.reason == Reason.RETRY_BACKOFF and status.next_attempt_at:
        next_at = model.parse_time(status.next_attempt_at)
        if next_at is not None and next_at > now:
            return Step(status=status, wake_at=next_at, events=tuple(events))

    if spec.start_at is not None and spec.start_at > now:
        status = dataclasses.replace(
            status,
            reason=Reason.DELAYED,
            message=reasons.delayed(start_at=spec.start_at, now=now),
        )
        return Step(status=status, wake_at=spec.start_at, events=tuple(events))

    return Step(status=status, wants_admission=True, events=tuple(events))


def admit(
    *,
    job: model.PipelineJob,
    worker: str,
    now: datetime.datetime,
    worker_generation: int | None = None,
) -> Step:
    """The step for a job the scheduler gave a slot: the next attempt starts."""
    status = job.status
    attempt = status.attempt + 1
    name = names.job_name(pipelinejob=job.meta.name, attempt=attempt)
    status = dataclasses.replace(
        status,
        state=State.IN_QUEUE,
        reason=Reason.STARTING,
        message=reasons.starting(job=name, waiting_reason=None, waiting_message=None),
        worker=worker,
        worker_generation=worker_generation,
        attempt=attempt,
        job=name,
        next_attempt_at=None,
        queued_at=status.queued_at or model.format_time(now),
        attempts=(*status.attempts, model.Attempt(attempt=attempt, job=name)),
    )
    return Step(status=status, create_job=True)


def invalid(
    *,
    job: model.PipelineJob,
    error: model.SpecError,
    now: datetime.datetime,
    status: model.JobStatus | None = None,
    events: list[Event] | None = None,
) -> Step:
    """FAILED/InvalidSpec: what only the operator can judge (params, templates)."""
    status = status or job.status
    message = reasons.invalid_spec(error=error)
    running_job = status.job if status.holds_slot else None
    status = attempts.ended(
        status,
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=message,
        finished_at=model.format_time(now),
        attempts=attempts.close_attempt(
            status.attempts,
            now=now,
            result=State.FAILED,
            reason=Reason.INVALID_SPEC,
            message=message,
        ),
    )
    event = Event(type="Warning", reason="Failed", message=message)
    return Step(status=status, delete_job=running_job, events=(*(events or ()), event))


def _params_error(job: model.PipelineJob) -> model.SpecError | None:
    if job.spec is None:
        return None
    result = params.validate(job_type=job.spec.type, params=job.spec.params)
    return result if isinstance(result, model.SpecError) else None


def _finished(
    *, job: model.PipelineJob, status: model.JobStatus, now: datetime.datetime, events: list[Event]
) -> Step:
    ttl = job.spec.ttl_after_finished if job.spec else None
    finished_at = model.parse_time(status.finished_at)
    if ttl is None or finished_at is None:
        return Step(status=status, events=tuple(events))
    due = finished_at + ttl
    if now >= due:
        return Step(status=status, delete_pipelinejob=True, events=tuple(events))
    return Step(status=status, wake_at=due, events=tuple(events))


def _revoke(*, status: model.JobStatus, now: datetime.datetime, events: list[Event]) -> Step:
    was_running = status.holds_slot or status.state is State.RUNNING
    message = reasons.revoked(
        was_running=was_running, attempts=len(status.attempts), has_job=bool(status.job)
    )
    new = attempts.ended(
        status,
        state=State.REVOKED,
        reason=Reason.REVOKED,
        message=message,
        finished_at=model.format_time(now),
        attempts=attempts.close_attempt(
            status.attempts, now=now, result=State.REVOKED, reason=Reason.REVOKED, message=message
        )
        if was_running
        else status.attempts,
    )
    event = Event(type="Normal", reason="Revoked", message=message)
    return Step(
        status=new,
        delete_job=status.job if status.holds_slot else None,
        events=(*events, event),
    )


def _delay(
    *,
    job: model.PipelineJob,
    spec: model.PipelineJobSpec,
    status: model.JobStatus,
    now: datetime.datetime,
    events: list[Event],
) -> Step:
    """A delay job is the operator waiting: no worker, no pod."""
    if spec.start_at is not None and spec.start_at > now:
        status = dataclasses.replace(
            status, reason=Reason.DELAYED, message=reasons.delayed(start_at=spec.start_at, now=now)
        )
        return Step(status=status, wake_at=spec.start_at, events=tuple(events))
    duration = durations.parse(str(spec.params.get("duration", "0s")))
    started = model.parse_time(status.started_at)
    if status.state is not State.RUNNING or started is None:
        started = now
        until = started + duration
        status = dataclasses.replace(
            status,
            state=State.RUNNING,
            reason=Reason.DELAYED,
            message=reasons.delaying(until=until, now=now),
            started_at=model.format_time(now),
            attempt=1,
            # No Job: the attempt is the operator's wait.
            attempts=(model.Attempt(attempt=1, job="", start=model.format_time(now)),),
        )
    until = started + duration
    if now < until:
        return Step(status=status, wake_at=until, events=tuple(events))
    message = f"waited {durations.format(duration)}"
    status = dataclasses.replace(
        status,
        state=State.SUCCESS,
        reason=Reason.SUCCEEDED,
        message=message,
        finished_at=model.format_time(now),
        attempts=attempts.close_attempt(
            status.attempts, now=now, result=State.SUCCESS, reason=Reason.SUCCEEDED, message=message
        ),
    )
    events.append(attempts.succeeded_event(status))
    return Step(status=status, events=tuple(events))
