"""How far along a running job is: its elapsed time against the typical run
time of its kind (job type) on its Worker, the median of the recent
successful runs. "about 2 min left" when it is typical, "longer than usual"
once it has passed that.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import dataclasses
import datetime
import statistics
from collections.abc import Iterable, Mapping, Sequence

from conveyor.core import model

RECENT = 20  # the runs the median is taken over
MIN_RUNS = 3  # fewer than this: no estimate, it would be a guess

Kind = tuple[str, str, str]  # (namespace, worker, job type)
Typical = Mapping[Kind, tuple[datetime.timedelta, int]]  # median run time, runs


@dataclasses.dataclass(frozen=True, kw_only=True)
class Estimate:
    elapsed: datetime.timedelta
    typical: datetime.timedelta
    runs: int  # how many finished runs the typical time is the median of

    @property
    def fraction(self) -> float:
        """Elapsed over typical, at most 1."""
        total = self.typical.total_seconds()
        return min(self.elapsed.total_seconds() / total, 1.0) if total > 0 else 1.0

    @property
    def left(self) -> datetime.timedelta:
        return max(self.typical - self.elapsed, datetime.timedelta(0))

    def __str__(self) -> str:
        if self.elapsed > self.typical:
            return f"longer than usual (typically {_minutes(self.typical)})"
        return f"about {_minutes(self.left)} left"


def _minutes(value: datetime.timedelta) -> str:
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{max(int(seconds), 1)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600, 1):g} h"


def kind_of(job: model.PipelineJob) -> Kind | None:
    worker = job.status.worker
    if not worker or not job.raw_type:
        return None
    return (job.meta.namespace, worker, job.raw_type)


def _run_time(job: model.PipelineJob) -> tuple[datetime.datetime, datetime.timedelta] | None:
    started = model.parse_time(job.status.started_at)
    finished = model.parse_time(job.status.finished_at)
    if started is None or finished is None or finished < started:
        return None
    return finished, finished - started


def typical_run_times(
    *, jobs: Iterable[model.PipelineJob], recent: int = RECENT
) -> dict[Kind, tuple[datetime.timedelta, int]]:
    """Per kind: the median run time of its latest `recent` successful jobs, and how many."""
    runs: dict[Kind, list[tuple[datetime.datetime, datetime.timedelta]]] = {}
    for job in jobs:
        kind = kind_of(job)
        timed = _run_time(job)
        if kind is None or timed is None or job.status.state is not model.State.SUCCESS:
            continue
        runs.setdefault(kind, []).append(timed)
    out = {}
    for kind, timed_runs in runs.items():
        latest = [took for _, took in sorted(timed_runs, reverse=True)[:recent]]
        if len(latest) >= MIN_RUNS:
            out[kind] = (statistics.median_low(latest), len(latest))
    return out


def estimate(
    *,
    job: model.PipelineJob,
    typical: Typical,
    now: datetime.datetime,
) -> Estimate | None:
    """The estimate for a RUNNING job with enough history of its kind, else None."""
    kind = kind_of(job)
    started = model.parse_time(job.status.started_at)
    if job.status.state is not model.State.RUNNING or kind is None or started is None:
        return None
    if kind not in typical:
        return None
    took, runs = typical[kind]
    return Estimate(elapsed=max(now - started, datetime.timedelta(0)), typical=took, runs=runs)


def steps_done(steps: Sequence[Mapping[str, object]]) -> tuple[int, int]:
    """A pipeline run's steps that have ended (any final state or Skipped), of all."""
    ended = {str(s) for s in model.State if s.finished} | {"Skipped"}
    return sum(1 for step in steps if str(step.get("state") or "") in ended), len(steps)
