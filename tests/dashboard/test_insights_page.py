"""The insights page served: against an SQLite archive holding a synthetic
delivery history, an empty archive, and no archive at all."""

from __future__ import annotations

import collections.abc
import pathlib
import re
from html import unescape

import pytest
from aiohttp import test_utils

from conveyor.archive import store, url
from conveyor.dashboard import server
from conveyor.k8s import api
from tests.builders import kube as kube_builders
from tests.dashboard import builders as b
from tests.dashboard import deliveries

NOW = b.T0
Http = test_utils.TestClient[object, object]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def cells(html: str, service: str, environment: str) -> dict[str, str]:
    """One row of the per-service table: each metric's value and band."""
    start = f'<tr data-service="{service}" data-environment="{environment}"'
    found = re.search(re.escape(start) + r"[^>]*>(.*?)</tr>", html)
    assert found, (service, environment)
    row = found.group(1)
    metrics = re.findall(
        r'<td data-metric="(\w+)"><span class="value">([^<]*)</span> '
        r'<span class="band [\w-]+" data-band="([\w-]+)">',
        row,
    )
    deploys = re.search(r'<td class="deploys">(\d+)</td>', row)
    assert deploys
    return {"deploys": deploys.group(1)} | {k: f"{v} {band}" for k, v, band in metrics}


async def _serve(
    archive: store.Archive | None, *, scope: str = ""
) -> collections.abc.AsyncIterator[Http]:
    client = api.Client(login=kube_builders.StaticLogin("https://127.0.0.1:1"))
    app = server.make_app(
        store=b.filled(), client=client, clock=lambda: NOW, archive=archive, scope=scope
    )
    async with test_utils.TestClient(test_utils.TestServer(app)) as http:
        yield http
    await client.close()


def _archive(tmp_path: pathlib.Path) -> store.Archive:
    archive = store.Archive(url=url.parse(f"sqlite:///{tmp_path}/history.db"))
    archive.migrate()
    return archive


@pytest.fixture
async def http(tmp_path: pathlib.Path) -> collections.abc.AsyncIterator[Http]:
    archive = _archive(tmp_path)
    archive.write(deliveries.records(now=NOW, namespace=b.NAMESPACE), now=NOW)
    async for client in _serve(archive):
        yield client
    archive.close()


async def test_the_figures_and_bands_per_service_and_environment(http: Http) -> None:
    answer = await http.get("/insights")
    assert answer.status == 200
    html = await answer.text()
    # Hand-worked in tests/dashboard/deliveries.py, as `conveyor insights` prints them.
    assert cells(html, "api", "prod") == {
        "deploys": "31",
        "deployment_frequency": "1.00 elite",
        "lead_time": "3h elite",
        "change_failure_rate": "6% high",
        "time_to_restore": "120m high",
    }
    assert cells(html, "web", "staging") == {
        "deploys": "8",
        "deployment_frequency": "0.20 high",
        "lead_time": "2d high",
        "change_failure_rate": "25% low",
        "time_to_restore": "4d medium",
    }
    assert cells(html, "(all)", "-")["deploys"] == "40"
    page = text_of(html)
    assert "40 deploys in the last 30 days" in page
    for chart in ("chart-deploys", "chart-failure-rate", "chart-lead-time"):
        assert f'id="{chart}"' in html
    assert "DORA performance bands" in page
    assert "≥ 1 a day" in page  # the legend, from the core's bounds
    assert 'href="/insights" class="current"' in html
    # Refreshed by the stream's tick, not by every job's change (an archive read each).
    assert '<body data-kinds="">' in html


async def test_the_window_and_the_filters_reach_the_figures(http: Http) -> None:
    html = await (await http.get("/insights?window=7&service=api")).text()
    assert cells(html, "api", "prod")["deploys"] == "7"
    assert cells(html, "api", "prod")["change_failure_rate"] == "14% medium"  # the rollback
    assert 'data-service="web"' not in html
    assert '<option value="7" selected>' in html
    assert "<option selected>api</option>" in html
    assert '<select name="namespace">' in html
    html = await (await http.get("/insights?environment=staging&window=90")).text()
    assert cells(html, "web", "staging")["deploys"] == "23"
    assert "Deploys per week" in text_of(html)
    html = await (await http.get("/insights?namespace=elsewhere")).text()
    assert 'data-service="api"' not in html  # the namespace reaches the database


async def test_the_page_is_served_under_the_strict_policy(http: Http) -> None:
    answer = await http.get("/insights")
    assert answer.headers["Content-Security-Policy"] == server.CSP
    html = await answer.text()
    assert "<script>" not in html  # the one script is /static/dashboard.js
    assert " style=" not in html


async def test_a_dashboard_of_one_namespace_shows_that_ones_deploys(
    tmp_path: pathlib.Path,
) -> None:
    archive = _archive(tmp_path)
    archive.write(deliveries.records(now=NOW, namespace="elsewhere"), now=NOW)
    async for http in _serve(archive, scope=b.NAMESPACE):
        # Not even when the address asks for the other namespace.
        html = await (await http.get("/insights?namespace=elsewhere")).text()
        assert "No deploys in the archive yet" in text_of(html)
        assert 'name="namespace"' not in html  # nothing to choose
    archive.close()


async def test_an_empty_archive_says_what_would_count(tmp_path: pathlib.Path) -> None:
    archive = _archive(tmp_path)
    async for http in _serve(archive):
        page = text_of(await (await http.get("/insights")).text())
        assert "No deploys in the archive yet" in page
        assert "conveyor.dev/service" in page
    archive.close()


async def test_without_an_archive_the_page_says_how_to_configure_one() -> None:
    async for http in _serve(None):
        answer = await http.get("/insights")
        assert answer.status == 200
        page = text_of(await answer.text())
        assert "Delivery insights need the archive" in page
        assert "conveyor dashboard -A --archive sqlite:///" in page
        assert "archive.type: sqlite" in page
        assert "change failure rate" in page  # what it would show
        jobs = await (await http.get("/jobs")).text()
        assert '<a href="/insights">Insights</a>' in jobs  # the nav link on the other pages
