"""PipelineCronJob: a PipelineJob created from `jobTemplate` (or a PipelineRun from
`pipelineRunTemplate`) at each scheduled time.

The semantics are Kubernetes CronJob's, with its edge cases:

- Schedule times are computed by croniter in `spec.timeZone` (IANA; default
  UTC). Grammar: five fields (minute hour day-of-month month day-of-week; `*`,
  `?` in the day fields, numbers, 3-letter names, ranges, lists, steps) or
  @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly: what both
  croniter and CronJob (robfig/cron) accept. croniter's extensions (L, W, #,
  H, seconds and year fields) and CronJob's @every are refused.
- Daylight saving time, e.g. Europe/Berlin:
  * spring forward (02:00 -> 03:00 on the last Sunday in March): a wall time
    inside the gap, such as 02:30 of "30 2 * * *", runs once at 03:00 CEST, the
    first instant after the gap (croniter's behaviour, as Vixie cron; CronJob's
    robfig/cron skips it instead). Hourly schedules simply have 23 runs that day.
  * fall back (03:00 -> 02:00 on the last Sunday in October): a wall time in
    the repeated hour runs once, at its first occurrence, when the hour field
    names hours ("30 2 * * *", "0 */2 * * *"); when it is `*` ("0 * * * *",
    "*/15 * * * *") the schedule follows elapsed time and runs in both hours.
- Missed times after downtime (or while suspended): among the times in
  (status.lastScheduleTime, or the creation time, now], only the most recent
  runs (at most one catch-up); more than MAX_MISSED missed (counted only within
  startingDeadlineSeconds when set) start none, with an Event and a status
  message; a most recent time older than startingDeadlineSeconds is skipped
  (MissedSchedule). Either way lastScheduleTime moves on, so it does not repeat.
- Each run is a PipelineJob named `<cron>-<minutes since 1970 of the schedule
  time>`: a restart re-derives the same name, and AlreadyExists means done.
- Forbid skips a time while a run is unfinished (SkippedForbid); Replace
  revokes the unfinished runs and starts the new one; Allow starts it.
- Auto-suspend: after spec.maxConsecutiveFailures FAILED runs in a row (in
  schedule order; REVOKED runs neither count nor reset), status.suspended is
  set with reason TooManyFailures. The operator never writes spec (GitOps), so
  a person resumes it by changing the spec: any later metadata.generation with
  spec.suspend false resumes, e.g. set spec.suspend to true and back to false.
- History: of the finished runs, the newest successfulJobsHistoryLimit
  SUCCESS and failedJobsHistoryLimit FAILED (or REVOKED) are kept.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import enum
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import croniter
import pydantic

from conveyor.core import lifecycle, model
from conveyor.core.pipeline import spec as pipeline_spec

State = model.State
UTC = datetime.UTC

API_VERSION = "conveyor.dev/v1alpha1"
CRONJOB_LABEL = "conveyor.dev/cronjob"  # on each child: the PipelineCronJob's name
SCHEDULED_AT_ANNOTATION = "conveyor.dev/scheduled-at"  # on each child: RFC 3339 time

# Like CronJob: more missed times than this start none (clock skew, long outage).
MAX_MISSED = 100

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_VALUE = r"([0-9]+|[A-Za-z]{3})"
_ITEM = rf"(\*|\?|{_VALUE}(-{_VALUE})?)(/[0-9]+)?"
_FIELD = rf"{_ITEM}(,{_ITEM})*"
# The CRD schema uses the same pattern (RE2 and Python agree on it).
SCHEDULE_PATTERN = (
    rf"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|{_FIELD}([ \t]+{_FIELD}){{4}})$"
)
_SCHEDULE = re.compile(SCHEDULE_PATTERN)

# croniter searches forward without a bound on skipped wall times; we cap ours.
_GUARD = 1000


class ConcurrencyPolicy(enum.StrEnum):
    ALLOW = "Allow"
    FORBID = "Forbid"
    REPLACE = "Replace"


class Reason(enum.StrEnum):
    SCHEDULED = "Scheduled"
    SKIPPED_FORBID = "SkippedForbid"
    MISSED_SCHEDULE = "MissedSchedule"
    TOO_MANY_MISSED = "TooManyMissed"
    SUSPENDED = "Suspended"
    TOO_MANY_FAILURES = "TooManyFailures"
    INVALID_SPEC = "InvalidSpec"


# Reasons describing what happened at the last processed schedule time: they
# stay in status until the next one is processed (or the next time changes).
_OUTCOMES = frozenset(
    {Reason.SCHEDULED, Reason.SKIPPED_FORBID, Reason.MISSED_SCHEDULE, Reason.TOO_MANY_MISSED}
)


# --- spec ---------------------------------------------------------------------------


def _check_schedule(value: str) -> str:
    if not _SCHEDULE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a cron schedule: five fields (minute hour day-of-month month"
            " day-of-week), e.g. */15 * * * *, or one of " + ", ".join(MACROS)
        )
    try:
        it = croniter.croniter(value, datetime.datetime(2000, 1, 1, tzinfo=UTC))
    except croniter.CroniterError as exc:
        raise ValueError(f"{value!r} is not a valid cron schedule: {exc}") from None
    try:
        it.get_next(datetime.datetime)
    except croniter.CroniterError:
        raise ValueError(f"{value!r} never fires (no month has such a day)") from None
    return value


def zone_of(name: str | None) -> datetime.tzinfo:
    """The time zone of spec.timeZone; ValueError naming it if unknown."""
    if not name:
        return UTC
    if name == "Local":
        raise ValueError("'Local' is not allowed: name an IANA time zone such as Europe/Berlin")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None


def _check_zone(value: str | None) -> str | None:
    if not value:
        return None  # "" means UTC, as absent
    zone_of(value)
    return value


class _TemplateMeta(model._Spec):
    labels: dict[str, str] = pydantic.Field(default_factory=dict)
    annotations: dict[str, str] = pydantic.Field(default_factory=dict)


class _JobTemplate(model._Spec):
    metadata: _TemplateMeta = _TemplateMeta()
    spec: model.PipelineJobSpec


def _check_template(value: dict[str, Any]) -> dict[str, Any]:
    # A ValidationError here keeps its field path under jobTemplate (pydantic
    # prefixes it), so spec_error_from names e.g. spec.jobTemplate.spec.type.
    _JobTemplate.model_validate(value)
    return value


class _RunTemplate(model._Spec):
    metadata: _TemplateMeta = _TemplateMeta()
    spec: pipeline_spec.PipelineRunSpec


def _check_run_template(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Checked as a PipelineRun spec; kept raw, copied into each PipelineRun unchanged.
    if value is not None:
        _RunTemplate.model_validate(value)
    return value


def _check_job_template(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else _check_template(value)


class CronSpec(model._Spec):
    schedule: Annotated[str, pydantic.AfterValidator(_check_schedule)]
    time_zone: Annotated[str | None, pydantic.AfterValidator(_check_zone)] = None
    concurrency_policy: ConcurrencyPolicy = ConcurrencyPolicy.ALLOW
    suspend: bool = False
    starting_deadline_seconds: int | None = pydantic.Field(default=None, ge=0)
    successful_jobs_history_limit: int = pydantic.Field(default=3, ge=0)
    failed_jobs_history_limit: int = pydantic.Field(default=1, ge=0)
    max_consecutive_failures: int | None = pydantic.Field(default=None, ge=1)  # None: never
    # Raw, as the user wrote it: {metadata: {labels, annotations}, spec: <PipelineJob spec>};
    # validated as such, and copied into each child unchanged.
    job_template: Annotated[dict[str, Any] | None, pydantic.AfterValidator(_check_job_template)] = (
        None
    )
    # Instead of jobTemplate: {metadata, spec: <PipelineRun spec>}, a PipelineRun per time.
    pipeline_run_template: Annotated[
        dict[str, Any] | None, pydantic.AfterValidator(_check_run_template)
    ] = None

    @pydantic.model_validator(mode="after")
    def _one_template(self) -> CronSpec:
        if (self.job_template is None) == (self.pipeline_run_template is None):
            raise ValueError("give either jobTemplate or pipelineRunTemplate (exactly one)")
        return self

    @property
    def child_kind(self) -> str:
        return "PipelineJob" if self.job_template is not None else "PipelineRun"

    @property
    def zone(self) -> datetime.tzinfo:
        return zone_of(self.time_zone)

    @property
    def deadline(self) -> datetime.timedelta | None:
        if self.starting_deadline_seconds is None:
            return None
        return datetime.timedelta(seconds=self.starting_deadline_seconds)


# --- schedule times -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Schedule times of a cron expression in a zone, as aware UTC datetimes.

    Everything is converted to UTC at once: aware datetimes sharing a tzinfo
    compare by wall time, ignoring `fold`, which is wrong in a repeated hour.
    """

    expr: str
    zone: datetime.tzinfo = UTC

    @classmethod
    def of(cls, spec: CronSpec) -> Schedule:
        return cls(spec.schedule, spec.zone)

    def _iter(self, start: datetime.datetime) -> croniter.croniter[datetime.datetime]:
        return croniter.croniter(self.expr, start.astimezone(self.zone))

    def _fixed_hours(self) -> bool:
        return croniter.croniter(self.expr).expanded[croniter.HOUR_FIELD] != ["*"]

    def _counts(self, when: datetime.datetime) -> bool:
        """False for the second occurrence of a repeated wall time, if hours are named."""
        local = when.astimezone(self.zone)  # sets fold=1 on the second occurrence
        if not local.fold or local.replace(fold=0).utcoffset() == local.utcoffset():
            return True
        return not self._fixed_hours()

    def next_after(self, when: datetime.datetime) -> datetime.datetime | None:
        """The first schedule time strictly after `when`."""
        it = self._iter(when)
        for _ in range(_GUARD):
            try:
                candidate = it.get_next(datetime.datetime).astimezone(UTC)
            except croniter.CroniterError:
                return None
            if candidate > when and self._counts(candidate):
                return candidate
        return None

    def latest(
        self, *, after: datetime.datetime, until: datetime.datetime
    ) -> datetime.datetime | None:
        """The last schedule time in (after, until], without walking all of them."""
        first = self.next_after(after)
        if first is None or first > until:
            return None  # the common case: nothing due yet
        second = self.next_after(first)
        if second is None or second > until:
            return first
        it = self._iter(until)
        found: datetime.datetime | None = None
        for _ in range(_GUARD):
            try:
                candidate = it.get_prev(datetime.datetime).astimezone(UTC)
            except croniter.CroniterError:
                break
            if candidate < until and self._counts(candidate):
                found = candidate
                break
        # get_prev is strictly before; a time exactly at `until` counts too.
        probe = self.next_after(found if found is not None else after)
        while probe is not None and probe <= until:
            found = probe
            probe = self.next_after(probe)
        return found if found is not None and found > after else None

    def count(self, *, after: datetime.datetime, until: datetime.datetime, limit: int) -> int:
        """How many schedule times lie in (after, until], counting at most `limit`."""
        n = 0
        when: datetime.datetime | None = after
        while n < limit and when is not None:
            when = self.next_after(when)
            if when is None or when > until:
                break
            n += 1
        return n


# --- status -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class CronStatus:
    """status of a PipelineCronJob, as the core reads and writes it."""

    last_schedule_time: str | None = None
    last_successful_time: str | None = None
    next_schedule_time: str | None = None
    active: tuple[str, ...] = ()
    last_result: str | None = None  # SUCCESS | FAILED | REVOKED: the newest finished run
    consecutive_failures: int = 0
    # Schedule time (RFC 3339) of the newest finished run already counted.
    last_counted: str | None = None
    suspended: bool = False  # auto-suspended (TooManyFailures); spec.suspend is the user's
    # metadata.generation when auto-suspended; a later one with spec.suspend false resumes.
    suspended_generation: int | None = None
    reason: str | None = None
    message: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CronStatus:
        data = data or {}

        def integer(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            last_schedule_time=data.get("lastScheduleTime") or None,
            last_successful_time=data.get("lastSuccessfulTime") or None,
            next_schedule_time=data.get("nextScheduleTime") or None,
            active=tuple(str(a) for a in data.get("active") or ()),
            last_result=data.get("lastResult") or None,
            consecutive_failures=integer("consecutiveFailures") or 0,
            last_counted=data.get("lastCounted") or None,
            suspended=data.get("suspended") is True,
            suspended_generation=integer("suspendedGeneration"),
            reason=data.get("reason") or None,
            message=data.get("message") or None,
        )

    @property
    def stalled(self) -> bool:
        """It will not schedule again without a person changing the spec."""
        return self.suspended or self.reason == Reason.INVALID_SPEC

    def to_dict(
        self,
        *,
        generation: int,
        previous_conditions: Sequence[Mapping[str, Any]],
        now: datetime.datetime,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lastScheduleTime": self.last_schedule_time,
            "lastSuccessfulTime": self.last_successful_time,
            "nextScheduleTime": self.next_schedule_time,
            "active": list(self.active),
            "activeCount": len(self.active),  # for the printer column
            "lastResult": self.last_result,
            "consecutiveFailures": self.consecutive_failures,
            "lastCounted": self.last_counted,
            "suspended": self.suspended,
            "suspendedGeneration": self.suspended_generation,
            "reason": str(self.reason) if self.reason else None,
            "message": self.message,
            "observedGeneration": generation,
        }
        out["conditions"] = self.conditions(
            generation=generation, previous=previous_conditions, now=now
        )
        return {k: v for k, v in out.items() if v is not None}

    def conditions(
        self,
        *,
        generation: int,
        previous: Sequence[Mapping[str, Any]],
        now: datetime.datetime,
    ) -> list[dict[str, Any]]:
        """kstatus: Ready True while it schedules as the spec says (spec.suspend
        included: that is the user's wish); Stalled True when auto-suspended or
        invalid, until a person changes the spec."""
        wanted = {"Ready": not self.stalled, "Stalled": self.stalled}
        old = {c.get("type"): c for c in previous}
        out = []
        for type_, true in wanted.items():
            value = "True" if true else "False"
            before = old.get(type_) or {}
            kept = before.get("status") == value
            out.append(
                {
                    "type": type_,
                    "status": value,
                    "reason": str(self.reason or Reason.SCHEDULED),
                    "message": self.message or "",
                    "observedGeneration": generation,
                    "lastTransitionTime": (before.get("lastTransitionTime") if kept else None)
                    or model.format_time(now),
                }
            )
        return out


# --- children -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Child:
    """One PipelineJob created by this PipelineCronJob."""

    name: str
    scheduled_at: datetime.datetime  # from its annotation conveyor.dev/scheduled-at
    state: model.State | None = None
    finished_at: datetime.datetime | None = None
    revoke_requested: bool = False

    @property
    def finished(self) -> bool:
        return self.state is not None and self.state.finished


def parse_child(body: Mapping[str, Any]) -> Child | None:
    """A child from its PipelineJob body; None without a valid scheduled-at annotation."""
    md = body.get("metadata") or {}
    scheduled_at = model.parse_time((md.get("annotations") or {}).get(SCHEDULED_AT_ANNOTATION))
    if scheduled_at is None or not md.get("name"):
        return None
    job_status = model.JobStatus.from_dict(body.get("status"))
    return Child(
        name=str(md["name"]),
        scheduled_at=scheduled_at,
        state=job_status.state,
        finished_at=model.parse_time(job_status.finished_at),
        revoke_requested=(body.get("spec") or {}).get("revoke") is True,
    )


def child_name(*, cron: str, scheduled_at: datetime.datetime) -> str:
    """Deterministic: minutes since 1970 of the schedule time, as CronJob names Jobs."""
    return f"{cron}-{int(scheduled_at.timestamp() // 60)}"


def child_manifest(
    *, cron: model.Meta, spec: CronSpec, name: str, scheduled_at: datetime.datetime
) -> dict[str, Any]:
    """The PipelineJob (or PipelineRun) to create (the controller adds ownerReferences)."""
    template = spec.job_template or spec.pipeline_run_template or {}
    template_md = template.get("metadata") or {}
    return {
        "apiVersion": API_VERSION,
        "kind": spec.child_kind,
        "metadata": {
            "name": name,
            "namespace": cron.namespace,
            "labels": {**(template_md.get("labels") or {}), CRONJOB_LABEL: cron.name},
            "annotations": {
                **(template_md.get("annotations") or {}),
                SCHEDULED_AT_ANNOTATION: model.format_time(scheduled_at),
            },
        },
        "spec": copy.deepcopy(dict(template.get("spec") or {})),
    }


# --- the decision -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decision:
    status: CronStatus
    create: tuple[tuple[str, datetime.datetime], ...] = ()  # (child name, schedule time)
    revoke: tuple[str, ...] = ()  # revoke these (Replace) BEFORE creating
    delete: tuple[str, ...] = ()  # history limits
    events: tuple[lifecycle.Event, ...] = ()
    wake_at: datetime.datetime | None = None  # look again then, even without events


def parse(body: Mapping[str, Any]) -> tuple[model.Meta, CronSpec | model.SpecError, CronStatus]:
    spec: CronSpec | model.SpecError
    try:
        spec = CronSpec.model_validate(body.get("spec") or {})
    except pydantic.ValidationError as exc:
        spec = model.spec_error_from(exc, prefix="spec")
    return model.Meta.from_body(body), spec, CronStatus.from_dict(body.get("status"))


def invalid(*, status: CronStatus, error: model.SpecError) -> Decision:
    """A spec only the operator could refuse: Stalled/InvalidSpec; nothing created."""
    message = f"invalid spec: {error}; nothing is scheduled until it is fixed"
    events: tuple[lifecycle.Event, ...] = ()
    if status.reason != Reason.INVALID_SPEC or status.message != message:
        events = (lifecycle.Event(type="Warning", reason="InvalidSpec", message=message),)
    new = dataclasses.replace(
        status, reason=str(Reason.INVALID_SPEC), message=message, next_schedule_time=None
    )
    return Decision(status=new, events=events)


def decide(
    *,
    meta: model.Meta,
    spec: CronSpec,
    status: CronStatus,
    children: Sequence[Child],
    now: datetime.datetime,
) -> Decision:
    """What to do now: which runs to create, revoke and delete, and the new status."""
    schedule = Schedule.of(spec)
    events: list[lifecycle.Event] = []
    ordered = sorted(children, key=lambda c: (c.scheduled_at, c.name))

    status, last_failed = _count_finished(status=status, children=ordered)
    status = _resume_or_suspend(
        meta=meta,
        spec=spec,
        status=status,
        last_failed=last_failed,
        newest_finished=next((c for c in reversed(ordered) if c.finished), None),
        events=events,
    )
    delete = _over_history(spec=spec, status=status, children=ordered)

    active = [c for c in ordered if not c.finished]
    next_time = schedule.next_after(now)
    create: list[tuple[str, datetime.datetime]] = []
    revoke: list[str] = []
    outcome: tuple[Reason, str] | None = None

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


def _run(
    *,
    meta: model.Meta,
    spec: CronSpec,
    schedule: Schedule,
    earliest: datetime.datetime,
    latest: datetime.datetime,
    now: datetime.datetime,
    children: Sequence[Child],
    active: Sequence[Child],
    create: list[tuple[str, datetime.datetime]],
    revoke: list[str],
    events: list[lifecycle.Event],
) -> tuple[Reason, str] | None:
    """Handle the most recent due time `latest`; returns the outcome for status."""
    name = child_name(cron=meta.name, scheduled_at=latest)
    if any(c.name == name for c in children):
        return None  # created before (e.g. before a restart): nothing new to say
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
        return Reason.TOO_MANY_MISSED, message
    if deadline is not None and now - latest > deadline:
        late = int((now - latest).total_seconds())
        message = (
            f"missed the run at {at}: {late}s late, more than"
            f" spec.startingDeadlineSeconds ({spec.starting_deadline_seconds})"
        )
        events.append(lifecycle.Event(type="Warning", reason="MissedSchedule", message=message))
        return Reason.MISSED_SCHEDULE, message

    if active and spec.concurrency_policy is ConcurrencyPolicy.FORBID:
        running = ", ".join(c.name for c in active)
        message = (
            f"skipped the run at {at}: {running} has not finished"
            " (spec.concurrencyPolicy is Forbid)"
        )
        events.append(lifecycle.Event(type="Normal", reason="SkippedForbid", message=message))
        return Reason.SKIPPED_FORBID, message
    if active and spec.concurrency_policy is ConcurrencyPolicy.REPLACE:
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
    return Reason.SCHEDULED, message


def _count_finished(
    *, status: CronStatus, children: Sequence[Child]
) -> tuple[CronStatus, str | None]:
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
    spec: CronSpec,
    status: CronStatus,
    last_failed: str | None,
    newest_finished: Child | None,
    events: list[lifecycle.Event],
) -> CronStatus:
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
            reason=str(Reason.TOO_MANY_FAILURES),
            message=message,
        )
        events.append(lifecycle.Event(type="Warning", reason="Suspended", message=message))
    return status


def _over_history(*, spec: CronSpec, status: CronStatus, children: Sequence[Child]) -> list[str]:
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


def _oldest_beyond(children: Sequence[Child], keep: int) -> list[Child]:
    return list(children[: max(len(children) - keep, 0)])


def _explain(
    *,
    spec: CronSpec,
    status: CronStatus,
    outcome: tuple[Reason, str] | None,
    next_time: datetime.datetime | None,
) -> CronStatus:
    """reason and message: the state, or what happened at the last processed time."""
    upcoming = _next_run(next_time, spec=spec)
    if status.suspended:
        return status  # TooManyFailures: its message says how to resume
    if spec.suspend:
        message = f"suspended by spec.suspend; {upcoming} once resumed"
        return dataclasses.replace(status, reason=str(Reason.SUSPENDED), message=message)
    if outcome is not None:
        reason, what = outcome
        return dataclasses.replace(status, reason=str(reason), message=f"{what}; {upcoming}")
    if status.reason in _OUTCOMES and status.message and status.message.endswith(upcoming):
        return status  # still true: keep what happened last
    return dataclasses.replace(status, reason=str(Reason.SCHEDULED), message=upcoming)


def _next_run(when: datetime.datetime | None, *, spec: CronSpec) -> str:
    if when is None:
        return "no next run"
    text = f"next run at {model.format_time(when)}"
    if spec.time_zone:
        local = when.astimezone(spec.zone)
        text += f" ({local:%Y-%m-%d %H:%M %Z}, {spec.time_zone})"
    return text
