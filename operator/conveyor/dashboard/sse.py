"""Server-sent events: every browser's stream hears which kinds changed (a
burst of changes is sent as one message) and a heartbeat comment keeps
proxies from closing an idle stream. The browser then fetches the part of
its page that changed; on a reconnect the `hello` message carries the
store's version, and a page older than it fetches a fresh snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from typing import Any

from aiohttp import web

from conveyor.dashboard import store as store_

HEARTBEAT = 15.0  # seconds; proxies commonly close streams idle for 60 s
TICK_EVERY = 2  # heartbeats: then a `tick`, and pages refresh their ages
COALESCE = 0.1  # seconds: changes closer together than this are one message
RETRY_MS = 1000  # the browser reconnects after this long


def message(*, event: str, data: Any, id: str | None = None) -> bytes:
    """One event in the text/event-stream format."""
    lines = [f"event: {event}"]
    if id is not None:
        lines.append(f"id: {id}")
    lines += [f"data: {part}" for part in json.dumps(data).split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


def comment(text: str) -> bytes:
    return f": {text}\n\n".encode()


@dataclasses.dataclass(eq=False, kw_only=True)
class Subscriber:
    kinds: set[str] = dataclasses.field(default_factory=set)
    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    def take(self) -> list[str]:
        kinds, self.kinds = sorted(self.kinds), set()
        self.wake.clear()
        return kinds


class Hub:
    """Fans the store's changes out to the open streams."""

    def __init__(self, *, store: store_.Store) -> None:
        self._store = store
        self._subscribers: set[Subscriber] = set()
        self.closing = False
        store.subscribe(self._changed)

    def shutdown(self) -> None:
        """End every stream cleanly: browsers reconnect to the next server."""
        self.closing = True
        for sub in self._subscribers:
            sub.wake.set()

    def __len__(self) -> int:
        return len(self._subscribers)

    def _changed(self, kind: str) -> None:
        for sub in self._subscribers:
            sub.kinds.add(kind)
            sub.wake.set()

    def open(self) -> Subscriber:
        sub = Subscriber()
        self._subscribers.add(sub)
        return sub

    def close(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def hello(self) -> bytes:
        data = {"version": self._store.version, "sync": self._store.health()}
        return message(event="hello", id=str(self._store.version), data=data)

    def tick(self) -> bytes:
        """The clock moved on: ages and durations on the pages are older."""
        return message(event="tick", data={"version": self._store.version})

    def change(self, kinds: list[str]) -> bytes:
        data = {"version": self._store.version, "kinds": kinds, "sync": self._store.health()}
        return message(event="change", id=str(self._store.version), data=data)


def headers() -> dict[str, str]:
    return {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache, no-transform",
        "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
    }


async def stream(
    request: web.Request, *, hub: Hub, heartbeat: float = HEARTBEAT
) -> web.StreamResponse:
    response = web.StreamResponse(headers=headers())
    await response.prepare(request)
    sub = hub.open()
    try:
        await response.write(f"retry: {RETRY_MS}\n\n".encode() + hub.hello())
        beats = 0
        while not hub.closing:
            try:
                await asyncio.wait_for(sub.wake.wait(), timeout=heartbeat)
            except TimeoutError:
                beats += 1
                tick = beats % TICK_EVERY == 0
                await response.write(hub.tick() if tick else comment("heartbeat"))
                continue
            if hub.closing:
                break
            await asyncio.sleep(COALESCE)
            await response.write(hub.change(sub.take()))
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the browser went away, or the server stops
    finally:
        hub.close(sub)
        with contextlib.suppress(Exception):
            await response.write_eof()
    return response
