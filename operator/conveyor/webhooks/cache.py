"""A short-lived cache of reads, shared by concurrent deliveries (one request per miss).

A burst of deliveries to one trigger reads the trigger and its Secret once
per `ttl` seconds instead of twice per delivery. The cost: a trigger edited,
deleted or given a new secret takes effect up to `ttl` seconds later. A
failed read is not cached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
TTL = 2.0
MAX_ENTRIES = 1024


class Cache(Generic[T]):
    def __init__(self, *, clock: Callable[[], float], ttl: float = TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[Hashable, tuple[float, asyncio.Future[T]]] = {}

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self._ttl:
            return await asyncio.shield(entry[1])
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: e for k, e in self._entries.items() if now - e[0] < self._ttl}
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._entries[key] = (now, future)
        try:
            future.set_result(await load())
        except BaseException as exc:
            del self._entries[key]
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, the loop does not warn
            raise
        return future.result()
