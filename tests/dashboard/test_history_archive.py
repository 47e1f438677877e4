"""The history page with an archive: months of records the API has deleted,
counted and paged from the database, the charts from the last day."""

from __future__ import annotations

import collections.abc
import datetime
import pathlib
import re
from html import unescape

import pytest
from aiohttp import test_utils

from conveyor.archive import record, store, url
from conveyor.dashboard import server
from conveyor.k8s import api
from tests.archive import builders as archived
from tests.builders import kube as kube_builders
from tests.dashboard import builders as b

NOW = b.T0


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
async def http(
    tmp_path: pathlib.Path,
) -> collections.abc.AsyncIterator[test_utils.TestClient[object, object]]:
    archive = store.Archive(url=url.parse(f"sqlite:///{tmp_path}/history.db"))
    archive.migrate()
    hour = datetime.timedelta(hours=1)
    bodies = [
        archived.job(
            name=f"old-build-{n}",
            namespace=b.NAMESPACE,
            state="FAILED" if n % 4 == 0 else "SUCCESS",
            finished=NOW - n * hour,
        )
        for n in range(60)
    ]
    found = [record.from_body(kind=record.PIPELINEJOB, body=x) for x in bodies]
    run_body = archived.run(name="old-ci-1", namespace=b.NAMESPACE, finished=NOW - 30 * hour)
    run = record.from_body(kind=record.PIPELINERUN, body=run_body)
    archive.write([r for r in [*found, run] if r is not None], now=NOW)
    client = api.Client(login=kube_builders.StaticLogin("https://127.0.0.1:1"))
    app = server.make_app(store=b.filled(), client=client, clock=lambda: NOW, archive=archive)
    async with test_utils.TestClient(test_utils.TestServer(app)) as http:
        yield http
    await client.close()
    archive.close()


async def test_the_history_page_reads_the_archive(
    http: test_utils.TestClient[object, object],
) -> None:
    page = text_of(await (await http.get("/history")).text())
    # 60 jobs, every fourth failed: 45 succeeded. None of them is in the live store.
    assert "60 finished jobs · success rate 75%" in page
    assert "old-build-0" in page
    assert "old-build-49" in page
    assert "old-build-50" not in page  # page 2
    assert "old-ci-1" in page


async def test_older_pages_come_from_the_archive(
    http: test_utils.TestClient[object, object],
) -> None:
    page = text_of(await (await http.get("/history?page=2")).text())
    assert "old-build-50" in page
    assert "old-build-59" in page
    assert "old-build-49" not in page


async def test_a_namespace_filter_reaches_the_database(
    http: test_utils.TestClient[object, object],
) -> None:
    page = text_of(await (await http.get("/history?namespace=elsewhere")).text())
    assert "0 finished jobs" in page
