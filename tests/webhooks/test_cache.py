"""The read cache: one request per miss, however many wait; expiry; failures not kept."""

from __future__ import annotations

import asyncio

import pytest

from conveyor.webhooks import cache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_misses_share_one_read_until_the_ttl() -> None:
    clock, reads = Clock(), []

    async def load() -> str:
        reads.append(1)
        await asyncio.sleep(0.01)
        return f"v{len(reads)}"

    c: cache.Cache[str] = cache.Cache(clock=clock, ttl=2.0)
    assert await asyncio.gather(*(c.get("k", load) for _ in range(20))) == ["v1"] * 20
    clock.now += 1.9
    assert await c.get("k", load) == "v1"
    clock.now += 0.2
    assert await c.get("k", load) == "v2"
    assert len(reads) == 2


async def test_a_failed_read_is_not_kept() -> None:
    calls = []

    async def load() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("API down")
        return "ok"

    c: cache.Cache[str] = cache.Cache(clock=Clock())
    with pytest.raises(RuntimeError):
        await c.get("k", load)
    assert await c.get("k", load) == "ok"
