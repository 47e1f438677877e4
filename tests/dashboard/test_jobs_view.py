"""The jobs page: the columns of `conveyor get`, filters, search and paging."""

from __future__ import annotations

import datetime

import pytest

from conveyor.core import model
from conveyor.dashboard.views import jobs
from tests.dashboard import builders as b

WORKERS = [model.parse_worker(b.worker_body("build", concurrency=1))]


def parsed(*bodies: dict[str, object]) -> list[model.PipelineJob]:
    return [model.parse_pipelinejob(x) for x in bodies]


def some_jobs() -> list[model.PipelineJob]:
    return parsed(
        b.job(
            "run-1",
            state="RUNNING",
            worker="build",
            attempt=1,
            started_at=b.at(-90),
            created=b.at(-100),
            labels={"app": "api"},
        ),
        b.job(
            "wait-1",
            state="IN-QUEUE",
            reason="ConcurrencyLimit",
            message="all slots busy",
            created=b.at(-50),
            labels={"app": "web"},
        ),
        b.job("wait-2", state="IN-QUEUE", reason="ConcurrencyLimit", created=b.at(-40)),
        b.job(
            "done-1",
            state="SUCCESS",
            worker="build",
            attempt=1,
            started_at=b.at(-300),
            finished_at=b.at(-240),
            created=b.at(-400),
            type="delay",
        ),
    )


def table(**query: str) -> jobs.Table:
    return jobs.table(
        jobs=some_jobs(),
        workers=WORKERS,
        typical={},
        filters=jobs.Filters.from_query(query),
        now=b.T0,
    )


def test_rows_show_the_get_columns_active_jobs_first() -> None:
    t = table()
    assert [r.name for r in t.rows] == ["run-1", "wait-2", "wait-1", "done-1"]
    run, wait2, wait1, done = t.rows
    assert (run.state, run.worker, run.attempt, run.age, run.duration) == (
        "RUNNING",
        "build",
        "1",
        "100s",
        "90s",
    )
    assert (wait1.queue, wait2.queue) == ("1/2", "2/2")
    assert (done.duration, done.type) == ("60s", "delay")
    assert t.counts == {"RUNNING": 1, "IN-QUEUE": 2, "SUCCESS": 1}
    assert run.href == f"/jobs/{b.NAMESPACE}/run-1"


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"state": "IN-QUEUE"}, ["wait-2", "wait-1"]),
        ({"type": "delay"}, ["done-1"]),
        ({"worker": "build", "state": "RUNNING"}, ["run-1"]),
        ({"label": "app=api"}, ["run-1"]),
        ({"label": "app"}, ["run-1", "wait-1"]),
        ({"label": "app!=api"}, ["wait-2", "wait-1", "done-1"]),
        ({"q": "SLOTS"}, ["wait-1"]),
        ({"q": "done"}, ["done-1"]),
        ({"namespace": "elsewhere"}, []),
    ],
)
def test_filters(query: dict[str, str], names: list[str]) -> None:
    assert [r.name for r in table(**query).rows] == names


def test_paging_5000_jobs() -> None:
    many = parsed(*(b.job(f"j{i:04}", created=b.at(i), state="SUCCESS") for i in range(5000)))
    filters = jobs.Filters.from_query({"page": "3"})
    t = jobs.table(jobs=many, workers=WORKERS, typical={}, filters=filters, now=b.at(6000))
    assert (t.total, t.matched, t.page, t.pages, len(t.rows)) == (5000, 5000, 3, 100, 50)
    assert t.rows[0].name == "j4899"  # newest first
    assert t.filters.query(page=4) == "page=4"
    beyond = jobs.table(
        jobs=many,
        workers=WORKERS,
        typical={},
        filters=jobs.Filters.from_query({"page": "999"}),
        now=b.at(6000),
    )
    assert beyond.page == 100


def test_filters_from_a_hostile_query() -> None:
    f = jobs.Filters.from_query({"page": "x", "q": " a " + "b" * 500})
    assert f.page == 1
    assert len(f.q) == 200


def test_a_running_job_shows_its_estimate() -> None:
    kind = (b.NAMESPACE, "build", "custom")
    t = jobs.table(
        jobs=some_jobs(),
        workers=WORKERS,
        typical={kind: (datetime.timedelta(minutes=3), 5)},
        filters=jobs.Filters(),
        now=b.T0,
    )
    assert t.rows[0].progress == "about 2 min left"
    assert t.rows[0].fraction == pytest.approx(0.5)
