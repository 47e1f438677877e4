"""The web server on a filled store: every page renders, only GET is
served, security headers on every answer, fragments for live updates, and
the event stream says hello, then which kinds changed."""

from __future__ import annotations

import asyncio
import collections.abc
import re
from html import unescape

import pytest
from aiohttp import test_utils

from conveyor.cli import why_cmd
from conveyor.dashboard import server, sse
from conveyor.dashboard import store as store_
from conveyor.k8s import api
from conveyor.presentation import diagnosis
from tests.builders import kube as kube_builders
from tests.dashboard import builders as b


def objects() -> store_.Store:
    worker = b.worker_body("build", status={"state": "ONLINE", "lastHeartbeat": b.ts(b.T0)})
    run = b.run(
        "ci-1",
        steps=[b.step("build"), b.step("test", "build")],
        state="RUNNING",
        status_steps=[{"name": "build", "state": "SUCCESS", "jobs": ["ci-1-build"]}],
    )
    return b.filled(
        pipelinejobs=[
            b.job(
                "ci-1-build",
                state="SUCCESS",
                worker="build",
                attempt=1,
                started_at=b.at(-20),
                finished_at=b.at(-10),
                outputs={"digest": "sha256:1"},
            ),
            b.job("<script>x</script>", state="IN-QUEUE", reason="NoWorker"),
        ],
        workers=[worker],
        pipelineruns=[run],
    )


@pytest.fixture
async def http() -> collections.abc.AsyncIterator[test_utils.TestClient[object, object]]:
    client = api.Client(login=kube_builders.StaticLogin("https://127.0.0.1:1"))
    app = server.make_app(store=objects(), client=client, clock=lambda: b.T0)
    async with test_utils.TestClient(test_utils.TestServer(app)) as http:
        yield http
    await client.close()


PAGES = [
    "/jobs",
    "/jobs?state=SUCCESS&q=ci",
    f"/jobs/{b.NAMESPACE}/ci-1-build",
    "/runs",
    f"/runs/{b.NAMESPACE}/ci-1",
    "/workers",
    "/history",
    f"/history?namespace={b.NAMESPACE}&page=2",
    f"/jobs/{b.NAMESPACE}/gone",
]


@pytest.mark.parametrize("path", PAGES)
async def test_pages_render_with_security_headers(
    http: test_utils.TestClient[object, object], path: str
) -> None:
    answer = await http.get(path)
    text = await answer.text()
    assert answer.status == 200, text
    assert answer.headers["Content-Security-Policy"] == server.CSP
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "<script>x</script>" not in text  # names are escaped
    assert 'src="/static/dashboard.js"' in text
    assert " style=" not in text  # the CSP forbids inline styles


def text_of(html: str) -> str:
    """The words of a page, as a reader sees them."""
    words = re.sub(r"<[^>]+>", " ", html)
    return " ".join(unescape(words).split())


async def test_the_job_page_says_what_conveyor_why_says(
    http: test_utils.TestClient[object, object],
) -> None:
    store = http.server.app[server.STORE]  # type: ignore[union-attr]
    body = store.get("pipelinejobs", namespace=b.NAMESPACE, name="<script>x</script>")
    page = text_of(
        await (await http.get(f"/jobs/{b.NAMESPACE}/%3Cscript%3Ex%3C%2Fscript%3E")).text()
    )
    ns = store.items("pipelinejobs", namespace=b.NAMESPACE)
    found = diagnosis.diagnose(
        job=body, jobs=ns, workers=store.items("workers"), pods=[], events=[], now=b.T0
    )
    lines = why_cmd.render(found, colour=False)
    assert len(lines) > 3
    for line in lines:
        words = " ".join(line.split()).removeprefix("- ")  # the page lists actions as <li>
        assert words in page, line


async def test_the_job_page_shows_why_and_outputs(
    http: test_utils.TestClient[object, object],
) -> None:
    text = text_of(await (await http.get(f"/jobs/{b.NAMESPACE}/ci-1-build")).text())
    assert f"pipelinejob {b.NAMESPACE}/ci-1-build: SUCCESS" in text
    assert "sha256:1" in text


async def test_a_fragment_is_the_live_part_only(
    http: test_utils.TestClient[object, object],
) -> None:
    answer = await http.get("/workers", headers={server.FRAGMENT_HEADER: "1"})
    text = await answer.text()
    assert answer.headers["X-Version"].isdigit()
    assert 'id="workers"' in text
    assert "<html" not in text


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_read_only(http: test_utils.TestClient[object, object], method: str) -> None:
    answer = await http.request(method, "/jobs")
    assert answer.status == 405
    assert answer.headers["Content-Security-Policy"] == server.CSP


async def test_static_files_and_health(http: test_utils.TestClient[object, object]) -> None:
    js = await http.get("/static/dashboard.js")
    assert js.status == 200
    assert "EventSource" in await js.text()
    health = await (await http.get("/healthz")).json()
    assert health["pipelinejobs"] == "live"


async def test_the_stream_says_hello_then_what_changed(
    http: test_utils.TestClient[object, object],
) -> None:
    answer = await http.get("/events")
    assert answer.headers["Content-Type"] == "text/event-stream"
    assert answer.headers["Content-Security-Policy"] == server.CSP
    first = await asyncio.wait_for(answer.content.readline(), 5)
    assert first == b"retry: 1000\n"
    seen = b""
    while b"event: hello" not in seen:
        seen += await asyncio.wait_for(answer.content.readline(), 5)
    store = http.server.app[server.STORE]  # type: ignore[union-attr]
    store.apply(kind="workers", event="ADDED", body=b.worker_body("deploy", type="deploy"))
    store.apply(kind="pods", event="ADDED", body=b.pod_running("j-1"))
    seen = b""
    while b"event: change" not in seen:
        seen += await asyncio.wait_for(answer.content.readline(), 5)
    data = await asyncio.wait_for(answer.content.readline(), 5)
    while b"data:" not in data:
        data = await asyncio.wait_for(answer.content.readline(), 5)
    assert b'"kinds": ["pods", "workers"]' in data
    answer.close()


def test_sse_message_format() -> None:
    assert sse.message(event="change", id="7", data={"a": 1}) == (
        b'event: change\nid: 7\ndata: {"a": 1}\n\n'
    )
    assert sse.comment("heartbeat") == b": heartbeat\n\n"


async def test_the_root_redirects_and_unknown_paths_are_404_with_headers(
    http: test_utils.TestClient[object, object],
) -> None:
    root = await http.get("/", allow_redirects=False)
    assert root.status == 302
    assert root.headers["Location"] == "/jobs"
    assert root.headers["Content-Security-Policy"] == server.CSP
    missing = await http.get("/nothing-here")
    assert missing.status == 404
    assert missing.headers["Content-Security-Policy"] == server.CSP


async def test_a_broken_watch_shows_a_banner_until_it_is_live_again(
    http: test_utils.TestClient[object, object],
) -> None:
    store = http.server.app[server.STORE]  # type: ignore[union-attr]
    store.set_sync(kind="workers", sync=store_.Sync.RECONNECTING)
    page = text_of(await (await http.get("/jobs")).text())
    assert "The API watch of workers is reconnecting" in page
    store.set_sync(kind="workers", sync=store_.Sync.LIVE)
    assert "reconnecting" not in text_of(await (await http.get("/jobs")).text())


async def test_pipeline_runs_missing_from_the_api_say_so(
    http: test_utils.TestClient[object, object],
) -> None:
    store = http.server.app[server.STORE]  # type: ignore[union-attr]
    store.set_sync(kind="pipelineruns", sync=store_.Sync.MISSING)
    page = text_of(await (await http.get("/runs")).text())
    assert "This cluster has no PipelineRun API yet" in page


async def test_history_by_namespace(http: test_utils.TestClient[object, object]) -> None:
    mine = text_of(await (await http.get(f"/history?namespace={b.NAMESPACE}")).text())
    other = text_of(await (await http.get("/history?namespace=elsewhere")).text())
    assert "1 finished jobs" in mine
    assert "0 finished jobs" in other
