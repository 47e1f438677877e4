"""The insights page: the four DORA metrics per service and environment with
their bands (core/insights), as `conveyor insights` computes them, and their
course over the window (per calendar day, or per week past 30 days) as bar charts.
Pure: the changes are read from the archive by the server, in a thread."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence

from conveyor.core import insights
from conveyor.dashboard.views import charts
from conveyor.presentation import insights as shown

WINDOWS = (7, 30, 90)  # days
DEFAULT_WINDOW = 30
DAILY_UP_TO = 30  # days; longer windows are charted per week
ALL = "(all)"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Filters:
    window: int = DEFAULT_WINDOW
    service: str = ""
    environment: str = ""
    namespace: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        try:
            window = int(query.get("window") or DEFAULT_WINDOW)
        except ValueError:
            window = DEFAULT_WINDOW
        return cls(
            window=window if window in WINDOWS else DEFAULT_WINDOW,
            service=str(query.get("service") or ""),
            environment=str(query.get("environment") or ""),
            namespace=str(query.get("namespace") or ""),
        )

    def keeps(self, change: insights.Change) -> bool:
        return self.service in ("", change.service) and self.environment in (
            "",
            change.environment,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Metric:
    key: str  # deployment_frequency, lead_time, change_failure_rate, time_to_restore
    title: str
    value: str  # as `conveyor insights` prints it
    band: str  # elite, high, medium, low; "-" without a figure


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    service: str
    environment: str
    deploys: int
    open_incidents: int
    metrics: tuple[Metric, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Insights:
    filters: Filters
    rows: tuple[Row, ...]  # per service and environment
    overall: Row  # all the chosen ones together
    services: tuple[str, ...]  # in the archive, for the filters
    environments: tuple[str, ...]
    per: str  # "day" or "week": one bar each
    deploys: charts.Chart
    failure_rate: charts.Chart
    lead_time: charts.Chart
    lead_unit: str
    legend: tuple[shown.LegendRow, ...]
    archived: int  # changes in the archive at all (0: the empty state)


def row(service: str, environment: str, f: insights.Figures) -> Row:
    values, bands = shown.values(f), f.bands()
    return Row(
        service=service,
        environment=environment or "-",
        deploys=f.deploys,
        open_incidents=f.open_incidents,
        metrics=tuple(
            Metric(key=key, title=title, value=values[key], band=shown.band(bands[key]))
            for key, title in shown.METRICS
        ),
    )


Bucket = tuple[str, datetime.datetime, datetime.datetime]  # (label, start, end)


def buckets(*, until: datetime.datetime, days: int) -> tuple[str, list[Bucket]]:
    """Calendar days (UTC) up to DAILY_UP_TO days, else weeks from Monday,
    the first and last clipped to the window [until - days, until)."""
    since = until - days * insights.DAY
    start = since.astimezone(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    per, size = "day", insights.DAY
    if days > DAILY_UP_TO:
        per, size = "week", insights.WEEK
        start -= start.weekday() * insights.DAY
    spans = []
    while start < until:
        spans.append((f"{start:%d %b}", max(start, since), min(start + size, until)))
        start += size
    return per, spans


def lead_unit(peak: datetime.timedelta) -> tuple[str, datetime.timedelta]:
    """The unit the lead time chart counts in: minutes, hours or days."""
    if peak < 2 * insights.HOUR:
        return "m", datetime.timedelta(minutes=1)
    if peak < 2 * insights.DAY:
        return "h", insights.HOUR
    return "d", insights.DAY


def _charts(
    changes: Sequence[insights.Change], *, until: datetime.datetime, days: int
) -> tuple[str, charts.Chart, charts.Chart, charts.Chart, str]:
    per, spans = buckets(until=until, days=days)
    figures = [insights.report(changes=changes, since=a, until=b).overall for _, a, b in spans]
    labels = [label for label, _, _ in spans]
    every = max(len(spans) // 8, 1)
    deploys = charts.stacked_bars(
        columns=[
            (lbl, (("ok", f.successful), ("bad", f.failed)))
            for lbl, f in zip(labels, figures, strict=True)
        ],
        every=every,
    )
    failure = charts.stacked_bars(
        columns=[
            (lbl, (("rate", 100 * (f.change_failure_rate or 0.0)),))
            for lbl, f in zip(labels, figures, strict=True)
        ],
        top=100.0,
        unit="%",
        every=every,
    )
    leads = [f.lead_time for f in figures]
    unit, step = lead_unit(max((x for x in leads if x is not None), default=datetime.timedelta(0)))
    lead = charts.stacked_bars(
        columns=[
            (lbl, (("lead", round((x or datetime.timedelta(0)) / step, 1)),))
            for lbl, x in zip(labels, leads, strict=True)
        ],
        unit=unit,
        every=every,
    )
    return per, deploys, failure, lead, unit


def view(
    *, changes: Sequence[insights.Change], filters: Filters, now: datetime.datetime
) -> Insights:
    """`changes`: every one the archive holds before `now` (older ones tell
    which revisions ran before: rollbacks)."""
    chosen = [c for c in changes if filters.keeps(c)]
    since = now - filters.window * insights.DAY
    found = insights.report(changes=chosen, since=since, until=now)
    per, deploys, failure, lead, unit = _charts(chosen, until=now, days=filters.window)
    return Insights(
        filters=filters,
        # Every group the archive knows, as `conveyor insights` lists them
        # (one that deployed only before the window shows 0 deploys: low).
        rows=tuple(row(g.service, g.environment, g.figures) for g in found.groups),
        overall=row(ALL, "", found.overall),
        services=tuple(sorted({c.service for c in changes})),
        environments=tuple(sorted({c.environment for c in changes})),
        per=per,
        deploys=deploys,
        failure_rate=failure,
        lead_time=lead,
        lead_unit=unit,
        legend=shown.legend(),
        archived=len(changes),
    )
