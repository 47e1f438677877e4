"""watches: our own list+watch streams feed the store as kopf's handlers did;
a loopback server speaks the API server's list and watch shapes."""

from __future__ import annotations

import asyncio
import collections.abc
import json
from typing import Any

import pytest
from aiohttp import web

from conveyor.k8s import api, listing, watches
from tests import builders as b

Fed = list[tuple[str | None, str, str]]  # (event type, namespace, name)


class Server:
    """Serves scripted lists and watches of pods; records what was asked."""

    def __init__(self) -> None:
        self.lists: list[dict[str, Any]] = []  # one answer per list, in order
        self.watches: list[list[dict[str, Any] | str]] = []  # lines per watch, in order
        self.asked: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.url = ""
        self.closing = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.asked.append(dict(request.query))
        self.paths.append(request.path)
        if request.query.get("watch") != "true":
            return web.json_response(self.lists.pop(0) if self.lists else _list("1"))
        response = web.StreamResponse()
        await response.prepare(request)
        for line in self.watches.pop(0) if self.watches else []:
            text = line if isinstance(line, str) else json.dumps(line)
            # In two writes: a line may arrive in pieces.
            await response.write(text[:7].encode())
            await response.write(text[7:].encode() + b"\n")
        if not self.watches:
            await self.closing.wait()  # the last watch stays open, as a real one does
        return response


def _list(version: str, *names: str, namespace: str = b.NAMESPACE) -> dict[str, Any]:
    return {"metadata": {"resourceVersion": version}, "items": [_pod(n, namespace) for n in names]}


def _pod(name: str, namespace: str = b.NAMESPACE, version: str = "1") -> dict[str, Any]:
    pod = b.pod_running(name)
    pod["metadata"].update(name=name, namespace=namespace, resourceVersion=version)
    del pod["apiVersion"], pod["kind"]  # a list's items come without them
    return pod


def _event(kind: str, name: str, version: str) -> dict[str, Any]:
    return {"type": kind, "object": _pod(name, version=version)}


@pytest.fixture
async def server() -> collections.abc.AsyncIterator[Server]:
    srv = Server()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", srv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        yield srv
    finally:
        srv.closing.set()
        await runner.cleanup()


async def stream_until(
    srv: Server, fed: Fed, count: int, *, namespaces: tuple[str, ...] = ()
) -> None:
    """Run the pods' stream until `count` events were fed."""
    enough = asyncio.Event()

    def feed(kind: str | None, body: dict[str, Any]) -> None:
        assert (body["apiVersion"], body["kind"]) == ("v1", "Pod")
        fed.append((kind, body["metadata"]["namespace"], body["metadata"]["name"]))
        if len(fed) >= count:
            enough.set()

    watched = listing.Watched(
        resource=api.PODS, kind="Pod", feed=feed, label_selector="conveyor.dev/pipelinejob"
    )
    async with api.Client(login=b.StaticLogin(srv.url)) as client:
        task = asyncio.create_task(
            watches.run(client=client, watched=watched, namespaces=namespaces)
        )
        try:
            async with asyncio.timeout(10):
                await enough.wait()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_list_then_a_watch_from_its_version_feed_every_object(server: Server) -> None:
    server.lists = [_list("10", "p1", "p2")]
    server.watches = [[_event("ADDED", "p3", "11"), _event("MODIFIED", "p1", "12")]]
    fed: Fed = []
    await stream_until(server, fed, 4)
    ns = b.NAMESPACE
    assert fed == [(None, ns, "p1"), (None, ns, "p2"), ("ADDED", ns, "p3"), ("MODIFIED", ns, "p1")]
    listed, watched = server.asked[0], server.asked[1]
    assert listed == {"labelSelector": "conveyor.dev/pipelinejob"}
    assert watched["resourceVersion"] == "10"
    assert watched["allowWatchBookmarks"] == "true"
    assert watched["labelSelector"] == "conveyor.dev/pipelinejob"


async def test_the_next_watch_starts_from_the_last_version_seen_bookmarks_included(
    server: Server,
) -> None:
    bookmark = {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "15"}}}
    server.lists = [_list("10")]
    server.watches = [[_event("ADDED", "p1", "11"), bookmark], [_event("DELETED", "p1", "16")]]
    fed: Fed = []
    await stream_until(server, fed, 2)
    assert [kind for kind, _, _ in fed] == ["ADDED", "DELETED"]  # a bookmark feeds nothing
    assert [q.get("resourceVersion") for q in server.asked] == [None, "10", "15"]


async def test_gone_lists_again_and_what_vanished_meanwhile_is_fed_deleted(
    server: Server,
) -> None:
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}}
    server.lists = [_list("10", "p1", "p2"), _list("20", "p2")]
    server.watches = [[gone]]
    fed: Fed = []
    await stream_until(server, fed, 4)
    ns = b.NAMESPACE
    assert fed == [(None, ns, "p1"), (None, ns, "p2"), (None, ns, "p2"), ("DELETED", ns, "p1")]
    assert "watch" not in server.asked[2]  # the second list


async def test_a_line_that_is_not_json_restarts_the_watch_from_the_last_version(
    server: Server,
) -> None:
    server.lists = [_list("10")]
    server.watches = [[_event("ADDED", "p1", "11"), "{not json"], [_event("ADDED", "p2", "12")]]
    fed: Fed = []
    await stream_until(server, fed, 2)
    assert [name for _, _, name in fed] == ["p1", "p2"]
    assert [q.get("resourceVersion") for q in server.asked] == [None, "10", "11"]


async def test_a_deeply_nested_object_is_fed_with_its_deep_part_cut(server: Server) -> None:
    deep = _event("ADDED", "deep", "11")
    text = json.dumps(deep).replace(
        '"phase": "Running"', '"phase": ' + '{"k":' * 5_000 + "1" + "}" * 5_000
    )
    server.lists = [_list("10")]
    server.watches = [[text, _event("ADDED", "p2", "12")]]
    fed: Fed = []
    await stream_until(server, fed, 2)
    assert [name for _, _, name in fed] == ["deep", "p2"]


async def test_namespace_patterns_list_the_cluster_and_keep_the_matching_ones(
    server: Server,
) -> None:
    server.lists = [
        {
            "metadata": {"resourceVersion": "10"},
            "items": [_pod("a", "team-a"), _pod("x", "other"), _pod("b", "team-b")],
        }
    ]
    fed: Fed = []
    await stream_until(server, fed, 2, namespaces=("team-*",))
    assert fed == [(None, "team-a", "a"), (None, "team-b", "b")]
    assert server.paths[0] == "/api/v1/pods"


async def test_exact_namespaces_are_watched_one_by_one(server: Server) -> None:
    server.lists = [_list("10", "a", namespace="one"), _list("10", "b", namespace="two")]
    fed: Fed = []
    await stream_until(server, fed, 2, namespaces=("one", "two"))
    assert sorted(fed) == [(None, "one", "a"), (None, "two", "b")]
    assert {"/api/v1/namespaces/one/pods", "/api/v1/namespaces/two/pods"} <= set(server.paths)


async def test_a_feed_that_raises_is_logged_and_the_stream_goes_on(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    server.lists = [_list("10", "bad", "p2")]
    fed: Fed = []

    def feed(kind: str | None, body: dict[str, Any]) -> None:
        if body["metadata"]["name"] == "bad":
            raise KeyError("a bug in the store")
        fed.append((kind, body["metadata"]["namespace"], body["metadata"]["name"]))

    watched = listing.Watched(resource=api.PODS, kind="Pod", feed=feed)
    async with api.Client(login=b.StaticLogin(server.url)) as client:
        stream = watches.Stream(client=client, watched=watched, namespace=None)
        await stream.relist()
    assert fed == [(None, b.NAMESPACE, "p2")]
    assert "feeding Pod" in caplog.text
    assert "bad" in caplog.text
