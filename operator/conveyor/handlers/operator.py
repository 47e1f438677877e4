"""kopf wiring: watch events go into the controller's store; nothing else.

Only level-based `on.event` handlers are used: kopf then keeps no progress
annotations or finalizers on user objects, so GitOps tools see no drift.
They are `async def` because kopf runs plain functions in a thread pool, and
the store and the control loop's dirty sets are not thread-safe.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Iterable
from typing import Any

import kopf

from conveyor import API_GROUP, API_VERSION
from conveyor.k8s import api, controller, decoding, leader, login, store

# Before any watch starts: one deeply nested object must not stop the operator.
decoding.install()

logger = logging.getLogger("conveyor.operator")

OWNED = {store.LABEL_PIPELINEJOB: kopf.PRESENT}


def _controller(memo: kopf.Memo) -> controller.Controller:
    ctl: controller.Controller = memo["controller"]
    return ctl


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.posting.enabled = False  # Events are ours (k8s/events.py), not kopf's log copies
    settings.watching.server_timeout = 300  # re-list periodically: watches can go quiet
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 60
    settings.persistence.diffbase_storage = _NoDiffBase()
    # Only Conveyor's own Jobs and pods are watched, filtered by the API server.
    for group_plural in (("batch", "jobs"), ("", "pods")):
        settings.watching.label_selectors[group_plural] = store.LABEL_PIPELINEJOB
    ctl_settings: controller.Settings = memo.get("settings") or controller.Settings()
    names = ctl_settings.namespaces
    if names and not any(ch in n for n in names for ch in "*?[!"):
        # Exact namespaces: nothing to discover, so no cluster-wide rights needed.
        settings.scanning.disabled = True
    client = api.Client(login=memo.get("login") or login.Source())  # shared with kopf's login
    ctl = controller.Controller(client=client, settings=ctl_settings)
    memo["client"] = client
    memo["controller"] = ctl
    gate = None
    election: leader.Config | None = memo.get("leader_election")
    if election is not None:
        elector = leader.Elector(client=client, config=election)
        gate = elector.leading
        memo["elector"] = asyncio.create_task(elector.run(on_lost=_stop_acting(memo)))
    task = asyncio.create_task(ctl.run(gate=gate), name="conveyor-controller")
    task.add_done_callback(_report_stop)
    memo["task"] = task


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


def _stop_acting(memo: kopf.Memo) -> Callable[[], None]:
    """On a lost lease: stop deciding at once, then stop the process."""

    def stop() -> None:
        memo["task"].cancel()
        os.kill(os.getpid(), signal.SIGTERM)

    return stop


def _report_stop(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the control loop stopped", exc_info=task.exception())


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    for name in ("task", "elector"):
        task: asyncio.Task[None] | None = memo.get(name)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    client: api.Client | None = memo.get("client")
    if client is not None:
        await client.close()


@kopf.on.probe(id="controller")
def controller_ready(memo: kopf.Memo, **_: Any) -> dict[str, Any]:
    ctl = _controller(memo)
    task: asyncio.Task[None] = memo["task"]
    if task.done():
        raise kopf.PermanentError("the control loop stopped")
    return {"ready": ctl.ready.is_set(), "rounds": ctl.rounds}


@kopf.on.event(API_GROUP, API_VERSION, "pipelinejobs")
async def pipelinejob_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_pipelinejob(event.get("type"), dict(event["object"]))


@kopf.on.event(API_GROUP, API_VERSION, "pipelinecronjobs")
async def cronjob_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_cronjob(event.get("type"), dict(event["object"]))


@kopf.on.event(API_GROUP, API_VERSION, "workers")
async def worker_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_worker(event.get("type"), dict(event["object"]))


@kopf.on.event("batch", "v1", "jobs", labels=OWNED)
async def job_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_job(event.get("type"), dict(event["object"]))


@kopf.on.event("", "v1", "pods", labels=OWNED)
async def pod_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    _controller(memo).on_pod(event.get("type"), dict(event["object"]))
