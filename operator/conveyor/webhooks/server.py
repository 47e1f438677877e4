"""The receiver's HTTP server: POST /hooks/<namespace>/<trigger>, GET /healthz.

aiohttp refuses a body over `max_body` (client_max_size) while reading it;
a Content-Length over it is refused before reading. Status counts are
written in the background and once more on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import signal

from aiohttp import web

from conveyor.k8s import api
from conveyor.webhooks import cluster, receiver, tallies

log = logging.getLogger("conveyor.webhooks")
USER_AGENT = "conveyor-webhooks"
DEFAULT_MAX_BODY = 5 * 1024 * 1024
_RECEIVER = web.AppKey("receiver", receiver.Receiver)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def app(*, receiver: receiver.Receiver, max_body: int) -> web.Application:
    application = web.Application(client_max_size=max_body)
    application[_RECEIVER] = receiver
    application.router.add_post("/hooks/{namespace}/{name}", _hook)
    application.router.add_get("/healthz", _healthz)
    return application


async def _hook(request: web.Request) -> web.Response:
    async def read() -> bytes:
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise receiver.TooLarge from None

    seen = receiver.Request(
        headers=request.headers,
        content_type=request.content_type,
        content_length=request.content_length,
        read=read,
    )
    answer = await request.app[_RECEIVER].deliver(
        namespace=request.match_info["namespace"], name=request.match_info["name"], request=seen
    )
    return web.json_response(answer.to_dict(), status=answer.status)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def serve(
    *, client: api.Client, address: str, port: int, max_body: int = DEFAULT_MAX_BODY
) -> None:
    """Serve until SIGTERM or SIGINT; write the pending status counts, then return."""
    where = cluster.Cluster(client=client)
    counts = tallies.Tallies(cluster=where, clock=_now)
    hooks = receiver.Receiver(cluster=where, tallies=counts, clock=_now, max_body=max_body)
    runner = web.AppRunner(app(receiver=hooks, max_body=max_body), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host=address, port=port).start()
    log.info("receiving webhooks on http://%s:%d/hooks/<namespace>/<trigger>", address, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    writer = asyncio.create_task(counts.run())
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # finishes the deliveries in flight
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await counts.flush()
