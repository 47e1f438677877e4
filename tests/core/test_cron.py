"""cron: PipelineCronJob scheduling as a pure function of spec, status, children
and a fake clock, with CronJob's edge cases: missed times after downtime,
startingDeadlineSeconds, Allow/Forbid/Replace, suspend, auto-suspend after
repeated failures, history limits and daylight-saving transitions."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic
import pytest

from conveyor.core import cron, model

State = model.State
UTC = datetime.UTC
T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # a Thursday
NAME = "nightly"
NAMESPACE = "team-a"
BERLIN = "Europe/Berlin"
JOB_SPEC: dict[str, Any] = {"type": "delay", "params": {"duration": "5s"}}
JOB_TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"team": "a"}, "annotations": {"owner": "ci"}},
    "spec": JOB_SPEC,
}


def at(*, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime.datetime:
    """T0 plus an offset: `at(minutes=-15)` is 11:45 UTC."""
    return T0 + datetime.timedelta(hours=hours, minutes=minutes, seconds=seconds)


def utc(text: str) -> datetime.datetime:
    """'2026-03-29T01:00' as an aware UTC time."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def ts(when: datetime.datetime) -> str:
    return model.format_time(when)


def body(
    *,
    spec: Mapping[str, Any] | None = None,
    status: Mapping[str, Any] | None = None,
    created: datetime.datetime = T0 - datetime.timedelta(hours=1),
    generation: int = 1,
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": NAME,
        "namespace": NAMESPACE,
        "uid": "u-1",
        "resourceVersion": "7",
        "generation": generation,
        "creationTimestamp": ts(created),
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(created)
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineCronJob",
        "metadata": metadata,
        "spec": {"schedule": "*/15 * * * *", "jobTemplate": JOB_TEMPLATE, **(spec or {})},
        "status": dict(status or {}),
    }


def parsed(**kw: Any) -> tuple[model.Meta, cron.CronSpec, cron.CronStatus]:
    meta, spec, status = cron.parse(body(**kw))
    assert isinstance(spec, cron.CronSpec), spec
    return meta, spec, status


def name_of(when: datetime.datetime) -> str:
    return cron.child_name(cron=NAME, scheduled_at=when)


def run(
    when: datetime.datetime,
    state: State | None = None,
    *,
    finished: datetime.datetime | None = None,
    revoke: bool = False,
) -> cron.Child:
    """The child for schedule time `when`; finished 5 minutes later unless told."""
    if finished is None and state is not None and state.finished:
        finished = when + datetime.timedelta(minutes=5)
    return cron.Child(
        name=name_of(when),
        scheduled_at=when,
        state=state,
        finished_at=finished,
        revoke_requested=revoke,
    )


S, F, R = State.SUCCESS, State.FAILED, State.REVOKED


# --- decide: the table ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    id: str
    now: datetime.datetime
    spec: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    status: cron.CronStatus = dataclasses.field(default_factory=cron.CronStatus)
    children: Sequence[cron.Child] = ()
    created: datetime.datetime = T0 - datetime.timedelta(hours=1)
    generation: int = 1
    deleting: bool = False
    # expected
    create: Sequence[datetime.datetime] = ()
    revoke: Sequence[datetime.datetime] = ()  # by schedule time
    delete: Sequence[datetime.datetime] = ()  # by schedule time
    events: Sequence[tuple[str, str]] = ()
    next: datetime.datetime | None = None  # nextScheduleTime, and wake_at
    reason: str = "Scheduled"
    message: Sequence[str] = ()
    expect: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # status fields

    def decide(self, status: cron.CronStatus | None = None) -> cron.Decision:
        return decide(self, status=status, children=self.children)


def decide(
    case: Case, *, status: cron.CronStatus | None, children: Sequence[cron.Child]
) -> cron.Decision:
    meta, spec, _ = parsed(
        spec=case.spec, created=case.created, generation=case.generation, deleting=case.deleting
    )
    return cron.decide(
        meta=meta, spec=spec, status=status or case.status, children=children, now=case.now
    )


def last(when: datetime.datetime, **kw: Any) -> cron.CronStatus:
    return cron.CronStatus(last_schedule_time=ts(when), **kw)


SUSPENDED_MESSAGE = "suspended after 3 failed runs in a row (last: nightly-29454465); ..."

CASES = [
    # -- firing --------------------------------------------------------------------------
    Case(
        id="nothing is due before the first time",
        created=at(minutes=-1),
        now=at(seconds=-1),
        next=T0,
        message=["next run at 2026-01-01T12:00:00Z"],
    ),
    Case(
        id="fires at the time",
        created=at(minutes=-1),
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
        message=[f"created {name_of(T0)} for the run at 2026-01-01T12:00:00Z", "next run at"],
        expect={"last_schedule_time": ts(T0), "active": (name_of(T0),)},
    ),
    Case(
        id="fires when looked at a little late",
        created=at(minutes=-1),
        now=at(seconds=20),
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
    ),
    Case(
        id="a time is handled once",
        status=last(T0),
        now=at(minutes=10),
        next=at(minutes=15),
        expect={"last_schedule_time": ts(T0)},
    ),
    Case(
        id="times before the creation time are not missed ones",
        created=at(seconds=30),
        now=at(minutes=10),
        next=at(minutes=15),
        expect={"last_schedule_time": None},
    ),
    Case(
        id="idempotent: the run exists (status write lost before a restart); not created again",
        spec={"concurrencyPolicy": "Forbid"},
        status=last(at(minutes=-15)),
        children=[run(T0, State.IN_QUEUE)],
        now=at(minutes=1),
        next=at(minutes=15),
        expect={"last_schedule_time": ts(T0), "active": (name_of(T0),)},
    ),
    Case(
        id="being deleted: nothing created",
        deleting=True,
        status=last(at(minutes=-15)),
        now=T0,
        next=at(minutes=15),
    ),
    Case(
        id="a spec fixed after InvalidSpec schedules again",
        status=cron.CronStatus(reason="InvalidSpec", message="invalid spec: ..."),
        created=at(minutes=-1),
        now=at(seconds=-1),
        next=T0,
    ),
    # -- missed times --------------------------------------------------------------------
    Case(
        id="after downtime, one catch-up: only the most recent missed time runs",
        status=last(at(hours=-1)),
        now=at(minutes=7),
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
        message=["3 earlier missed runs skipped: at most one catch-up"],
    ),
    Case(
        id="more than 100 missed: none started, TooManyMissed, and it does not repeat",
        spec={"schedule": "* * * * *"},
        status=last(at(minutes=-101)),
        now=T0,
        events=[("Warning", "TooManyMissed")],
        next=at(minutes=1),
        reason="TooManyMissed",
        message=["more than 100 scheduled runs were missed", "spec.startingDeadlineSeconds"],
        expect={"last_schedule_time": ts(T0)},
    ),
    Case(
        id="exactly 100 missed: the most recent runs",
        spec={"schedule": "* * * * *"},
        status=last(at(minutes=-100)),
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=1),
    ),
    Case(
        id="never run, created long ago: TooManyMissed, counted from the creation time",
        spec={"schedule": "* * * * *"},
        created=at(hours=-5),
        now=T0,
        events=[("Warning", "TooManyMissed")],
        next=at(minutes=1),
        reason="TooManyMissed",
        message=["since 2026-01-01T07:00:00Z"],
    ),
    Case(
        id="startingDeadlineSeconds passed: the run is skipped with MissedSchedule",
        spec={"schedule": "0 * * * *", "startingDeadlineSeconds": 120},
        status=last(at(hours=-1)),
        now=at(minutes=5),
        events=[("Warning", "MissedSchedule")],
        next=at(hours=1),
        reason="MissedSchedule",
        message=["missed the run at 2026-01-01T12:00:00Z: 300s late", "(120)"],
        expect={"last_schedule_time": ts(T0)},
    ),
    Case(
        id="within startingDeadlineSeconds: the run starts late",
        spec={"schedule": "0 * * * *", "startingDeadlineSeconds": 120},
        status=last(at(hours=-1)),
        now=at(minutes=2),
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(hours=1),
    ),
    Case(
        id="startingDeadlineSeconds 0: only exactly on time",
        spec={"startingDeadlineSeconds": 0},
        status=last(at(minutes=-15)),
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
    ),
    Case(
        id="startingDeadlineSeconds bounds the missed count: no TooManyMissed",
        spec={"schedule": "* * * * *", "startingDeadlineSeconds": 300},
        status=last(at(hours=-10)),
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=1),
        message=["4 earlier missed runs skipped"],
    ),
    # -- concurrencyPolicy ---------------------------------------------------------------
    Case(
        id="Allow (the default): starts alongside the unfinished run",
        status=last(at(minutes=-15)),
        children=[run(at(minutes=-15), State.RUNNING)],
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
        expect={"active": (name_of(at(minutes=-15)), name_of(T0))},
    ),
    Case(
        id="Forbid: skipped while one is unfinished; lastScheduleTime still moves",
        spec={"concurrencyPolicy": "Forbid"},
        status=last(at(minutes=-15)),
        children=[run(at(minutes=-15), State.RUNNING)],
        now=T0,
        events=[("Normal", "SkippedForbid")],
        next=at(minutes=15),
        reason="SkippedForbid",
        message=[f"skipped the run at 2026-01-01T12:00:00Z: {name_of(at(minutes=-15))}"],
        expect={"last_schedule_time": ts(T0), "active": (name_of(at(minutes=-15)),)},
    ),
    Case(
        id="Forbid: a run just created (no status yet) is unfinished too",
        spec={"concurrencyPolicy": "Forbid"},
        status=last(at(minutes=-15)),
        children=[run(at(minutes=-15))],
        now=T0,
        events=[("Normal", "SkippedForbid")],
        next=at(minutes=15),
        reason="SkippedForbid",
    ),
    Case(
        id="Forbid: starts when the earlier run has finished",
        spec={"concurrencyPolicy": "Forbid"},
        status=last(at(minutes=-15)),
        children=[run(at(minutes=-15), S)],
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
    ),
    Case(
        id="Replace: revokes the unfinished runs, then starts",
        spec={"concurrencyPolicy": "Replace"},
        status=last(at(minutes=-15)),
        children=[run(at(minutes=-30), State.RUNNING), run(at(minutes=-15), State.IN_QUEUE)],
        now=T0,
        create=[T0],
        revoke=[at(minutes=-30), at(minutes=-15)],
        events=[("Normal", "Replaced"), ("Normal", "Scheduled")],
        next=at(minutes=15),
        expect={"active": (name_of(at(minutes=-30)), name_of(at(minutes=-15)), name_of(T0))},
    ),
    Case(
        id="Replace: a revoke already asked for is not asked again",
        spec={"concurrencyPolicy": "Replace"},
        status=last(at(minutes=-15)),
        children=[run(at(minutes=-15), State.RUNNING, revoke=True)],
        now=T0,
        create=[T0],
        events=[("Normal", "Replaced"), ("Normal", "Scheduled")],
        next=at(minutes=15),
    ),
    Case(
        id="Replace: nothing unfinished, nothing revoked",
        spec={"concurrencyPolicy": "Replace"},
        status=last(at(minutes=-15)),
        children=[run(at(minutes=-15), F)],
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
    ),
    # -- suspend -------------------------------------------------------------------------
    Case(
        id="spec.suspend: nothing created, the next time still shown",
        spec={"suspend": True},
        status=last(at(minutes=-15)),
        now=T0,
        next=at(minutes=15),
        reason="Suspended",
        message=["suspended by spec.suspend", "next run at 2026-01-01T12:15:00Z"],
        expect={"last_schedule_time": ts(at(minutes=-15))},
    ),
    Case(
        id="spec.suspend set back to false: the latest time missed meanwhile runs once",
        status=last(at(hours=-2), reason="Suspended", message="suspended by spec.suspend; ..."),
        now=at(minutes=1),
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
        message=["7 earlier missed runs skipped"],
    ),
    # -- consecutive failures and auto-suspend -------------------------------------------
    Case(
        id="maxConsecutiveFailures reached: suspends itself (status.suspended), no run",
        spec={"maxConsecutiveFailures": 3},
        generation=4,
        status=last(at(minutes=-15)),
        children=[run(at(minutes=m), F) for m in (-45, -30, -15)],
        now=T0,
        delete=[at(minutes=-45), at(minutes=-30)],
        events=[("Warning", "Suspended")],
        next=at(minutes=15),
        reason="TooManyFailures",
        message=[
            f"suspended after 3 failed runs in a row (last: {name_of(at(minutes=-15))})",
            "to resume, change the spec, e.g. set spec.suspend to true and back to false",
        ],
        expect={
            "suspended": True,
            "suspended_generation": 4,
            "consecutive_failures": 3,
            "last_counted": ts(at(minutes=-15)),
            "last_result": "FAILED",
            "last_schedule_time": ts(at(minutes=-15)),
        },
    ),
    Case(
        id="fewer failures than maxConsecutiveFailures: runs on",
        spec={"maxConsecutiveFailures": 3, "failedJobsHistoryLimit": 5},
        status=last(at(minutes=-15)),
        children=[run(at(minutes=m), F) for m in (-30, -15)],
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
        expect={"consecutive_failures": 2, "suspended": False},
    ),
    Case(
        id="a SUCCESS resets the count; REVOKED neither counts nor resets",
        spec={"failedJobsHistoryLimit": 5},
        status=last(at(minutes=-15)),
        children=[
            run(at(minutes=-60), F),
            run(at(minutes=-45), S),
            run(at(minutes=-30), F),
            run(at(minutes=-15), R),
        ],
        now=at(minutes=5),
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
        expect={
            "consecutive_failures": 1,
            "last_successful_time": ts(at(minutes=-40)),
            "last_result": "REVOKED",
            "last_counted": ts(at(minutes=-15)),
        },
    ),
    Case(
        id="runs counted before are not counted again",
        spec={"maxConsecutiveFailures": 3, "failedJobsHistoryLimit": 5},
        status=last(at(minutes=-15), consecutive_failures=2, last_counted=ts(at(minutes=-30))),
        children=[run(at(minutes=m), F) for m in (-45, -30)] + [run(at(minutes=-15), S)],
        now=T0,
        create=[T0],
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
        expect={"consecutive_failures": 0, "last_counted": ts(at(minutes=-15))},
    ),
    Case(
        id="counting waits for an unfinished earlier run (overlapping runs, Allow)",
        spec={"failedJobsHistoryLimit": 0},
        status=last(at(minutes=-15)),
        children=[
            run(at(minutes=-45), F),
            run(at(minutes=-30), State.RUNNING),
            run(at(minutes=-15), F),
        ],
        now=at(minutes=1),
        create=[T0],
        delete=[at(minutes=-45)],  # the uncounted FAILED one is kept for now
        events=[("Normal", "Scheduled")],
        next=at(minutes=15),
        expect={"consecutive_failures": 1, "last_counted": ts(at(minutes=-45))},
    ),
    Case(
        id="auto-suspended: stays suspended while the spec is unchanged",
        spec={"maxConsecutiveFailures": 3},
        generation=4,
        status=last(
            at(minutes=-15),
            suspended=True,
            suspended_generation=4,
            consecutive_failures=3,
            last_counted=ts(at(minutes=-15)),
            reason="TooManyFailures",
            message=SUSPENDED_MESSAGE,
        ),
        children=[run(at(minutes=-15), F)],
        now=T0,
        next=at(minutes=15),
        reason="TooManyFailures",
        message=[SUSPENDED_MESSAGE],
        expect={"suspended": True, "last_schedule_time": ts(at(minutes=-15))},
    ),
    Case(
        id="auto-suspended: spec.suspend true is not yet a resume",
        spec={"maxConsecutiveFailures": 3, "suspend": True},
        generation=5,
        status=last(
            at(minutes=-15),
            suspended=True,
            suspended_generation=4,
            consecutive_failures=3,
            last_counted=ts(at(minutes=-15)),
            reason="TooManyFailures",
            message=SUSPENDED_MESSAGE,
        ),
        children=[run(at(minutes=-15), F)],
        now=T0,
        next=at(minutes=15),
        reason="TooManyFailures",
        expect={"suspended": True, "suspended_generation": 4},
    ),
    Case(
        id="auto-suspended: a later generation with spec.suspend false resumes, count reset",
        spec={"maxConsecutiveFailures": 3},
        generation=6,
        status=last(
            at(minutes=-15),
            suspended=True,
            suspended_generation=4,
            consecutive_failures=3,
            last_counted=ts(at(minutes=-30)),
            reason="TooManyFailures",
            message=SUSPENDED_MESSAGE,
        ),
        # finished while suspended, not yet counted: not held against the resumed one
        children=[run(at(minutes=-30), F), run(at(minutes=-15), F)],
        now=T0,
        create=[T0],
        delete=[at(minutes=-30)],
        events=[("Normal", "Resumed"), ("Normal", "Scheduled")],
        next=at(minutes=15),
        expect={
            "suspended": False,
            "suspended_generation": None,
            "consecutive_failures": 0,
            "last_counted": ts(at(minutes=-15)),
        },
    ),
    # -- history -------------------------------------------------------------------------
    Case(
        id="history: the newest SUCCESS and FAILED/REVOKED kept, older deleted",
        spec={"successfulJobsHistoryLimit": 2, "failedJobsHistoryLimit": 1},
        status=last(T0),
        children=[
            run(at(minutes=-120), S),
            run(at(minutes=-105), S),
            run(at(minutes=-90), F),
            run(at(minutes=-75), S),
            run(at(minutes=-60), R),
            run(at(minutes=-45), F),
            run(T0, State.RUNNING),
        ],
        now=at(minutes=5),
        delete=[at(minutes=-120), at(minutes=-90), at(minutes=-60)],
        next=at(minutes=15),
        expect={"active": (name_of(T0),), "last_counted": ts(at(minutes=-45))},
    ),
    Case(
        id="history limits 0: every finished run deleted, unfinished ones kept",
        spec={"successfulJobsHistoryLimit": 0, "failedJobsHistoryLimit": 0},
        status=last(T0),
        children=[run(at(minutes=-30), S), run(at(minutes=-15), F), run(T0, State.RUNNING)],
        now=at(minutes=5),
        delete=[at(minutes=-30), at(minutes=-15)],
        next=at(minutes=15),
    ),
    Case(
        id="history within the limits: nothing deleted (defaults 3 and 1)",
        status=last(T0),
        children=[run(at(minutes=m), S) for m in (-45, -30, -15)] + [run(T0, F)],
        now=at(minutes=10),
        next=at(minutes=15),
        expect={"last_result": "FAILED", "last_successful_time": ts(at(minutes=-10))},
    ),
    # -- time zones and daylight saving (Europe/Berlin) ----------------------------------
    Case(
        id="timeZone: 09:00 in Berlin is 08:00 UTC in winter",
        spec={"schedule": "0 9 * * *", "timeZone": BERLIN},
        created=utc("2026-01-01T07:00"),
        now=utc("2026-01-01T08:00"),
        create=[utc("2026-01-01T08:00")],
        events=[("Normal", "Scheduled")],
        next=utc("2026-01-02T08:00"),
        message=["next run at 2026-01-02T08:00:00Z (2026-01-02 09:00 CET, Europe/Berlin)"],
    ),
    Case(
        id="timeZone: 09:00 in Berlin is 07:00 UTC in summer",
        spec={"schedule": "0 9 * * *", "timeZone": BERLIN},
        created=utc("2026-07-01T06:00"),
        now=utc("2026-07-01T07:00"),
        create=[utc("2026-07-01T07:00")],
        events=[("Normal", "Scheduled")],
        next=utc("2026-07-02T07:00"),
    ),
    Case(
        id="spring forward: 02:30 does not exist on 2026-03-29; nothing before 03:00 CEST",
        spec={"schedule": "30 2 * * *", "timeZone": BERLIN},
        created=utc("2026-03-01T00:00"),
        status=last(utc("2026-03-28T01:30")),  # 02:30 CET
        now=utc("2026-03-29T00:59"),  # 01:59 CET
        next=utc("2026-03-29T01:00"),  # 03:00 CEST
    ),
    Case(
        id="spring forward: the nonexistent 02:30 runs once, at 03:00 CEST",
        spec={"schedule": "30 2 * * *", "timeZone": BERLIN},
        created=utc("2026-03-01T00:00"),
        status=last(utc("2026-03-28T01:30")),
        now=utc("2026-03-29T01:00"),
        create=[utc("2026-03-29T01:00")],
        events=[("Normal", "Scheduled")],
        next=utc("2026-03-30T00:30"),  # 02:30 CEST the day after
    ),
    Case(
        id="fall back: 02:30 occurs twice on 2026-10-25; runs at the first (CEST)",
        spec={"schedule": "30 2 * * *", "timeZone": BERLIN},
        created=utc("2026-10-01T00:00"),
        status=last(utc("2026-10-24T00:30")),
        now=utc("2026-10-25T00:30"),
        create=[utc("2026-10-25T00:30")],
        events=[("Normal", "Scheduled")],
        next=utc("2026-10-26T01:30"),  # not 2026-10-25T01:30Z, the repeated 02:30 CET
    ),
    Case(
        id="fall back: not again at the repeated 02:30 (CET)",
        spec={"schedule": "30 2 * * *", "timeZone": BERLIN},
        created=utc("2026-10-01T00:00"),
        status=last(utc("2026-10-25T00:30")),
        now=utc("2026-10-25T01:30"),
        next=utc("2026-10-26T01:30"),
    ),
    Case(
        id="fall back, hour field *: elapsed time, so 02:00 runs in both hours",
        spec={"schedule": "0 * * * *", "timeZone": BERLIN},
        created=utc("2026-10-01T00:00"),
        status=last(utc("2026-10-25T00:00")),  # 02:00 CEST
        now=utc("2026-10-25T01:00"),  # 02:00 CET
        create=[utc("2026-10-25T01:00")],
        events=[("Normal", "Scheduled")],
        next=utc("2026-10-25T02:00"),
    ),
]


def by_time(times: Sequence[datetime.datetime]) -> list[str]:
    return [name_of(t) for t in times]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decide(case: Case) -> None:
    decision = case.decide()
    new = decision.status

    assert {
        "create": decision.create,
        "revoke": decision.revoke,
        "delete": decision.delete,
        "events": [(e.type, e.reason) for e in decision.events],
        "next": new.next_schedule_time,
        "wake_at": decision.wake_at,
        "reason": new.reason,
    } == {
        "create": tuple((name_of(t), t) for t in case.create),
        "revoke": tuple(by_time(case.revoke)),
        "delete": tuple(by_time(case.delete)),
        "events": list(case.events),
        "next": ts(case.next) if case.next else None,
        "wake_at": case.next,
        "reason": case.reason,
    }
    for fragment in case.message:
        assert fragment in (new.message or ""), f"{fragment!r} not in {new.message!r}"
    for field, value in case.expect.items():
        assert getattr(new, field) == value, field


def applied(case: Case, decision: cron.Decision) -> list[cron.Child]:
    """The children after the controller carried out `decision`."""
    revoked = set(decision.revoke)
    deleted = set(decision.delete)
    after = [
        dataclasses.replace(c, revoke_requested=c.revoke_requested or c.name in revoked)
        for c in case.children
        if c.name not in deleted
    ]
    return after + [cron.Child(name=n, scheduled_at=t) for n, t in decision.create]


def persisted(status: cron.CronStatus, *, generation: int = 1) -> dict[str, Any]:
    return status.to_dict(generation=generation, previous_conditions=(), now=T0)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_deciding_again_changes_nothing_and_says_nothing(case: Case) -> None:
    """After a restart or a repeated event, the same world decides the same:
    nothing created twice, no second Event, no failure counted twice."""
    first = case.decide()
    status = cron.CronStatus.from_dict(persisted(first.status))
    again = decide(case, status=status, children=applied(case, first))
    assert (again.create, again.revoke, again.delete, again.events) == ((), (), (), ())
    assert persisted(again.status) == persisted(first.status)
    assert again.wake_at == first.wake_at


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_status_reads_back_as_written(case: Case) -> None:
    new = case.decide().status
    assert cron.CronStatus.from_dict(persisted(new)) == new


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_event_is_a_sentence_and_warnings_mean_trouble(case: Case) -> None:
    for event in case.decide().events:
        assert event.message
        warning = event.reason in ("MissedSchedule", "TooManyMissed", "Suspended")
        assert (event.type == "Warning") is warning, event


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_wake_at_is_the_next_schedule_time_after_now(case: Case) -> None:
    decision = case.decide()
    assert decision.wake_at is not None
    assert decision.wake_at > case.now
    assert decision.status.next_schedule_time == ts(decision.wake_at)


# --- a fake clock over many decisions -------------------------------------------------


@dataclasses.dataclass
class World:
    """The controller and the PipelineJobs around `decide`, on a fake clock: runs
    take `duration`, end with `result`, and a revoke ends them REVOKED at once."""

    spec: dict[str, Any]
    created: datetime.datetime
    generation: int = 1
    duration: datetime.timedelta = datetime.timedelta(minutes=1)
    result: State = State.SUCCESS
    status: dict[str, Any] = dataclasses.field(default_factory=dict)
    children: dict[str, cron.Child] = dataclasses.field(default_factory=dict)
    started: list[datetime.datetime] = dataclasses.field(default_factory=list)
    events: list[str] = dataclasses.field(default_factory=list)

    def tick(self, now: datetime.datetime, *, write_status: bool = True) -> cron.Decision:
        for name, child in list(self.children.items()):
            if child.finished:
                continue
            if child.revoke_requested:
                self.children[name] = dataclasses.replace(child, state=R, finished_at=now)
            elif now >= child.scheduled_at + self.duration:
                done = child.scheduled_at + self.duration
                self.children[name] = dataclasses.replace(
                    child, state=self.result, finished_at=done
                )
            else:
                self.children[name] = dataclasses.replace(child, state=State.RUNNING)
        meta, spec, status = cron.parse(
            body(
                spec=self.spec, status=self.status, created=self.created, generation=self.generation
            )
        )
        assert isinstance(spec, cron.CronSpec)
        decision = cron.decide(
            meta=meta, spec=spec, status=status, children=list(self.children.values()), now=now
        )
        for name in decision.revoke:
            self.children[name] = dataclasses.replace(self.children[name], revoke_requested=True)
        for name, when in decision.create:
            assert name not in self.children, f"{name} created twice"
            self.children[name] = cron.Child(name=name, scheduled_at=when)
            self.started.append(when)
        for name in decision.delete:
            del self.children[name]
        self.events += [e.reason for e in decision.events]
        if write_status:
            self.status = decision.status.to_dict(
                generation=self.generation,
                previous_conditions=self.status.get("conditions", ()),
                now=now,
            )
        return decision

    def run_until(self, end: datetime.datetime, *, step: datetime.timedelta) -> None:
        now = self.created
        while now <= end:
            self.tick(now)
            now += step


def test_every_minute_for_an_hour_looked_at_every_10s_starts_each_time_once() -> None:
    world = World(spec={"schedule": "* * * * *"}, created=at(seconds=-30))
    world.run_until(at(minutes=59, seconds=59), step=datetime.timedelta(seconds=10))
    assert world.started == [at(minutes=m) for m in range(60)]
    assert world.events.count("Scheduled") == 60
    assert world.status["lastScheduleTime"] == ts(at(minutes=59))
    # history: 3 successful kept (the newest), the running one is active
    finished = sorted(c.scheduled_at for c in world.children.values() if c.finished)
    assert finished == [at(minutes=m) for m in (56, 57, 58)]


def test_following_wake_at_alone_starts_each_time_once() -> None:
    world = World(spec={"schedule": "*/15 * * * *"}, created=at(minutes=-1))
    now = world.created
    for _ in range(8):
        decision = world.tick(now)
        assert decision.wake_at is not None
        now = decision.wake_at
    assert world.started == [at(minutes=15 * k) for k in range(7)]


def test_a_restart_across_the_time_whose_status_write_was_lost_creates_one_run() -> None:
    world = World(spec={"schedule": "*/15 * * * *"}, created=at(minutes=-1))
    world.tick(T0, write_status=False)  # created the run, then crashed before the status
    world.tick(at(seconds=30))  # restarted: same name, already there
    assert world.started == [T0]
    assert world.status["lastScheduleTime"] == ts(T0)
    assert world.status["active"] == [name_of(T0)]


def test_forbid_skips_while_a_long_run_goes_on() -> None:
    world = World(
        spec={"schedule": "*/15 * * * *", "concurrencyPolicy": "Forbid"},
        created=at(minutes=-1),
        duration=datetime.timedelta(minutes=20),
    )
    world.run_until(at(minutes=60), step=datetime.timedelta(minutes=1))
    # 12:00 runs to 12:20, so 12:15 is skipped; 12:30 runs to 12:50, 12:45 skipped...
    assert world.started == [T0, at(minutes=30), at(minutes=60)]
    assert world.events.count("SkippedForbid") == 2


def test_replace_revokes_the_long_run_for_each_new_one() -> None:
    world = World(
        spec={"schedule": "*/15 * * * *", "concurrencyPolicy": "Replace"},
        created=at(minutes=-1),
        duration=datetime.timedelta(minutes=20),
    )
    world.run_until(at(minutes=30), step=datetime.timedelta(minutes=1))
    assert world.started == [T0, at(minutes=15), at(minutes=30)]
    by_time = {c.scheduled_at: c for c in world.children.values()}
    assert by_time[T0].state is R  # revoked when 12:15 started
    assert by_time[at(minutes=15)].revoke_requested  # revoked as 12:30 starts
    assert world.events.count("Replaced") == 2


def test_three_failures_in_a_row_suspend_until_the_spec_changes() -> None:
    world = World(
        spec={"schedule": "*/15 * * * *", "maxConsecutiveFailures": 3},
        created=at(minutes=-1),
        result=State.FAILED,
        generation=2,
    )
    world.run_until(at(minutes=90), step=datetime.timedelta(minutes=1))
    assert world.started == [T0, at(minutes=15), at(minutes=30)]
    assert world.status["suspended"] is True
    assert world.status["reason"] == "TooManyFailures"
    assert world.status["suspendedGeneration"] == 2
    assert {c["type"]: c["status"] for c in world.status["conditions"]} == {
        "Ready": "False",
        "Stalled": "True",
    }
    assert world.events.count("Suspended") == 1

    # A person sets spec.suspend true, then false: two new generations.
    world.spec["suspend"] = True
    world.generation = 3
    world.tick(at(minutes=91))
    assert world.status["suspended"] is True
    world.spec["suspend"] = False
    world.generation = 4
    world.result = State.SUCCESS
    world.tick(at(minutes=92))
    assert world.status["suspended"] is False
    assert world.status["consecutiveFailures"] == 0
    assert world.events[-2:] == ["Resumed", "Scheduled"]  # the 12:90 time, caught up
    assert world.started[-1] == at(minutes=90)
    world.run_until(at(minutes=150), step=datetime.timedelta(minutes=1))
    assert "suspended" not in world.status or world.status["suspended"] is False


@pytest.mark.parametrize(
    ("start", "end", "runs"),
    [
        pytest.param(
            "2026-03-27T00:00",
            "2026-03-31T00:00",
            ["2026-03-27T01:30", "2026-03-28T01:30", "2026-03-29T01:00", "2026-03-30T00:30"],
            id="spring forward: once a day; on 03-29 at 03:00 CEST",
        ),
        pytest.param(
            "2026-10-23T00:00",
            "2026-10-27T00:00",
            ["2026-10-23T00:30", "2026-10-24T00:30", "2026-10-25T00:30", "2026-10-26T01:30"],
            id="fall back: once a day; on 10-25 at the first 02:30",
        ),
    ],
)
def test_a_daily_0230_berlin_job_runs_once_a_day_across_dst(
    start: str, end: str, runs: list[str]
) -> None:
    world = World(spec={"schedule": "30 2 * * *", "timeZone": BERLIN}, created=utc(start))
    world.run_until(utc(end), step=datetime.timedelta(minutes=10))
    assert world.started == [utc(r) for r in runs]


# --- schedule times -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "zone", "after", "expected"),
    [
        ("*/15 * * * *", None, "2026-01-01T12:00", "2026-01-01T12:15"),
        ("@hourly", None, "2026-01-01T12:00", "2026-01-01T13:00"),
        ("@daily", None, "2026-01-01T12:00", "2026-01-02T00:00"),
        ("@midnight", None, "2026-01-01T12:00", "2026-01-02T00:00"),
        ("@weekly", None, "2026-01-01T12:00", "2026-01-04T00:00"),  # Sunday
        ("@monthly", None, "2026-01-01T12:00", "2026-02-01T00:00"),
        ("@yearly", None, "2026-01-01T12:00", "2027-01-01T00:00"),
        ("@annually", None, "2026-01-01T12:00", "2027-01-01T00:00"),
        ("0 9 * * MON-FRI", None, "2026-01-02T09:00", "2026-01-05T09:00"),  # Fri -> Mon
        ("0 0 29 2 *", None, "2026-01-01T00:00", "2028-02-29T00:00"),  # leap years only
        ("0 0 1 * 1", None, "2026-01-01T12:00", "2026-01-05T00:00"),  # day OR weekday
        ("0 9 * * *", "America/New_York", "2026-01-01T12:00", "2026-01-01T14:00"),
        ("0 9 * * *", "Asia/Kolkata", "2026-01-01T12:00", "2026-01-02T03:30"),
        # Europe/Berlin spring forward (2026-03-29 02:00 CET -> 03:00 CEST)
        ("30 2 * * *", BERLIN, "2026-03-28T12:00", "2026-03-29T01:00"),
        ("*/15 2 * * *", BERLIN, "2026-03-28T12:00", "2026-03-29T01:00"),
        ("*/15 2 * * *", BERLIN, "2026-03-29T01:00", "2026-03-30T00:00"),
        ("0 * * * *", BERLIN, "2026-03-29T00:00", "2026-03-29T01:00"),  # 01:00 CET -> 03:00
        # Europe/Berlin fall back (2026-10-25 03:00 CEST -> 02:00 CET)
        ("30 2 * * *", BERLIN, "2026-10-25T00:30", "2026-10-26T01:30"),
        ("*/15 2 * * *", BERLIN, "2026-10-25T00:45", "2026-10-26T01:00"),
        ("0 */2 * * *", BERLIN, "2026-10-25T00:00", "2026-10-25T03:00"),  # 02:00 CEST -> 04:00
        ("0 * * * *", BERLIN, "2026-10-25T00:00", "2026-10-25T01:00"),
        ("*/30 * * * *", BERLIN, "2026-10-25T00:30", "2026-10-25T01:00"),
    ],
)
def test_next_after(schedule: str, zone: str | None, after: str, expected: str) -> None:
    sched = cron.Schedule(schedule, cron.zone_of(zone))
    assert sched.next_after(utc(after)) == utc(expected)


@pytest.mark.parametrize(
    ("schedule", "zone", "after", "until", "latest", "count"),
    [
        ("*/15 * * * *", None, "2026-01-01T11:00", "2026-01-01T12:00", "2026-01-01T12:00", 4),
        ("*/15 * * * *", None, "2026-01-01T11:00", "2026-01-01T11:59", "2026-01-01T11:45", 3),
        ("*/15 * * * *", None, "2026-01-01T12:00", "2026-01-01T12:14", None, 0),
        ("* * * * *", None, "2025-01-01T00:00", "2026-01-01T12:00", "2026-01-01T12:00", 101),
        ("0 0 29 2 *", None, "2024-03-01T00:00", "2028-03-01T00:00", "2028-02-29T00:00", 1),
        ("30 2 * * *", BERLIN, "2026-10-24T12:00", "2026-10-26T12:00", "2026-10-26T01:30", 2),
        ("0 * * * *", BERLIN, "2026-10-24T23:30", "2026-10-25T02:30", "2026-10-25T02:00", 3),
        ("30 2 * * *", BERLIN, "2026-03-28T12:00", "2026-03-29T12:00", "2026-03-29T01:00", 1),
    ],
)
def test_latest_and_count(
    schedule: str, zone: str | None, after: str, until: str, latest: str | None, count: int
) -> None:
    sched = cron.Schedule(schedule, cron.zone_of(zone))
    found = sched.latest(after=utc(after), until=utc(until))
    assert found == (utc(latest) if latest else None)
    assert sched.count(after=utc(after), until=utc(until), limit=101) == count


# --- names and manifests --------------------------------------------------------------


def test_child_name_is_minutes_since_1970_of_the_schedule_time() -> None:
    assert cron.child_name(cron="nightly", scheduled_at=T0) == "nightly-29454480"
    berlin = T0.astimezone(cron.zone_of(BERLIN))
    assert cron.child_name(cron="nightly", scheduled_at=berlin) == "nightly-29454480"
    assert cron.child_name(cron="nightly", scheduled_at=at(seconds=59)) == "nightly-29454480"
    assert cron.child_name(cron="nightly", scheduled_at=at(minutes=1)) == "nightly-29454481"


def test_child_names_of_the_longest_cron_name_fit_a_pipelinejob_name() -> None:
    name = cron.child_name(cron="x" * 50, scheduled_at=utc("2100-01-01T00:00"))
    assert len(name) <= 59


def test_child_manifest() -> None:
    meta, spec, _ = parsed()
    manifest = cron.child_manifest(cron=meta, spec=spec, name=name_of(T0), scheduled_at=T0)
    assert manifest == {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineJob",
        "metadata": {
            "name": "nightly-29454480",
            "namespace": NAMESPACE,
            "labels": {"team": "a", "conveyor.dev/cronjob": NAME},
            "annotations": {"owner": "ci", "conveyor.dev/scheduled-at": "2026-01-01T12:00:00Z"},
        },
        "spec": JOB_SPEC,
    }
    manifest["spec"]["params"]["duration"] = "1h"  # a copy: the spec is not shared
    assert spec.job_template["spec"]["params"]["duration"] == "5s"


def test_child_manifest_our_label_wins_and_metadata_is_optional() -> None:
    template = {"metadata": {"labels": {"conveyor.dev/cronjob": "other"}}, "spec": JOB_SPEC}
    meta, spec, _ = parsed(spec={"jobTemplate": template})
    manifest = cron.child_manifest(cron=meta, spec=spec, name="n", scheduled_at=T0)
    assert manifest["metadata"]["labels"] == {"conveyor.dev/cronjob": NAME}
    meta, spec, _ = parsed(spec={"jobTemplate": {"spec": JOB_SPEC}})
    manifest = cron.child_manifest(cron=meta, spec=spec, name="n", scheduled_at=T0)
    assert manifest["metadata"]["annotations"] == {
        "conveyor.dev/scheduled-at": "2026-01-01T12:00:00Z"
    }


def test_parse_child_reads_what_child_manifest_wrote() -> None:
    meta, spec, _ = parsed()
    manifest = cron.child_manifest(cron=meta, spec=spec, name=name_of(T0), scheduled_at=T0)
    assert cron.parse_child(manifest) == cron.Child(name=name_of(T0), scheduled_at=T0)
    manifest["spec"]["revoke"] = True
    manifest["status"] = {"state": "REVOKED", "finishedAt": ts(at(minutes=1))}
    assert cron.parse_child(manifest) == cron.Child(
        name=name_of(T0),
        scheduled_at=T0,
        state=R,
        finished_at=at(minutes=1),
        revoke_requested=True,
    )


@pytest.mark.parametrize(
    "annotations", [{}, {"conveyor.dev/scheduled-at": "soon"}, {"conveyor.dev/scheduled-at": ""}]
)
def test_parse_child_without_a_schedule_time_is_none(annotations: dict[str, str]) -> None:
    assert cron.parse_child({"metadata": {"name": "x", "annotations": annotations}}) is None


# --- spec -----------------------------------------------------------------------------


def test_spec_defaults_are_cronjobs() -> None:
    _, spec, status = parsed()
    assert spec == cron.CronSpec(schedule="*/15 * * * *", job_template=JOB_TEMPLATE)
    assert spec.concurrency_policy is cron.ConcurrencyPolicy.ALLOW
    assert (spec.suspend, spec.starting_deadline_seconds) == (False, None)
    assert (spec.successful_jobs_history_limit, spec.failed_jobs_history_limit) == (3, 1)
    assert spec.max_consecutive_failures is None
    assert spec.zone is UTC
    assert status == cron.CronStatus()


@pytest.mark.parametrize(
    "schedule",
    [
        "* * * * *",
        "*/15 * * * *",
        "0 9 * * MON-FRI",
        "0 9 * * mon-fri",
        "30 2 1,15 * *",
        "0 0 ? * SUN",
        "0 0 * JAN-MAR 1-5/2",
        "5/15 * * * *",
        "0\t0 * * *",
        "0 0 * * 0",
        "0 0 29 2 *",
        "5-5 * * * *",  # a range of one
        "0 0 * DEC *",
        "0-59 0-23 1-31 1-12 0-6",
        *cron.MACROS,
    ],
)
def test_schedules_accepted(schedule: str) -> None:
    _, spec, _ = parsed(spec={"schedule": schedule})
    assert spec.schedule == schedule


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("* * * *", "five fields"),
        ("* * * * * *", "five fields"),  # croniter's seconds field
        ("0 0 L * *", "five fields"),  # croniter's last day
        ("0 0 * * 5#2", "five fields"),  # croniter's nth weekday
        ("H * * * *", "five fields"),  # croniter's hashed
        ("@every 5m", "five fields"),  # CronJob's, not croniter's
        ("@reboot", "five fields"),
        ("TZ=UTC 0 0 * * *", "five fields"),
        (" * * * * *", "five fields"),
        ("* * * * *\n", "five fields"),
        ("61 * * * *", "not a valid cron schedule"),
        ("? * * * *", "not a valid cron schedule"),
        ("*/0 * * * *", "not a valid cron schedule"),
        ("0 0 * FOO *", "not a valid cron schedule"),
        ("0 0 31 2 *", "never fires"),
        # Ranges that run backwards: CronJob refuses them, croniter reads the whole field.
        ("1-0 * * * *", "minute range 1-0 runs backwards"),
        ("0 23-1 * * *", "hour range 23-1 runs backwards"),
        ("0 0 20-10/2 * *", "day-of-month range 20-10 runs backwards"),
        ("0 0 * DEC-JAN *", "month range DEC-JAN runs backwards"),
        ("0 0 * 12-1 *", "month range 12-1 runs backwards"),
        ("0 0 * * FRI-MON", "day-of-week range FRI-MON runs backwards"),
        ("0 0 * * 1-5,6-0", "day-of-week range 6-0 runs backwards"),
        ("0\t0 * * 5-1", "day-of-week range 5-1 runs backwards"),
    ],
)
def test_schedules_refused_name_the_field(schedule: str, message: str) -> None:
    _, spec, _ = cron.parse(body(spec={"schedule": schedule}))
    assert isinstance(spec, model.SpecError), schedule
    assert spec.field == "spec.schedule"
    assert message in spec.message


@pytest.mark.parametrize("zone", [BERLIN, "UTC", "America/Argentina/ComodRivadavia", "Etc/GMT+5"])
def test_time_zones_accepted(zone: str) -> None:
    _, spec, _ = parsed(spec={"timeZone": zone})
    assert str(spec.zone) == zone


def test_an_empty_time_zone_is_utc() -> None:
    _, spec, _ = parsed(spec={"timeZone": ""})
    assert (spec.time_zone, spec.zone) == (None, UTC)


@pytest.mark.parametrize("zone", ["Europe/Nowhere", "europe/berlin", "Local", "+01:00", "/etc/x"])
def test_time_zones_refused_name_the_field(zone: str) -> None:
    _, spec, _ = cron.parse(body(spec={"timeZone": zone}))
    assert isinstance(spec, model.SpecError), zone
    assert spec.field == "spec.timeZone"


# The host's time, however spelt: CronJob refuses Local (case-insensitively), and
# localtime is the file the host's zone is read from (often there in zoneinfo).
@pytest.mark.parametrize("zone", ["Local", "local", "LOCAL", "localtime", "LocalTime"])
def test_the_host_time_zone_is_refused(zone: str) -> None:
    _, spec, _ = cron.parse(body(spec={"timeZone": zone}))
    assert isinstance(spec, model.SpecError), zone
    assert spec.field == "spec.timeZone"
    assert f"{zone!r} is not allowed: name an IANA time zone" in spec.message


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"jobTemplate": {"spec": {"type": "nope"}}}, "spec.jobTemplate.spec.type"),
        ({"jobTemplate": {"spec": {}}}, "spec.jobTemplate.spec.type"),
        (
            {"jobTemplate": {"spec": {**JOB_SPEC, "timeout": "soon"}}},
            "spec.jobTemplate.spec.timeout",
        ),
        (
            {"jobTemplate": {"spec": {**JOB_SPEC, "retry": {"limit": -1}}}},
            "spec.jobTemplate.spec.retry.limit",
        ),
        (
            {"jobTemplate": {"metadata": {"name": "x"}, "spec": JOB_SPEC}},
            "spec.jobTemplate.metadata.name",
        ),
        ({"jobTemplate": {}}, "spec.jobTemplate.spec"),
        ({"jobTemplate": None}, "spec"),  # neither template: exactly one is needed
        ({"concurrencyPolicy": "Sometimes"}, "spec.concurrencyPolicy"),
        ({"startingDeadlineSeconds": -1}, "spec.startingDeadlineSeconds"),
        ({"successfulJobsHistoryLimit": -1}, "spec.successfulJobsHistoryLimit"),
        ({"failedJobsHistoryLimit": -1}, "spec.failedJobsHistoryLimit"),
        ({"maxConsecutiveFailures": 0}, "spec.maxConsecutiveFailures"),
        ({"schedulle": "* * * * *"}, "spec.schedulle"),
    ],
)
def test_invalid_specs_name_the_field(spec: dict[str, Any], field: str) -> None:
    _, parsed_spec, _ = cron.parse(body(spec=spec))
    assert isinstance(parsed_spec, model.SpecError), spec
    assert parsed_spec.field == field


def test_a_missing_schedule_names_the_field() -> None:
    raw = body()
    del raw["spec"]["schedule"]
    _, spec, _ = cron.parse(raw)
    assert isinstance(spec, model.SpecError)
    assert spec.field == "spec.schedule"


def test_the_spec_model_refuses_a_bad_template_itself() -> None:
    with pytest.raises(pydantic.ValidationError):
        cron.CronSpec(schedule="* * * * *", job_template={"spec": {"type": "nope"}})


# --- status ---------------------------------------------------------------------------


def conditions(status: cron.CronStatus) -> dict[str, str]:
    return {c["type"]: c["status"] for c in persisted(status)["conditions"]}


@pytest.mark.parametrize(
    ("status", "ready", "stalled"),
    [
        (cron.CronStatus(reason="Scheduled"), "True", "False"),
        (cron.CronStatus(reason="SkippedForbid"), "True", "False"),
        (cron.CronStatus(reason="TooManyMissed"), "True", "False"),
        (cron.CronStatus(reason="Suspended"), "True", "False"),  # the user's wish
        (cron.CronStatus(reason="TooManyFailures", suspended=True), "False", "True"),
        (cron.CronStatus(reason="InvalidSpec"), "False", "True"),
    ],
)
def test_conditions(status: cron.CronStatus, ready: str, stalled: str) -> None:
    assert conditions(status) == {"Ready": ready, "Stalled": stalled}


def test_conditions_keep_their_transition_time_until_they_change() -> None:
    before = cron.CronStatus(reason="Scheduled").to_dict(
        generation=1, previous_conditions=(), now=T0
    )["conditions"]
    same = cron.CronStatus(reason="SkippedForbid").to_dict(
        generation=2, previous_conditions=before, now=at(hours=1)
    )["conditions"]
    assert {c["lastTransitionTime"] for c in same} == {ts(T0)}
    assert {c["observedGeneration"] for c in same} == {2}
    changed = cron.CronStatus(reason="TooManyFailures", suspended=True).to_dict(
        generation=3, previous_conditions=same, now=at(hours=2)
    )["conditions"]
    assert {c["lastTransitionTime"] for c in changed} == {ts(at(hours=2))}


def test_to_dict_writes_the_contract_field_names() -> None:
    status = cron.CronStatus(
        last_schedule_time=ts(T0),
        last_successful_time=ts(at(minutes=-10)),
        next_schedule_time=ts(at(minutes=15)),
        active=("a", "b"),
        last_result="SUCCESS",
        consecutive_failures=2,
        last_counted=ts(at(minutes=-15)),
        suspended=True,
        suspended_generation=3,
        reason="TooManyFailures",
        message="m",
    )
    written = status.to_dict(generation=3, previous_conditions=(), now=T0)
    assert written.keys() == {
        "lastScheduleTime",
        "lastSuccessfulTime",
        "nextScheduleTime",
        "active",
        "activeCount",
        "lastResult",
        "consecutiveFailures",
        "lastCounted",
        "suspended",
        "suspendedGeneration",
        "reason",
        "message",
        "conditions",
        "observedGeneration",
    }
    assert (written["activeCount"], written["active"]) == (2, ["a", "b"])
    assert cron.CronStatus.from_dict(written) == status


def test_from_dict_tolerates_garbage() -> None:
    status = cron.CronStatus.from_dict(
        {
            "active": None,
            "consecutiveFailures": "x",
            "suspended": "yes",
            "suspendedGeneration": True,
        }
    )
    assert status == cron.CronStatus()


def test_invalid_spec_stalls_and_says_so_once() -> None:
    _, error, _ = cron.parse(body(spec={"schedule": "61 * * * *"}))
    assert isinstance(error, model.SpecError)
    first = cron.invalid(status=cron.CronStatus(next_schedule_time=ts(T0)), error=error)
    assert first.status.reason == "InvalidSpec"
    assert first.status.next_schedule_time is None
    assert "spec.schedule" in (first.status.message or "")
    assert [(e.type, e.reason) for e in first.events] == [("Warning", "InvalidSpec")]
    assert (first.create, first.wake_at) == ((), None)
    assert conditions(first.status) == {"Ready": "False", "Stalled": "True"}
    again = cron.invalid(status=first.status, error=error)
    assert (again.status, again.events) == (first.status, ())


def test_an_outcome_stays_in_status_until_the_next_time_is_handled() -> None:
    case = next(c for c in CASES if c.reason == "TooManyMissed")
    first = case.decide()
    later = dataclasses.replace(case, now=case.now + datetime.timedelta(seconds=30))
    assert later.decide(first.status).status == first.status
