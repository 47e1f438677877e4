"""The watcher and the log stream against a fake API server (aiohttp on a
local port): a watch that ends resumes from the last resourceVersion, a 410
lists afresh, a kind the API does not serve is MISSING; a pod's log reaches
the browser line by line, and an unreadable one says why."""

from __future__ import annotations

import asyncio
import collections.abc
import json
from typing import Any

import pytest
from aiohttp import test_utils, web

from conveyor.dashboard import server, watch
from conveyor.dashboard import store as store_
from conveyor.k8s import api
from tests.builders import kube as kube_builders
from tests.dashboard import builders as b

PJ_PATH = "/apis/conveyor.dev/v1alpha1/pipelinejobs"


def event(type_: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": type_, "object": obj}).encode() + b"\n"


def versioned(name: str, rv: str) -> dict[str, Any]:
    body = b.job(name)
    body["metadata"]["resourceVersion"] = rv
    return body


class FakeApi:
    """Scripted answers: each list returns the next listing, each watch the next script."""

    def __init__(self) -> None:
        self.listings: list[dict[str, Any]] = []
        self.watches: list[list[bytes] | None] = []  # None: hang until cancelled
        self.seen: list[tuple[str, str]] = []  # ("list"|"watch", resourceVersion)
        self.log_status = 200
        self.log_text = "line one\nline two\n"

    async def pipelinejobs(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("watch") != "true":
            self.seen.append(("list", ""))
            if not self.listings:
                return web.json_response({"kind": "Status", "code": 404}, status=404)
            return web.json_response(self.listings.pop(0))
        self.seen.append(("watch", request.query["resourceVersion"]))
        script = self.watches.pop(0) if self.watches else None
        response = web.StreamResponse()
        await response.prepare(request)
        if script is None:
            await asyncio.sleep(3600)
        for line in script or ():
            await response.write(line)
        return response

    async def log(self, request: web.Request) -> web.StreamResponse:
        if self.log_status != 200:
            return web.json_response({"message": "container not found"}, status=self.log_status)
        response = web.StreamResponse()
        await response.prepare(request)
        for part in (self.log_text[:5], self.log_text[5:]):
            await response.write(part.encode())
        return response

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(PJ_PATH, self.pipelinejobs)
        app.router.add_get("/api/v1/namespaces/{ns}/pods/{name}/log", self.log)
        return app


@pytest.fixture
async def fake() -> collections.abc.AsyncIterator[tuple[FakeApi, api.Client]]:
    fake_api = FakeApi()
    async with test_utils.TestServer(fake_api.app()) as test_server:
        url = str(test_server.make_url("/"))
        client = api.Client(login=kube_builders.StaticLogin(url))
        yield fake_api, client
        await client.close()


async def until(check: collections.abc.Callable[[], bool], *, timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


PJS = next(k for k in watch.KINDS if k.name == "pipelinejobs")


async def test_resume_from_the_last_version_then_relist_on_gone(
    fake: tuple[FakeApi, api.Client],
) -> None:
    fake_api, client = fake
    fake_api.listings = [
        {"metadata": {"resourceVersion": "10"}, "items": [versioned("a", "9")]},
        {"metadata": {"resourceVersion": "20"}, "items": [versioned("c", "19")]},
    ]
    fake_api.watches = [
        [event("ADDED", versioned("b", "11"))],  # then the server ends the watch
        [event("ERROR", {"kind": "Status", "code": 410, "message": "too old"})],
    ]
    store = store_.Store(kinds=watch.KIND_NAMES)
    task = asyncio.create_task(
        watch.Watcher(client=client, kind=PJS, store=store, namespace=None).run()
    )
    try:
        await until(lambda: len(fake_api.seen) >= 5)
        assert fake_api.seen[:5] == [
            ("list", ""),
            ("watch", "10"),
            ("watch", "11"),  # resumed where it was
            ("list", ""),  # 410 Gone: a fresh listing
            ("watch", "20"),
        ]
        assert [x["metadata"]["name"] for x in store.items("pipelinejobs")] == ["c"]
        assert store.sync("pipelinejobs") is store_.Sync.LIVE
    finally:
        task.cancel()


async def test_a_kind_the_api_does_not_serve_is_missing(
    fake: tuple[FakeApi, api.Client],
) -> None:
    _, client = fake
    store = store_.Store(kinds=watch.KIND_NAMES)
    task = asyncio.create_task(
        watch.Watcher(client=client, kind=PJS, store=store, namespace=None).run()
    )
    try:
        await until(lambda: store.sync("pipelinejobs") is store_.Sync.MISSING)
    finally:
        task.cancel()


async def read_events(answer: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    name = ""
    async for raw in answer.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))
            if name == "end":
                break
    return out


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, [("line", "line one"), ("line", "line two"), ("end", "")]),
        (
            400,
            [("info", "cannot read the logs of pod j-1-abcde: container not found"), ("end", "")],
        ),
    ],
)
async def test_a_pods_log_reaches_the_browser_line_by_line(
    fake: tuple[FakeApi, api.Client], status: int, expected: list[tuple[str, str]]
) -> None:
    fake_api, client = fake
    fake_api.log_status = status
    pod = b.pod_running("j-1")
    job = b.job("j", state="RUNNING", attempt=1, job="j-1")
    store = b.filled(pipelinejobs=[job], pods=[pod])
    app = server.make_app(store=store, client=client)
    async with test_utils.TestClient(test_utils.TestServer(app)) as http:
        answer = await http.get(f"/logs/{b.NAMESPACE}/j")
        assert answer.headers["Content-Type"] == "text/event-stream"
        assert await asyncio.wait_for(read_events(answer), 5) == expected


async def test_no_pod_no_log(fake: tuple[FakeApi, api.Client]) -> None:
    _, client = fake
    store = b.filled(pipelinejobs=[b.job("j", state="IN-QUEUE")])
    async with test_utils.TestClient(
        test_utils.TestServer(server.make_app(store=store, client=client))
    ) as http:
        answer = await http.get(f"/logs/{b.NAMESPACE}/j")
        events = await asyncio.wait_for(read_events(answer), 5)
    assert events == [("info", "no pod for the current attempt"), ("end", "")]
