"""Progress: a running job's elapsed time against the median of its kind's
recent successful runs on the same Worker."""

from __future__ import annotations

import datetime

import pytest

from conveyor.core import model, progress
from tests import builders as b


def finished(
    name: str,
    *,
    seconds: float,
    state: str = "SUCCESS",
    worker: str = "build",
    type: str = "custom",
    end: float = 0,
) -> model.PipelineJob:
    return (
        b.pipelinejob(name)
        .type(type)
        .state(state)
        .assigned(worker)
        .attempt(1)
        .started_at(b.at(end - seconds))
        .finished_at(b.at(end))
        .model()
    )


def running(*, since: float, worker: str = "build", type: str = "custom") -> model.PipelineJob:
    return (
        b.pipelinejob("live")
        .type(type)
        .state("RUNNING")
        .assigned(worker)
        .attempt(1)
        .started_at(b.at(-since))
        .model()
    )


def test_typical_is_the_median_of_successful_runs_of_the_kind() -> None:
    jobs = [finished(f"j{i}", seconds=s) for i, s in enumerate((60, 120, 600))]
    jobs.append(finished("failed", seconds=5, state="FAILED"))
    jobs.append(finished("other-worker", seconds=5, worker="fast"))
    typical = progress.typical_run_times(jobs=jobs)
    assert typical[(b.NAMESPACE, "build", "custom")] == (datetime.timedelta(seconds=120), 3)
    assert (b.NAMESPACE, "fast", "custom") not in typical  # one run is not a history


def test_only_the_most_recent_runs_count() -> None:
    old = [finished(f"old{i}", seconds=1000, end=-10_000 + i) for i in range(5)]
    new = [finished(f"new{i}", seconds=10, end=i) for i in range(3)]
    typical = progress.typical_run_times(jobs=old + new, recent=3)
    assert typical[(b.NAMESPACE, "build", "custom")][0] == datetime.timedelta(seconds=10)


@pytest.mark.parametrize(
    ("elapsed", "typical", "text", "fraction"),
    [
        (60, 180, "about 2 min left", 1 / 3),
        (170, 180, "about 10 s left", 170 / 180),
        (0, 3600, "about 60 min left", 0.0),
        (0, 7200, "about 2 h left", 0.0),
        (200, 180, "longer than usual (typically 3 min)", 1.0),
    ],
)
def test_estimate_text(elapsed: float, typical: float, text: str, fraction: float) -> None:
    kind = (b.NAMESPACE, "build", "custom")
    guess = progress.estimate(
        job=running(since=elapsed),
        typical={kind: (datetime.timedelta(seconds=typical), 5)},
        now=b.T0,
    )
    assert guess is not None
    assert str(guess) == text
    assert guess.fraction == pytest.approx(fraction)


def test_no_estimate_without_history_or_when_not_running() -> None:
    assert progress.estimate(job=running(since=5), typical={}, now=b.T0) is None
    kind = (b.NAMESPACE, "build", "custom")
    typical = {kind: (datetime.timedelta(seconds=60), 3)}
    assert progress.estimate(job=finished("x", seconds=5), typical=typical, now=b.T0) is None


@pytest.mark.parametrize(
    ("states", "done"),
    [
        ([], (0, 0)),
        (["SUCCESS", "RUNNING", "Pending"], (1, 3)),
        (["SUCCESS", "Skipped", "FAILED", "REVOKED"], (4, 4)),
        (["IN-QUEUE"], (0, 1)),
    ],
)
def test_steps_done(states: list[str], done: tuple[int, int]) -> None:
    steps = [{"name": f"s{i}", "state": s} for i, s in enumerate(states)]
    assert progress.steps_done(steps) == done
