"""kopf wiring: watch events go into the controller's store; nothing else.

Only level-based `on.event` handlers are used: kopf then keeps no progress
annotations or finalizers on user objects, so GitOps tools see no drift.
Jobs and pods, most of the events, are watched by k8s/watches.py instead
(kopf's per-event path costs ten times the store's update; see
docs/performance.md): `own_streams` lists them, one row each.
They are `async def` because kopf runs plain functions in a thread pool, and
the store and the control loop's dirty sets are not thread-safe.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

import kopf

from conveyor import API_GROUP, API_VERSION
from conveyor.k8s import (
    api,
    controller,
    decoding,
    leader,
    listing,
    login,
    store,
    transient,
    watches,
)

# Before any watch starts: one deeply nested object must not stop the operator.
decoding.install()

logger = logging.getLogger("conveyor.operator")

WATCH_BACKOFFS = (0.5, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0)


def _controller(memo: kopf.Memo) -> controller.Controller:
    ctl: controller.Controller = memo["controller"]
    return ctl


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.posting.enabled = False  # Events are ours (k8s/events.py), not kopf's log copies
    settings.watching.server_timeout = 300  # re-list periodically: watches can go quiet
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 60
    # kopf's default retry delays (1, 1, 2, 3, 5, 8, 13, 21 s) left the watches
    # up to 21 s behind an API server that was back. After the last delay a
    # watch starts again from a fresh list, so no attempt waits over 2 s.
    settings.networking.error_backoffs = WATCH_BACKOFFS
    settings.watching.connect_timeout = 5  # a stopped API server accepts, then never answers
    # kopf's first lists in pages, as the controller's own (k8s/listing.py).
    # Its idle per-object workers keep kopf's 5 s: with 0.5 s, one CI run saw a
    # new namespace's PipelineRun only when the namespace was deleted, as if
    # the namespace's ADDED event had been lost (suspected: kopf's idle-worker
    # exit, which its own comments call racy and untested).
    settings.watching.chunk_size = listing.PAGE
    # kopf logs each retried attempt at ERROR: one line per interval instead.
    for handler in logging.getLogger().handlers:
        handler.addFilter(transient.KopfRetries(tally=transient.Tally(logger=logger)))
    settings.persistence.diffbase_storage = _NoDiffBase()
    settings.persistence.progress_storage = _NoProgress()
    ctl_settings: controller.Settings = memo.get("settings") or controller.Settings()
    names = ctl_settings.namespaces
    if names and not any(ch in n for n in names for ch in "*?[!"):
        # Exact namespaces: nothing to discover, so no cluster-wide rights needed.
        settings.scanning.disabled = True
    source = memo.get("login") or login.Source()  # shared with kopf's login
    gate = None
    may_write = None
    election: leader.Config | None = memo.get("leader_election")
    if election is not None:
        # Its own session: renewals never queue behind the controller's writes.
        elector = leader.Elector(client=api.Client(login=source), config=election)
        memo["elector"] = elector
        gate, may_write = elector.leading, elector.may_act
    # With leader election every write is checked against the renew deadline
    # just before it is sent (see leader.py).
    client = api.Client(login=source, may_write=may_write)
    ctl = controller.Controller(client=client, settings=ctl_settings)
    memo["client"] = client
    memo["controller"] = ctl
    if election is not None:
        memo["elector_task"] = asyncio.create_task(elector.run(on_lost=_stop_acting(memo)))
    task = asyncio.create_task(ctl.run(gate=gate), name="conveyor-controller")
    task.add_done_callback(_report_stop)
    memo["task"] = task
    _start_streams(memo, ctl=ctl, source=source)


def own_streams(ctl: controller.Controller) -> tuple[listing.Watched, ...]:
    """The kinds watched by k8s/watches.py rather than kopf: one row each.
    Only Conveyor's own Jobs and pods, filtered by the API server."""
    owned = store.LABEL_PIPELINEJOB
    return (
        listing.Watched(resource=api.JOBS, kind="Job", feed=ctl.on_job, label_selector=owned),
        listing.Watched(resource=api.PODS, kind="Pod", feed=ctl.on_pod, label_selector=owned),
    )


def _start_streams(memo: kopf.Memo, *, ctl: controller.Controller, source: login.Source) -> None:
    # Their own session: long-lived watches hold no connection the writes need.
    client = api.Client(login=source)
    memo["stream_client"] = client
    memo["streams"] = [
        asyncio.create_task(
            watches.run(client=client, watched=w, namespaces=ctl.settings.namespaces),
            name=f"conveyor-watch-{w.resource.plural}",
        )
        for w in own_streams(ctl)
    ]
    for stream in memo["streams"]:
        stream.add_done_callback(_report_stop)


class _NoDiffBase(kopf.DiffBaseStorage):
    """kopf keeps a diff base for change handlers; with only on.event handlers
    it is unused, and building it deep-copies every watched body twice."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        pass


class _NoProgress(kopf.ProgressStorage):
    """kopf records handlers' progress for change handlers only; `on.event`
    handlers are never retried, and clearing the (empty) essence per event
    cost about a tenth of kopf's per-event work."""

    def fetch(self, *, key: kopf.HandlerId, body: kopf.Body) -> None:
        return None

    def store(
        self, *, key: kopf.HandlerId, record: Any, body: kopf.Body, patch: kopf.Patch
    ) -> None:
        pass

    def purge(self, *, key: kopf.HandlerId, body: kopf.Body, patch: kopf.Patch) -> None:
        pass

    def touch(self, *, body: kopf.Body, patch: kopf.Patch, value: str | None) -> None:
        pass

    def clear(self, *, essence: kopf.BodyEssence) -> kopf.BodyEssence:
        return essence


EXIT_GRACE = 5.0  # seconds a deposed leader gets to shut down before it is ended


def _stop_acting(memo: kopf.Memo) -> Callable[[], None]:
    """On a lost lease: stop deciding at once, then stop the process, within
    EXIT_GRACE seconds even if a graceful shutdown hangs."""

    def stop() -> None:
        memo["task"].cancel()
        watchdog = threading.Timer(EXIT_GRACE, _exit_now)
        watchdog.daemon = True
        watchdog.start()
        os.kill(os.getpid(), signal.SIGTERM)

    return stop


def _exit_now() -> None:
    logger.error("lost the lease and did not stop within %.0fs; exiting", EXIT_GRACE)
    logging.shutdown()
    os._exit(1)


def _report_stop(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s stopped", task.get_name(), exc_info=task.exception())


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    # Stop acting first, then give the Lease up, so a standby starts at once.
    await _cancel(memo.get("task"))
    for stream in memo.get("streams") or ():
        await _cancel(stream)
    elector: leader.Elector | None = memo.get("elector")
    if elector is not None:
        await elector.release()
        await _cancel(memo.get("elector_task"))
        await elector.client.close()
    ctl: controller.Controller | None = memo.get("controller")
    if ctl is not None:
        await ctl.close()  # the renderer process
    for name in ("client", "stream_client"):
        client: api.Client | None = memo.get(name)
        if client is not None:
            await client.close()


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@kopf.on.probe(id="controller")
def controller_ready(memo: kopf.Memo, **_: Any) -> dict[str, Any]:
    ctl = _controller(memo)
    task: asyncio.Task[None] = memo["task"]
    if task.done():
        raise kopf.PermanentError("the control loop stopped")
    if any(stream.done() for stream in memo.get("streams") or ()):
        raise kopf.PermanentError("a watch stream stopped")
    return {"ready": ctl.ready.is_set(), "rounds": ctl.rounds}


@kopf.on.event(API_GROUP, API_VERSION, "pipelinejobs")
async def pipelinejob_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_pipelinejob(event.get("type"), dict(event["object"]))


@kopf.on.event(API_GROUP, API_VERSION, "pipelinecronjobs")
async def cronjob_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_cronjob(event.get("type"), dict(event["object"]))


@kopf.on.event(API_GROUP, API_VERSION, "pipelineruns")
async def pipelinerun_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_pipelinerun(event.get("type"), dict(event["object"]))


@kopf.on.event(API_GROUP, API_VERSION, "pipelines")
async def pipeline_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_pipeline(event.get("type"), dict(event["object"]))


@kopf.on.event(API_GROUP, API_VERSION, "workers")
async def worker_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_worker(event.get("type"), dict(event["object"]))
