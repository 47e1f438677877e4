"""The recorder's hook: watch events and listings in, each finished object
written once, catch-ups counted, retention and gauges applied."""

from __future__ import annotations

import datetime
import pathlib

import pytest

from conveyor.archive import metrics, record, recorder, store, url
from tests.archive import builders

NOW = builders.T0 + datetime.timedelta(days=2)


@pytest.fixture
def sqlite_archive(tmp_path: pathlib.Path) -> store.Archive:
    archive = store.Archive(url=url.parse(f"sqlite:///{tmp_path}/h.db"))
    archive.migrate()
    return archive


def keeper(archive: store.Archive, **kwargs: object) -> recorder.Recorder:
    return recorder.Recorder(archive=archive, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def counter(c: object, *labels: str) -> float:
    metric = c.labels(*labels) if labels else c  # type: ignore[attr-defined]
    return float(metric._value.get())


async def test_a_job_is_written_when_it_finishes_not_before(sqlite_archive: store.Archive) -> None:
    r = keeper(sqlite_archive)
    body = builders.job(name="j", state="RUNNING")
    r.observe(kind="pipelinejobs", body=body, event="MODIFIED")
    assert r.pending == 0
    body["status"] |= {"state": "SUCCESS", "finishedAt": builders.stamp(builders.T0)}
    r.observe(kind="pipelinejobs", body=body, event="MODIFIED")
    r.observe(kind="pipelinejobs", body=body, event="MODIFIED")  # the same again: once
    assert r.pending == 1
    await r.flush()
    assert r.pending == 0
    assert [x.name for x in sqlite_archive.all(where=store.Filter())] == ["j"]


async def test_a_deleted_job_is_kept_from_its_last_state(sqlite_archive: store.Archive) -> None:
    r = keeper(sqlite_archive)
    r.observe(kind="pipelinejobs", body=builders.job(name="gone"), event="DELETED")
    await r.flush()
    assert sqlite_archive.count() == 1


async def test_other_kinds_are_ignored(sqlite_archive: store.Archive) -> None:
    r = keeper(sqlite_archive)
    r.observe(kind="workers", body=builders.job(), event="ADDED")
    r.catch_up(kind="pods", items=[builders.job()])
    assert r.pending == 0


async def test_a_listing_catches_up_only_what_the_archive_lacks(
    sqlite_archive: store.Archive,
) -> None:
    seen = [builders.job(name=f"seen-{n}") for n in range(3)]
    missed = [builders.job(name=f"missed-{n}") for n in range(2)]
    first = keeper(sqlite_archive)
    for body in seen:
        first.observe(kind="pipelinejobs", body=body, event="MODIFIED")
    await first.flush()
    before = counter(metrics.CAUGHT_UP, record.PIPELINEJOB)
    # A new process (the old one was killed): its first listing has all five.
    second = keeper(sqlite_archive)
    running = builders.job(name="running", state="RUNNING")
    second.catch_up(kind="pipelinejobs", items=[*seen, *missed, running])
    await second.flush()
    assert counter(metrics.CAUGHT_UP, record.PIPELINEJOB) - before == 2
    assert sqlite_archive.count() == 5
    # The watch then repeats them: nothing new, nothing twice.
    for body in [*seen, *missed]:
        second.observe(kind="pipelinejobs", body=body, event="MODIFIED")
    assert second.pending == 0


async def test_runs_are_recorded_as_runs(sqlite_archive: store.Archive) -> None:
    r = keeper(sqlite_archive)
    r.observe(kind="pipelineruns", body=builders.run(), event="MODIFIED")
    await r.flush()
    [got] = sqlite_archive.all(where=store.Filter(kind=None))
    assert got.kind == record.PIPELINERUN


async def test_a_failed_write_keeps_the_records_queued(sqlite_archive: store.Archive) -> None:
    r = keeper(sqlite_archive)
    r.observe(kind="pipelinejobs", body=builders.job(), event="MODIFIED")
    sqlite_archive.engine.dispose()
    with sqlite_archive.engine.begin() as connection:  # the table is away for a moment
        connection.exec_driver_sql("ALTER TABLE records RENAME TO away")
    with pytest.raises(Exception, match="records"):
        await r.flush()
    assert r.pending == 1
    with sqlite_archive.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE away RENAME TO records")
    await r.flush()
    assert r.pending == 0
    assert sqlite_archive.count() == 1


async def test_maintenance_applies_the_retention_and_sets_the_gauges(
    sqlite_archive: store.Archive,
) -> None:
    labels = {"conveyor.dev/service": "api", "conveyor.dev/environment": "prod"}
    old = builders.job(
        name="old", type_="deploy", labels=labels, finished=NOW - datetime.timedelta(days=100)
    )
    fresh = builders.job(
        name="fresh", type_="deploy", labels=labels, finished=NOW - datetime.timedelta(hours=1)
    )
    r = keeper(sqlite_archive)
    r.catch_up(kind="pipelinejobs", items=[old, fresh])
    await r.flush()
    await r.maintain()
    assert [x.name for x in sqlite_archive.all(where=store.Filter())] == ["fresh"]
    assert metrics.DEPLOYS.labels("api", "prod")._value.get() == 1
    assert metrics.DEPLOYMENT_FREQUENCY.labels("", "")._value.get() == pytest.approx(1 / 30)
    assert metrics.CHANGE_FAILURE_RATE.labels("api", "prod")._value.get() == 0.0
    assert metrics.BAND.labels("api", "prod", "change_failure_rate", "elite")._value.get() == 1
