"""The archive on SQLite and on a real PostgreSQL server: idempotent writes,
filters, newest-first pages, retention; and a 10,000-record history paged."""

from __future__ import annotations

import datetime
import time

import pytest

from conveyor.archive import record, selector, store
from tests.archive import builders

NOW = builders.T0 + datetime.timedelta(days=1)
MIN = datetime.timedelta(minutes=1)


def rec(**kwargs: object) -> record.Record:
    r = record.from_body(
        kind=str(kwargs.pop("kind", record.PIPELINEJOB)), body=builders.job(**kwargs)
    )  # type: ignore[arg-type]
    assert r is not None
    return r


def test_a_replay_records_nothing_twice(archive: store.Archive) -> None:
    first = [rec(name=f"j{n}", finished=builders.T0 + n * MIN) for n in range(3)]
    assert archive.write(first, now=NOW) == 3
    assert archive.write(first, now=NOW) == 0
    assert archive.write([*first, rec(name="j3")], now=NOW) == 1
    assert archive.count() == 4


def test_a_rewrite_updates_the_record_and_its_labels(archive: store.Archive) -> None:
    r = rec(name="j", labels={"team": "a"})
    archive.write([r], now=NOW)
    changed = record.Record(**{**r.__dict__, "reason": "Later", "labels": {"team": "b"}})
    assert archive.write([changed], now=NOW) == 0
    [got] = archive.page(where=store.Filter(), limit=10).records
    assert got.reason == "Later"
    assert archive.count(where=store.Filter(selector=selector.parse("team=b"))) == 1
    assert archive.count(where=store.Filter(selector=selector.parse("team=a"))) == 0


def test_a_record_reads_back_as_written(archive: store.Archive) -> None:
    r = rec(name="j", type_="deploy", outputs={"digest": "sha256:1"}, labels={"a": "b"})
    archive.write([r], now=NOW)
    [got] = archive.page(where=store.Filter(), limit=1).records
    assert got == r
    assert got.finished_at.tzinfo is not None


PROD_X = {"env": "prod", "team": "x"}


@pytest.mark.parametrize(
    ("where", "names"),
    [
        (store.Filter(), ["j4", "j3", "j2", "j1", "j0"]),
        (store.Filter(kind=None), ["r0", "j4", "j3", "j2", "j1", "j0"]),
        (store.Filter(kind=record.PIPELINERUN), ["r0"]),
        (store.Filter(namespace="team-b"), ["j1"]),
        (store.Filter(types=["deploy"]), ["j4", "j2", "j0"]),
        (store.Filter(worker="w1"), ["j3", "j0"]),
        (store.Filter(state="FAILED"), ["j4", "j3"]),
        (store.Filter(selector=selector.parse("env=prod")), ["j2", "j0"]),
        (store.Filter(selector=selector.parse("env!=prod")), ["j4", "j3", "j1"]),
        (store.Filter(selector=selector.parse("env")), ["j2", "j1", "j0"]),
        (store.Filter(selector=selector.parse("!env")), ["j4", "j3"]),
        (store.Filter(selector=selector.parse("env=prod,team=x")), ["j0"]),
        (store.Filter(since=builders.T0 + 2 * MIN), ["j4", "j3", "j2"]),
        (store.Filter(until=builders.T0 + 2 * MIN), ["j1", "j0"]),
        (store.Filter(types=["deploy"], state="SUCCESS", namespace="team-a"), ["j2", "j0"]),
    ],
)
def test_filters(archive: store.Archive, where: store.Filter, names: list[str]) -> None:
    at = [builders.T0 + n * MIN for n in range(6)]
    archive.write(
        [
            rec(name="j0", type_="deploy", worker="w1", labels=PROD_X, finished=at[0]),
            rec(name="j1", namespace="team-b", labels={"env": "dev"}, finished=at[1]),
            rec(name="j2", type_="deploy", labels={"env": "prod"}, finished=at[2]),
            rec(name="j3", state="FAILED", worker="w1", finished=at[3]),
            rec(name="j4", type_="deploy", state="FAILED", finished=at[4]),
        ],
        now=NOW,
    )  # fmt: skip
    run = record.from_body(kind=record.PIPELINERUN, body=builders.run(name="r0", finished=at[5]))
    assert run is not None
    archive.write([run], now=NOW)
    assert [r.name for r in archive.all(where=where)] == names


def test_pages_follow_each_other_without_gaps_or_repeats(archive: store.Archive) -> None:
    same = builders.T0  # ties on the finish time are broken by uid
    archive.write([rec(name=f"j{n}", finished=same + (n // 3) * MIN) for n in range(10)], now=NOW)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = archive.page(where=store.Filter(), limit=4, token=token)
        seen += [r.uid for r in page.records]
        pages += 1
        if page.next is None:
            break
        token = page.next
    assert pages == 3
    assert len(seen) == len(set(seen)) == 10
    all_in_order = [r.uid for r in archive.page(where=store.Filter(), limit=100).records]
    assert seen == all_in_order


def test_a_bad_page_token_is_a_value_error(archive: store.Archive) -> None:
    with pytest.raises(ValueError, match="page token"):
        archive.page(where=store.Filter(), limit=1, token="!!!")


def test_retention_deletes_what_finished_before_the_cut(archive: store.Archive) -> None:
    old = rec(name="old", labels={"a": "b"}, finished=builders.T0 - datetime.timedelta(days=91))
    new = rec(name="new", labels={"a": "b"}, finished=builders.T0)
    archive.write([old, new], now=NOW)
    assert archive.prune(before=builders.T0 - datetime.timedelta(days=90)) == 1
    assert [r.name for r in archive.all(where=store.Filter())] == ["new"]
    assert archive.count(where=store.Filter(selector=selector.parse("a=b"))) == 1
    assert archive.prune(before=builders.T0 - datetime.timedelta(days=90)) == 0


def test_migrating_twice_is_harmless(archive: store.Archive) -> None:
    archive.write([rec()], now=NOW)
    archive.migrate()
    assert archive.count() == 1


def test_ten_thousand_records_page_in_well_under_a_second(archive: store.Archive) -> None:
    start = builders.T0
    many = [
        rec(
            name=f"job-{n}",
            namespace=f"team-{n % 5}",
            type_=("build", "deploy")[n % 2],
            labels={"team": str(n % 5)},
            finished=start + n * datetime.timedelta(seconds=30),
        )
        for n in range(10_000)
    ]
    archive.write(many, now=NOW)
    assert archive.count() == 10_000
    timings = []
    for where in (
        store.Filter(),
        store.Filter(namespace="team-3", types=["deploy"]),
        store.Filter(selector=selector.parse("team=2")),
    ):
        began = time.perf_counter()
        first = archive.page(where=where, limit=50)
        deep = archive.page(where=where, limit=50, token=first.next)
        timings.append(time.perf_counter() - began)
        assert len(first.records) == len(deep.records) == 50
    dialect = archive.engine.dialect.name
    print(
        f"\n{dialect}: 2 pages of 50 from 10,000 records: "
        + ", ".join(f"{t * 1000:.1f} ms" for t in timings)
    )
    assert max(timings) < 0.5


def test_the_migrations_make_the_tables_the_queries_are_written_against(
    archive: store.Archive,
) -> None:
    from alembic import autogenerate, migration

    from conveyor.archive import schema

    with archive.engine.connect() as connection:
        context = migration.MigrationContext.configure(connection)
        differences = autogenerate.compare_metadata(context, schema.METADATA)
    assert differences == []
