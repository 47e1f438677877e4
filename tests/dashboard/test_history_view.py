"""The history page: finished jobs newest first, hourly throughput and
success rate, queue wait and run time percentiles per Worker."""

from __future__ import annotations

import pytest

from conveyor.core import model
from conveyor.dashboard.views import charts, history
from tests.dashboard import builders as b


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([1.0], 50, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 90, 4.0),
        ([float(i) for i in range(1, 101)], 99, 99.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], p: int, expected: float) -> None:
    assert history.percentile(values, p) == expected


@pytest.mark.parametrize(("value", "top"), [(0, 1), (3, 5), (7, 10), (12, 20), (101, 200)])
def test_axis_tops_are_round(value: float, top: float) -> None:
    assert charts.nice_max(value) == top


def finished(
    name: str, *, state: str, queued: float, started: float, finished: float, worker: str = "build"
) -> model.PipelineJob:
    return model.parse_pipelinejob(
        b.job(
            name,
            state=state,
            worker=worker,
            attempt=1,
            queued_at=b.at(queued),
            started_at=b.at(started),
            finished_at=b.at(finished),
            created=b.at(queued),
        )
    )


def test_history_rows_charts_and_percentiles() -> None:
    jobs = [
        finished("a", state="SUCCESS", queued=-7200, started=-7190, finished=-7100),
        finished("b", state="FAILED", queued=-3000, started=-2970, finished=-2900),
        finished("c", state="SUCCESS", queued=-100, started=-90, finished=-30),
        model.parse_pipelinejob(b.job("live", state="RUNNING", worker="build")),
    ]
    h = history.history(jobs=jobs, now=b.T0)
    assert [r.name for r in h.rows] == ["c", "b", "a"]
    assert (h.finished, h.succeeded, h.rate) == (3, 2, "67%")
    assert h.rows[0].duration == "60s"
    ok = [r for r in h.throughput.rects if r.css == "ok"]
    bad = [r for r in h.throughput.rects if r.css == "bad"]
    assert (len(ok), len(bad)) == (2, 1)  # two hours with a success, one with a failure
    assert not h.throughput.empty
    (p,) = h.percentiles
    assert (p.worker, p.jobs) == (f"{b.NAMESPACE}/build", 3)
    assert p.queue_wait == ("10s", "30s", "30s")
    assert p.run_time == ("70s", "90s", "90s")


def test_nothing_finished() -> None:
    h = history.history(jobs=[], now=b.T0)
    assert h.throughput.empty
    assert h.rate == "-"
    assert h.percentiles == ()
