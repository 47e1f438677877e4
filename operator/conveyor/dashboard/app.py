"""Running the dashboard: the watchers and the web server in one process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

from aiohttp import web

from conveyor.dashboard import server, sse, watch
from conveyor.dashboard import store as store_
from conveyor.k8s import api

if TYPE_CHECKING:
    from conveyor.archive import recorder as recorder_

USER_AGENT = "conveyor-dashboard"


async def serve(
    *,
    client: api.Client,
    address: str,
    port: int,
    namespace: str | None,
    ready: asyncio.Event | None = None,
    recorder: recorder_.Recorder | None = None,
) -> None:
    """Until SIGINT or SIGTERM. `namespace` None: all namespaces. With a
    `recorder`, the watches feed the archive and the history page reads it."""
    store = store_.Store(kinds=watch.KIND_NAMES)
    archive = recorder.archive if recorder is not None else None
    app = server.make_app(store=store, client=client, scope=namespace or "", archive=archive)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, host=address, port=port)
    tasks = [
        asyncio.create_task(w.run())
        for w in watch.watchers(client=client, store=store, namespace=namespace, recorder=recorder)
    ]
    if recorder is not None:
        tasks.append(asyncio.create_task(recorder.run()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await site.start()
        host = f"[{address}]" if ":" in address else address
        print(f"Conveyor dashboard: http://{host}:{port}/", flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        app[server.HUB].shutdown()
        await asyncio.sleep(sse.COALESCE)  # let the streams write their end
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        if recorder is not None:
            await recorder.flush()  # a clean stop loses nothing queued
        await runner.cleanup()
