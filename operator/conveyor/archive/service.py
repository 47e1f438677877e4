"""The recorder with its own watches, until told to stop: what `conveyor
archive` runs (the dashboard server runs the recorder from its watches)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from conveyor.archive import recorder as recorder_
from conveyor.archive import url, watch
from conveyor.k8s import api

log = logging.getLogger("conveyor.archive")


async def serve(*, client: api.Client, recorder: recorder_.Recorder, namespace: str | None) -> None:
    """Watch, record and maintain until SIGTERM or SIGINT; then write what is queued."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(
            watch.follow(client=client, recorder=recorder, kind=kind, namespace=namespace)
        )
        for kind in watch.RESOURCES
    ]
    tasks.append(asyncio.create_task(recorder.run()))
    log.info("archive: recording into %s", url.display(recorder.archive.url))
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await recorder.flush()  # a clean stop loses nothing queued
        log.info("archive: stopped")
