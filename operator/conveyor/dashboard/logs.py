"""A pod's logs as server-sent events: what it wrote so far, then new lines
while the container runs (follow=true), then `end`. Reads through the
dashboard's own client; a log that cannot be read says why in one line."""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web

from conveyor.dashboard import sse
from conveyor.k8s import api

TAIL_LINES = 2000  # a browser tab is no place for a whole day's log
MAIN_CONTAINER = "main"  # the container Conveyor's Job templates run the work in


def container_of(pod: Mapping[str, Any]) -> str:
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or ()]
    return MAIN_CONTAINER if MAIN_CONTAINER in names or not names else str(names[0])


def unreadable(*, pod: Mapping[str, Any], message: str) -> str:
    """Why the log cannot be shown, in one line."""
    name = (pod.get("metadata") or {}).get("name")
    node = str((pod.get("spec") or {}).get("nodeName") or "")
    text = f"cannot read the logs of pod {name}: {message}"
    if node.startswith("kwok"):
        text += f" (node {node} is simulated by kwok: its pods have no real containers or logs)"
    return text


async def stream(
    request: web.Request, *, client: api.Client, namespace: str, pod: Mapping[str, Any] | None
) -> web.StreamResponse:
    response = web.StreamResponse(headers=sse.headers())
    await response.prepare(request)
    try:
        if pod is None:
            await response.write(sse.message(event="info", data="no pod for the current attempt"))
        else:
            await _follow(response, client=client, namespace=namespace, pod=pod)
        await response.write(sse.message(event="end", data=""))
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        pass  # the browser left
    with contextlib.suppress(Exception):
        await response.write_eof()
    return response


async def _follow(
    response: web.StreamResponse, *, client: api.Client, namespace: str, pod: Mapping[str, Any]
) -> None:
    name = str((pod.get("metadata") or {}).get("name") or "")
    path = api.PODS.path(namespace=namespace, name=name, sub="log").lstrip("/")
    params = {
        "container": container_of(pod),
        "follow": "true",
        "tailLines": str(TAIL_LINES),
    }
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    session = client._get_session()  # the client's authenticated session
    try:
        async with session.get(path, params=params, timeout=timeout) as answer:
            if answer.status >= 400:
                error = api._error(answer.status, await answer.text())
                text = unreadable(pod=pod, message=error.message)
                await response.write(sse.message(event="info", data=text))
                return
            rest = ""
            async for chunk in answer.content.iter_any():
                *lines, rest = (rest + decoder.decode(chunk)).split("\n")
                for line in lines:
                    await response.write(sse.message(event="line", data=line))
            if rest:
                await response.write(sse.message(event="line", data=rest))
    except aiohttp.ClientError as exc:
        await response.write(sse.message(event="info", data=f"log stream broken: {exc}"))
