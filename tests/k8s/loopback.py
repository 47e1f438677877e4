"""An aiohttp application served on the loopback for a test: the fake API
servers and proxies of the shell's unit tests."""

from __future__ import annotations

import collections.abc
import contextlib

from aiohttp import web


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> collections.abc.AsyncIterator[str]:
    """`app` on a free loopback port; yields its base URL, stops it after."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
