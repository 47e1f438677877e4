"""Delivery insights (the four DORA metrics) from finished changes. Pure:
the changes and the window are passed in; docs/history.md defines each figure.

Per service and environment, over a window [since, until):
- deployment frequency: successful deploys per day;
- lead time for changes: median of (deploy finished - commit time), successful deploys;
- change failure rate: (failed deploys + failed canary analyses + rollbacks) / deploys;
- time to restore: median of incidents, each from the first failed deploy (or
  failed canary analysis) after a good state to the next successful deploy.
Changes before `since` only give context (which revisions ran before).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import statistics
from collections.abc import Iterable, Sequence

DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)
MONTH = datetime.timedelta(days=30)
HOUR = datetime.timedelta(hours=1)


class Kind(enum.StrEnum):
    DEPLOY = "deploy"  # a deploy or promote job
    CANARY = "canary-analysis"


class Band(enum.StrEnum):
    """DORA performance levels (the 2023 Accelerate State of DevOps report)."""

    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    """One finished deploy, promote or canary analysis of a service in an environment."""

    service: str
    environment: str
    kind: Kind
    finished_at: datetime.datetime
    succeeded: bool
    revision: str | None = None
    committed_at: datetime.datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Incident:
    service: str
    environment: str
    started_at: datetime.datetime
    restored_at: datetime.datetime | None  # None: still open at the window's end

    @property
    def duration(self) -> datetime.timedelta | None:
        return None if self.restored_at is None else self.restored_at - self.started_at


@dataclasses.dataclass(frozen=True, kw_only=True)
class Figures:
    deploys: int  # deploys that finished (succeeded or failed) in the window
    successful: int
    failed: int  # failed deploys
    failed_canaries: int
    rollbacks: int
    days: float
    lead_times: tuple[datetime.timedelta, ...]
    incidents: tuple[Incident, ...]

    @property
    def deployment_frequency(self) -> float:
        """Successful deploys per day."""
        return self.successful / self.days if self.days > 0 else 0.0

    @property
    def lead_time(self) -> datetime.timedelta | None:
        return _median(self.lead_times)

    @property
    def change_failures(self) -> int:
        return self.failed + self.failed_canaries + self.rollbacks

    @property
    def change_failure_rate(self) -> float | None:
        """Change failures over deploys, at most 1; None without deploys."""
        if self.deploys == 0:
            return None
        return min(1.0, self.change_failures / self.deploys)

    @property
    def time_to_restore(self) -> datetime.timedelta | None:
        return _median(d for i in self.incidents if (d := i.duration) is not None)

    @property
    def open_incidents(self) -> int:
        return sum(1 for i in self.incidents if i.restored_at is None)

    def bands(self) -> dict[str, Band | None]:
        return {
            "deployment_frequency": frequency_band(self.deployment_frequency),
            "lead_time": lead_time_band(self.lead_time),
            "change_failure_rate": failure_rate_band(self.change_failure_rate),
            "time_to_restore": restore_band(self.time_to_restore),
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Group:
    service: str
    environment: str
    figures: Figures


@dataclasses.dataclass(frozen=True, kw_only=True)
class Report:
    since: datetime.datetime
    until: datetime.datetime
    groups: tuple[Group, ...]  # by service, then environment
    overall: Figures


# Each band's bound, elite first (low is everything past medium's). One
# source: the CLI, the gauges and the dashboard's legend all read these.
FREQUENCY_BOUNDS = (1.0, 1 / 7, 1 / 30)  # successful deploys per day, at least
LEAD_TIME_BOUNDS = (DAY, WEEK, MONTH)  # below
RESTORE_BOUNDS = (HOUR, DAY, WEEK)  # below
FAILURE_RATE_BOUNDS = (0.05, 0.10, 0.15)  # at most
RANKED = (Band.ELITE, Band.HIGH, Band.MEDIUM)


def frequency_band(per_day: float) -> Band:
    # on demand (daily or more), weekly or more, monthly or more, less
    return next(
        (b for b, at in zip(RANKED, FREQUENCY_BOUNDS, strict=True) if per_day >= at), Band.LOW
    )


def lead_time_band(lead: datetime.timedelta | None) -> Band | None:
    return _below(lead, bounds=LEAD_TIME_BOUNDS)


def restore_band(ttr: datetime.timedelta | None) -> Band | None:
    return _below(ttr, bounds=RESTORE_BOUNDS)


def failure_rate_band(rate: float | None) -> Band | None:
    if rate is None:
        return None
    return next(
        (b for b, at in zip(RANKED, FAILURE_RATE_BOUNDS, strict=True) if rate <= at), Band.LOW
    )


def _below(
    value: datetime.timedelta | None, *, bounds: tuple[datetime.timedelta, ...]
) -> Band | None:
    if value is None:
        return None
    return next((b for b, at in zip(RANKED, bounds, strict=True) if value < at), Band.LOW)


def _median(values: Iterable[datetime.timedelta]) -> datetime.timedelta | None:
    seconds = [v.total_seconds() for v in values]
    return datetime.timedelta(seconds=statistics.median(seconds)) if seconds else None


def report(
    *, changes: Iterable[Change], since: datetime.datetime, until: datetime.datetime
) -> Report:
    """The figures per service and environment, and over all of them."""
    by_group: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        if change.finished_at < until:
            by_group.setdefault((change.service, change.environment), []).append(change)
    days = (until - since) / DAY
    groups = tuple(
        Group(
            service=service,
            environment=environment,
            figures=figures(changes=by_group[(service, environment)], since=since, days=days),
        )
        for service, environment in sorted(by_group)
    )
    return Report(since=since, until=until, groups=groups, overall=_sum(groups, days=days))


def figures(*, changes: Sequence[Change], since: datetime.datetime, days: float) -> Figures:
    """One service in one environment: `changes` all before the window's end."""
    ordered = sorted(changes, key=lambda c: (c.finished_at, c.kind != Kind.CANARY))
    deployed: set[str] = set()  # revisions that ran here before
    current: str | None = None  # the revision running now
    counts = {"deploys": 0, "successful": 0, "failed": 0, "canaries": 0, "rollbacks": 0}
    leads: list[datetime.timedelta] = []
    incidents: list[Incident] = []
    opened: datetime.datetime | None = None  # the first failure of the open incident
    for c in ordered:
        counting = c.finished_at >= since
        if c.kind == Kind.CANARY:
            if not c.succeeded and counting:
                counts["canaries"] += 1
                opened = opened or c.finished_at
            continue
        if counting:
            counts["deploys"] += 1
        if not c.succeeded:
            if counting:
                counts["failed"] += 1
                opened = opened or c.finished_at
            continue
        rollback = c.revision is not None and c.revision in deployed and c.revision != current
        if counting:
            counts["successful"] += 1
            counts["rollbacks"] += rollback
            if c.committed_at is not None:
                leads.append(max(c.finished_at - c.committed_at, datetime.timedelta(0)))
        if opened is not None:
            incidents.append(_incident(c, started=opened, restored=c.finished_at))
            opened = None
        if c.revision is not None:
            deployed.add(c.revision)
            current = c.revision
    if opened is not None:
        incidents.append(_incident(ordered[-1], started=opened, restored=None))
    return Figures(
        deploys=counts["deploys"],
        successful=counts["successful"],
        failed=counts["failed"],
        failed_canaries=counts["canaries"],
        rollbacks=counts["rollbacks"],
        days=days,
        lead_times=tuple(leads),
        incidents=tuple(incidents),
    )


def _incident(
    change: Change, *, started: datetime.datetime, restored: datetime.datetime | None
) -> Incident:
    return Incident(
        service=change.service,
        environment=change.environment,
        started_at=started,
        restored_at=restored,
    )


def _sum(groups: Sequence[Group], *, days: float) -> Figures:
    """All services and environments together; incidents stay separate (they may overlap)."""
    parts = [g.figures for g in groups]
    return Figures(
        deploys=sum(f.deploys for f in parts),
        successful=sum(f.successful for f in parts),
        failed=sum(f.failed for f in parts),
        failed_canaries=sum(f.failed_canaries for f in parts),
        rollbacks=sum(f.rollbacks for f in parts),
        days=days,
        lead_times=tuple(t for f in parts for t in f.lead_times),
        incidents=tuple(i for f in parts for i in f.incidents),
    )
