"""What a PipelineCronJob should do now: which runs to create, revoke and
delete, and its new status.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from conveyor.core import lifecycle, model
from conveyor.core.cron import cronspec, cronstatus, runs, times

State = model.State


# Like CronJob: more missed times than this start none (clock skew, long outage).
MAX_MISSED = 100


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decision:
    status: cronstatus.CronStatus
    create: tuple[tuple[str, datetime.datetime], ...] = ()  # (child name, schedule time)
    revoke: tuple[str, ...] = ()  # revoke these (Replace) BEFORE creating
    delete: tuple[str, ...] = ()  # history limits
    events: tuple[lifecycle.Event, ...] = ()
    wake_at: datetime.datetime | None = None  # look again then, even without events


def parse(
    body: Mapping[str, Any],
) -> tuple[model.Meta, cronspec.CronSpec | model.SpecError, cronstatus.CronStatus]:
    spec: cronspec.CronSpec | model.SpecError
    try:
        spec = cronspec.CronSpec.model_validate(body.get("spec") or {})
    except pydantic.ValidationError as exc:
        spec = model.spec_error_from(exc, prefix="spec")
    if isinstance(spec, cronspec.CronSpec) and spec.pipeline_run_template is not None:
        # The schema and model accept it; the cron controller follows PipelineJob
        # children only until the pipeline controller schedules runs (issue 14).
        spec = model.SpecError(
            field="spec.pipelineRunTemplate",
            message="this operator version does not schedule PipelineRuns yet; use jobTemplate",
        )
    return model.Meta.from_body(body), spec, cronstatus.CronStatus.from_dict(body.get("status"))


def invalid(*, status: cronstatus.CronStatus, error: model.SpecError) -> Decision:
    """A spec only the operator could refuse: Stalled/InvalidSpec; nothing created."""
    message = f"invalid spec: {error}; nothing is scheduled until it is fixed"
    events: tuple[lifecycle.Event, ...] = ()
    if status.reason != cronstatus.Reason.INVALID_SPEC or status.message != message:
        events = (lifecycle.Event(type="Warning", reason="InvalidSpec", message=message),)
    new = dataclasses.replace(
        status, reason=str(cronstatus.Reason.INVALID_SPEC), message=message, next_schedule_time=None
    )
    return Decision(status=new, events=events)


def decide(
    *,
    meta: model.Meta,
    spec: cronspec.CronSpec,
    status: cronstatus.CronStatus,
    children: Sequence[runs.Child],
    now: datetime.datetime,
) -> Decision:
    """What to do now: which runs to create, revoke and delete, and the new status."""
    schedule = times.Schedule.of(spec)
    events: list[lifecycle.Event] = []
    ordered = sorted(children, key=lambda c: (c.scheduled_at, c.name))

    status = _settle(meta=meta, spec=spec, status=status, ordered=ordered, events=events)
    delete = _over_history(spec=spec, status=status, children=ordered)

    active = [c for c in ordered if not c.finished]
    next_time = schedule.next_after(now)
    create: list[tuple[str, datetime.datetime]] = []
    revoke: list[str] = []
    outcome: tuple[cronstatus.Reason, str] | None = None

    if not (spec.suspend or status.suspended or meta.deleting):
        earliest = model.parse_time(status.last_schedule_time) or meta.created_at
        latest = schedule.latest(after=earliest, until=now)
        if latest is not None:
            status = dataclasses.replace(status, last_schedule_time=model.format_time(latest))
            outcome = _run(
                meta=meta,
                spec=spec,
                schedule=schedule,
                earliest=earliest,
                latest=latest,
                now=now,
                children=ordered,
                active=active,
                create=create,
                revoke=revoke,
                events=events,
            )

    names = [c.name for c in active] + [name for name, _ in create]
    status = dataclasses.replace(
        status,
        active=tuple(names),
        next_schedule_time=model.format_time(next_time) if next_time else None,
    )
    status = _explain(spec=spec, status=status, outcome=outcome, next_time=next_time)
    return Decision(
        status=status,
        create=tuple(create),
        revoke=tuple(revoke),
        delete=tuple(delete),
        events=tuple(events),
        wake_at=next_time,
    )


def _settle(
    *,
    meta: model.Meta,
    spec: cronspec.CronSpec,
    status: cronstatus.CronStatus,
    ordered: Sequence[runs.Child],
    events: list[lifecycle.Event],
) -> cronstatus.CronStatus:
    """Count the runs finished since the last look, then resume or auto-suspend."""
    status, last_failed = _count_finished(status=status, children=ordered)
    return _resume_or_suspend(
        meta=meta,
        spec=spec,
        status=status,
        last_failed=last_failed,
        newest_finished=next((c for c in reversed(ordered) if c.finished), None),
        events=events,
    )


def _run(
    *,
    meta: model.Meta,
    spec: cronspec.CronSpec,
    schedule: times.Schedule,
    earliest: datetime.datetime,
    latest: datetime.datetime,
    now: datetime.datetime,
    children: Sequence[runs.Child],
    active: Sequence[runs.Child],
    create: list[tuple[str, datetime.datetime]],
    revoke: list[str],
    events: list[lifecycle.Event],
) -> tuple[cronstatus.Reason, str] | None:
    """Handle the most recent due time `latest`; returns the outcome for status."""
    name = runs.child_name(cron=meta.name, scheduled_at=latest)
    if any(c.name == name for c in children):
        return None  # created before (e.g. before a restart): nothing new to say
    at = model.format_time(latest)
    late, missed = _missed(
        spec=spec, schedule=schedule, earliest=earliest, latest=latest, now=now, events=events
    )
    if late is not None:
        return late

    if active and spec.concurrency_policy is cronspec.ConcurrencyPolicy.FORBID:
        running = ", ".join(c.name for c in active)
        message = (
            f"skipped the run at {at}: {running} has not finished"
            " (spec.concurrencyPolicy is Forbid)"
        )
        events.append(lifecycle.Event(type="Normal", reason="SkippedForbid", message=message))
        return cronstatus.Reason.SKIPPED_FORBID, message
    if active and spec.concurrency_policy is cronspec.ConcurrencyPolicy.REPLACE:
        revoke.extend(c.name for c in active if not c.revoke_requested)
        replaced = ", ".join(c.name for c in active)
        events.append(
            lifecycle.Event(
                type="Normal",
                reason="Replaced",
                message=f"revoking {replaced} to start {name} (spec.concurrencyPolicy is Replace)",
            )
        )
    create.append((name, latest))
    message = f"created {name} for the run at {at}"
    if missed > 1:
        message += f" ({missed - 1} earlier missed runs skipped: at most one catch-up)"
    events.append(lifecycle.Event(type="Normal", reason="Scheduled", message=message))
    return cronstatus.Reason.SCHEDULED, message


def _missed(
    *,
    spec: cronspec.CronSpec,
    schedule: times.Schedule,
    earliest: datetime.datetime,
    latest: datetime.datetime,
    now: datetime.datetime,
    events: list[lifecycle.Event],
) -> tuple[tuple[cronstatus.Reason, str] | None, int]:
    """How many times were missed, and the outcome when `latest` must not run:
    too many missed, or later than startingDeadlineSeconds allows."""
    at = model.format_time(latest)
    deadline = spec.deadline
    window = earliest if deadline is None else max(earliest, now - deadline)
    missed = schedule.count(after=window, until=now, limit=MAX_MISSED + 1)
    if missed > MAX_MISSED:
        message = (
            f"more than {MAX_MISSED} scheduled runs were missed since"
            f" {model.format_time(earliest)}: none started (the latest was {at}); set"
            " spec.startingDeadlineSeconds to catch up on recent ones only, or check the clock"
        )
        events.append(lifecycle.Event(type="Warning", reason="TooManyMissed", message=message))
        return (cronstatus.Reason.TOO_MANY_MISSED, message), missed
    if deadline is not None and now - latest > deadline:
        late = int((now - latest).total_seconds())
        message = (
            f"missed the run at {at}: {late}s late, more than"
            f" spec.startingDeadlineSeconds ({spec.starting_deadline_seconds})"
        )
        events.append(lifecycle.Event(type="Warning", reason="MissedSchedule", message=message))
        return (cronstatus.Reason.MISSED_SCHEDULE, message), missed
    return None, missed


def _count_finished(
    *, status: cronstatus.CronStatus, children: Sequence[runs.Child]
) -> tuple[cronstatus.CronStatus, str | None]:
    """Count finished runs newer than last_counted in schedule order, stopping at
    the first unfinished one so "in a row" follows the schedule even when runs
    overlap (Allow). Also returns the name of the newest FAILED run."""
    counted = model.parse_time(status.last_counted)
    failures = status.consecutive_failures
    last_successful = status.last_successful_time
    last_counted = status.last_counted
    last_failed: str | None = None
    for child in children:
        if counted is not None and child.scheduled_at <= counted:
            continue
        if not child.finished:
            break
        if child.state is State.FAILED:
            failures += 1
            last_failed = child.name
        elif child.state is State.SUCCESS:
            failures = 0
            if child.finished_at is not None:
                last_successful = model.format_time(child.finished_at)
        last_counted = model.format_time(child.scheduled_at)
    finished = [c for c in children if c.finished]
    if last_failed is None:
        last_failed = next((c.name for c in reversed(finished) if c.state is State.FAILED), None)
    last_result = str(finished[-1].state) if finished else status.last_result
    new = dataclasses.replace(
        status,
        consecutive_failures=failures,
        last_successful_time=last_successful,
        last_counted=last_counted,
        last_result=last_result,
    )
    return new, last_failed


def _resume_or_suspend(
    *,
    meta: model.Meta,
    spec: cronspec.CronSpec,
    status: cronstatus.CronStatus,
    last_failed: str | None,
    newest_finished: runs.Child | None,
    events: list[lifecycle.Event],
) -> cronstatus.CronStatus:
    if (
        status.suspended
        and not spec.suspend
        and meta.generation > (status.suspended_generation or 0)
    ):
        counted = model.parse_time(status.last_counted)
        if newest_finished is not None and (
            counted is None or newest_finished.scheduled_at > counted
        ):
            counted = newest_finished.scheduled_at
        status = dataclasses.replace(
            status,
            suspended=False,
            suspended_generation=None,
            consecutive_failures=0,
            last_counted=model.format_time(counted) if counted else None,
            reason=None,
            message=None,
        )
        events.append(
            lifecycle.Event(
                type="Normal",
                reason="Resumed",
                message=f"resumed: the spec changed (generation {meta.generation});"
                " the count of failed runs starts again at 0",
            )
        )
        return status

    limit = spec.max_consecutive_failures
    if not status.suspended and limit is not None and status.consecutive_failures >= limit:
        message = (
            f"suspended after {status.consecutive_failures} failed runs in a row"
            f" (last: {last_failed or 'unknown'}); to resume, change the spec, e.g. set"
            " spec.suspend to true and back to false"
        )
        status = dataclasses.replace(
            status,
            suspended=True,
            suspended_generation=meta.generation,
            reason=str(cronstatus.Reason.TOO_MANY_FAILURES),
            message=message,
        )
        events.append(lifecycle.Event(type="Warning", reason="Suspended", message=message))
    return status


def _over_history(
    *, spec: cronspec.CronSpec, status: cronstatus.CronStatus, children: Sequence[runs.Child]
) -> list[str]:
    """Finished, counted runs beyond the history limits, oldest first."""
    counted = model.parse_time(status.last_counted)
    if counted is None:
        return []
    done = [c for c in children if c.finished and c.scheduled_at <= counted]
    succeeded = [c for c in done if c.state is State.SUCCESS]
    failed = [c for c in done if c.state is not State.SUCCESS]
    over = _oldest_beyond(succeeded, spec.successful_jobs_history_limit) + _oldest_beyond(
        failed, spec.failed_jobs_history_limit
    )
    return [c.name for c in sorted(over, key=lambda c: (c.scheduled_at, c.name))]


def _oldest_beyond(children: Sequence[runs.Child], keep: int) -> list[runs.Child]:
    return list(children[: max(len(children) - keep, 0)])


def _explain(
    *,
    spec: cronspec.CronSpec,
    status: cronstatus.CronStatus,
    outcome: tuple[cronstatus.Reason, str] | None,
    next_time: datetime.datetime | None,
) -> cronstatus.CronStatus:
    """reason and message: the state, or what happened at the last processed time."""
    upcoming = _next_run(next_time, spec=spec)
    if status.suspended:
        return status  # TooManyFailures: its message says how to resume
    if spec.suspend:
        message = f"suspended by spec.suspend; {upcoming} once resumed"
        return dataclasses.replace(status, reason=str(cronstatus.Reason.SUSPENDED), message=message)
    if outcome is not None:
        reason, what = outcome
        return dataclasses.replace(status, reason=str(reason), message=f"{what}; {upcoming}")
    if (
        status.reason in cronstatus.OUTCOMES
        and status.message
        and status.message.endswith(upcoming)
    ):
        return status  # still true: keep what happened last
    return dataclasses.replace(status, reason=str(cronstatus.Reason.SCHEDULED), message=upcoming)


def _next_run(when: datetime.datetime | None, *, spec: cronspec.CronSpec) -> str:
    if when is None:
        return "no next run"
    text = f"next run at {model.format_time(when)}"
    if spec.time_zone:
        local = when.astimezone(spec.zone)
        text += f" ({local:%Y-%m-%d %H:%M %Z}, {spec.time_zone})"
    return text
