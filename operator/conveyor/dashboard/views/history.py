"""The history page: finished jobs and runs with result and duration, and the
charts people read at a glance: throughput per hour, success rate, and queue
wait and run time percentiles per Worker."""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Sequence

from conveyor.core import model
from conveyor.dashboard.views import charts
from conveyor.presentation import humanize

HOURS = 24
PERCENTILES = (50, 90, 99)
FINISHED = frozenset(str(s) for s in model.State if s.finished)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    namespace: str
    name: str
    type: str
    worker: str
    result: str
    reason: str
    finished: str
    duration: str
    attempts: int

    @property
    def href(self) -> str:
        return f"/jobs/{self.namespace}/{self.name}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Percentiles:
    worker: str  # namespace/name
    jobs: int
    queue_wait: tuple[str, ...]  # p50, p90, p99, for people
    run_time: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class History:
    rows: tuple[Row, ...]
    finished: int
    succeeded: int
    throughput: charts.Chart
    success_rate: charts.Chart
    percentiles: tuple[Percentiles, ...]

    @property
    def rate(self) -> str:
        return f"{self.succeeded / self.finished:.0%}" if self.finished else "-"


def percentile(values: Sequence[float], p: int) -> float:
    """Nearest rank: the smallest value with p% of the values at or below it."""
    ordered = sorted(values)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def _finished(
    jobs: Sequence[model.PipelineJob],
) -> list[tuple[datetime.datetime, model.PipelineJob]]:
    out = []
    for j in jobs:
        if j.status.state is None or not j.status.state.finished:
            continue
        out.append((model.parse_time(j.status.finished_at) or j.meta.created_at, j))
    out.sort(key=lambda p: (p[0], p[1].meta.name), reverse=True)
    return out


def _hourly(
    done: Sequence[tuple[datetime.datetime, model.PipelineJob]], *, now: datetime.datetime
) -> tuple[charts.Chart, charts.Chart]:
    hour = now.replace(minute=0, second=0, microsecond=0)
    starts = [hour - datetime.timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]
    ok = [0] * HOURS
    bad = [0] * HOURS
    for when, job in done:
        index = (
            HOURS
            - 1
            - int(
                (hour - when.replace(minute=0, second=0, microsecond=0))
                / datetime.timedelta(hours=1)
            )
        )
        if 0 <= index < HOURS:
            if job.status.state is model.State.SUCCESS:
                ok[index] += 1
            else:
                bad[index] += 1
    labels = [f"{s:%H}h" for s in starts]
    throughput = charts.stacked_bars(
        columns=[(lbl, (("ok", o), ("bad", b))) for lbl, o, b in zip(labels, ok, bad, strict=True)],
        every=3,
    )
    rates = [(100.0 * o / (o + b)) if o + b else 0.0 for o, b in zip(ok, bad, strict=True)]
    success = charts.stacked_bars(
        columns=[(lbl, (("rate", r),)) for lbl, r in zip(labels, rates, strict=True)],
        top=100.0,
        unit="%",
        every=3,
    )
    return throughput, success


def _percentiles(jobs: Sequence[model.PipelineJob]) -> tuple[Percentiles, ...]:
    waits: dict[str, list[float]] = {}
    runs: dict[str, list[float]] = {}
    for j in jobs:
        st = j.status
        if not st.worker or st.state is None or not st.state.finished:
            continue
        key = f"{j.meta.namespace}/{st.worker}"
        started = model.parse_time(st.started_at)
        finished = model.parse_time(st.finished_at)
        queued = model.parse_time(st.queued_at) or j.meta.created_at
        if started is not None:
            waits.setdefault(key, []).append(max((started - queued).total_seconds(), 0.0))
            if finished is not None:
                runs.setdefault(key, []).append(max((finished - started).total_seconds(), 0.0))

    def show(values: list[float]) -> tuple[str, ...]:
        if not values:
            return tuple("-" for _ in PERCENTILES)
        return tuple(
            humanize.duration(datetime.timedelta(seconds=percentile(values, p)))
            for p in PERCENTILES
        )

    return tuple(
        Percentiles(
            worker=k, jobs=len(waits[k]), queue_wait=show(waits[k]), run_time=show(runs.get(k, []))
        )
        for k in sorted(waits)
    )


def history(
    *,
    jobs: Sequence[model.PipelineJob],
    now: datetime.datetime,
    page: int = 1,
    page_size: int = 50,
) -> History:
    done = _finished(jobs)
    shown = done[(page - 1) * page_size : page * page_size]
    rows = []
    for when, j in shown:
        st = j.status
        started = model.parse_time(st.started_at)
        rows.append(
            Row(
                namespace=j.meta.namespace,
                name=j.meta.name,
                type=j.raw_type or "-",
                worker=st.worker or "-",
                result=str(st.state),
                reason=st.reason or "",
                finished=humanize.age(when, now=now),
                duration=humanize.between(started, when, now=now) if started else "-",
                attempts=len(st.attempts) or st.attempt,
            )
        )
    throughput, success = _hourly(done, now=now)
    return History(
        rows=tuple(rows),
        finished=len(done),
        succeeded=sum(1 for _, j in done if j.status.state is model.State.SUCCESS),
        throughput=throughput,
        success_rate=success,
        percentiles=_percentiles(jobs),
    )
