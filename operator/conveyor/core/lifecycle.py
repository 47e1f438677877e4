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
from typing import Literal

from conveyor.core import backoff, durations, health, model, names, observe, params, reasons

State = model.State
Reason = model.Reason

# The reason on an attempt given back to the queue: its pod never started and
# the Worker's spec changed. Such attempts do not count against retry.limit.
WORKER_CHANGED = "WorkerChanged"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """A Kubernetes Event to post on the PipelineJob."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    status: model.JobStatus
    create_job: bool = False  # make sure status.job exists (AlreadyExists = adopt)
    delete_job: str | None = None  # stop this Job (revoke)
    delete_pipelinejob: bool = False  # ttlAfterFinished has passed
    wants_admission: bool = False  # waiting for a slot; `scheduling` decides
    wake_at: datetime.datetime | None = None  # look again then, even without events
    events: tuple[Event, ...] = ()


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


def attempts_allowed(spec: model.PipelineJobSpec) -> int:
    return spec.retry.limit + 1


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
        events.append(Event(type="Normal", reason="Queued", message="queued"))

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
        return _follow(
            job=job,
            spec=spec,
            status=status,
            obs=observation,
            now=now,
            events=events,
            worker_generation=worker_generation,
        )

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
    status = dataclasses.replace(
        status,
        state=State.FAILED,
        reason=Reason.INVALID_SPEC,
        message=message,
        finished_at=model.format_time(now),
        next_attempt_at=None,
        attempts=_close_attempt(
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
    new = dataclasses.replace(
        status,
        state=State.REVOKED,
        reason=Reason.REVOKED,
        message=message,
        finished_at=model.format_time(now),
        next_attempt_at=None,
        attempts=_close_attempt(
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
        events.append(Event(type="Normal", reason="Started", message=status.message or ""))
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
        attempts=_close_attempt(
            status.attempts, now=now, result=State.SUCCESS, reason=Reason.SUCCEEDED, message=message
        ),
    )
    events.append(Event(type="Normal", reason="Succeeded", message=status.message or ""))
    return Step(status=status, events=tuple(events))


def _follow(
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
        return Step(status=dataclasses.replace(status, message=message), events=tuple(events))

    if phase is observe.Phase.RUNNING:
        if status.state is State.RUNNING:
            return Step(status=status, events=tuple(events))
        started = obs.started_at or model.format_time(now)
        status = dataclasses.replace(
            status,
            state=State.RUNNING,
            reason=Reason.RUNNING,
            message=reasons.running(attempt=status.attempt, attempts=allowed, pod=obs.pod),
            started_at=status.started_at or started,
            attempts=_update_attempt(status.attempts, start=started),
        )
        events.append(Event(type="Normal", reason="Started", message=status.message or ""))
        return Step(status=status, events=tuple(events))

    if phase is observe.Phase.SUCCEEDED:
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
            attempts=_close_attempt(
                _update_attempt(status.attempts, start=obs.started_at),
                now=now,
                finish=finished,
                result=State.SUCCESS,
                reason=Reason.SUCCEEDED,
                exit_code=obs.exit_code,
                message=message,
            ),
        )
        events.append(Event(type="Normal", reason="Succeeded", message=message))
        return Step(status=status, events=tuple(events))

    return _attempt_failed(job=job, spec=spec, status=status, obs=obs, now=now, events=events)


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
        attempts=_close_attempt(
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
    attempts = _close_attempt(
        _update_attempt(status.attempts, start=obs.started_at),
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
    status = dataclasses.replace(
        status,
        state=State.FAILED,
        reason=final_reason,
        message=message,
        finished_at=finished,
        next_attempt_at=None,
        attempts=attempts,
    )
    events.append(Event(type="Warning", reason="Failed", message=message))
    return Step(status=status, events=tuple(events))


def _update_attempt(
    attempts: tuple[model.Attempt, ...], *, start: str | None
) -> tuple[model.Attempt, ...]:
    if not attempts or not start or attempts[-1].start:
        return attempts
    return (*attempts[:-1], dataclasses.replace(attempts[-1], start=start))


def _close_attempt(
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
