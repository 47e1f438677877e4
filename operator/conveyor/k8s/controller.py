"""The control loop: feeds the store from watch events and runs the
controllers in rounds.

Watch events only mark things in the work queue; the controllers decide,
one concern each (k8s/controllers/), and k8s/effects.py applies what they
decided. Per round:
  1. progress: advance every marked PipelineJob through the state machine;
  2. admission: one pass per marked namespace (all its Workers at once, so
     counts stay exact), which also writes the Workers' status;
  3. pipelineruns: advance every marked PipelineRun (its children are
     PipelineJobs, advanced and admitted in the rounds that follow);
  4. cronjobs: run every marked PipelineCronJob's schedule.
The watchdog beats beside the rounds. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from conveyor import metrics
from conveyor.core import cron
from conveyor.core.pipeline import naming
from conveyor.k8s import api, clock, listing, rendering, settings, store
from conveyor.k8s.controllers import (
    admission,
    context,
    cronjobs,
    pipelineruns,
    progress,
    renders,
    watchdog,
    workerstatus,
)

Key = store.Key
Settings = settings.Settings

logger = logging.getLogger("conveyor.controller")


class Controller:
    def __init__(
        self,
        *,
        client: api.Client,
        settings: Settings,
        clock: clock.Clock | None = None,
        renderer: rendering.Render | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.clock = clock or _clock(settings)
        # Job templates render in child processes with a deadline (k8s/rendering.py).
        self.renderer = renderer or rendering.Pool(agent_image=settings.agent_image)
        self.ctx = context.build(
            client=client, settings=settings, clock=self.clock, renderer=self.renderer
        )
        self.store, self.books, self.queue = self.ctx.store, self.ctx.books, self.ctx.queue
        self.effects = self.ctx.effects
        self.renders = renders.Renders(ctx=self.ctx)
        self.progress = progress.Progress(ctx=self.ctx, renders=self.renders)
        self.worker_status = workerstatus.WorkerStatus(ctx=self.ctx)
        self.admission = admission.Admission(
            ctx=self.ctx, worker_status=self.worker_status, renders=self.renders
        )
        self.cronjobs = cronjobs.CronJobs(ctx=self.ctx)
        self.pipelineruns = pipelineruns.PipelineRuns(ctx=self.ctx)
        self.watchdog = watchdog.Watchdog(ctx=self.ctx)
        # In the order a round runs them (a new kind's controller: one line here).
        self.controllers: list[context.Reconciler] = [
            self.progress,
            self.admission,
            self.pipelineruns,
            self.cronjobs,
        ]
        self.ready = asyncio.Event()
        self.rounds = 0

    # --- feeding ----------------------------------------------------------------

    def on_pipelinejob(self, event_type: str | None, body: dict[str, Any]) -> None:
        with self.ctx.quarantine.guard("a watch event of", _named(body)):
            self._on_pipelinejob(event_type, store.lean(body))

    def _on_pipelinejob(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        labels = (body.get("metadata") or {}).get("labels") or {}
        run = labels.get(naming.RUN_LABEL)
        if run:  # a step of a PipelineRun: the run has news
            self.queue.run((key[0], run))
        if event_type == "DELETED":
            self.effects.forget_pipelinejob(key)
            return
        parent = labels.get(cron.CRONJOB_LABEL)
        if parent:
            self.queue.cron((key[0], parent))
        if self.store.put_pipelinejob(body):
            self.queue.job(key)

    def on_pipelinerun(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        parent = ((body.get("metadata") or {}).get("labels") or {}).get(cron.CRONJOB_LABEL)
        if parent:
            self.queue.cron((key[0], parent))
        if event_type == "DELETED":
            self.store.drop_pipelinerun(key)
        elif self.store.put_pipelinerun(body):
            self.queue.run(key)
        if event_type != "MODIFIED" or (body.get("status") or {}).get("finishedAt"):
            self._runs_waiting(key[0])  # a run resuming from this one may wait for it

    def on_pipeline(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        if event_type == "DELETED":
            self.store.drop_pipeline(key)
        elif not self.store.put_pipeline(body):
            return
        self._runs_waiting(key[0])

    def _runs_waiting(self, namespace: str) -> None:
        """Mark the runs that have not resolved what they run: they may wait
        for a Pipeline or an earlier run that just appeared."""
        for key in self.store.runs_in(namespace):
            status = self.store.pipelineruns[key].get("status") or {}
            if status.get("pipelineSpec") is None and not status.get("finishedAt"):
                self.queue.run(key)

    def on_cronjob(self, event_type: str | None, body: dict[str, Any]) -> None:
        with self.ctx.quarantine.guard("a watch event of", _named(body)):
            self._on_cronjob(event_type, store.lean(body))

    def _on_cronjob(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        if event_type == "DELETED":
            self.store.drop_cronjob(key)
        elif self.store.put_cronjob(body):
            self.queue.cron(key)

    def on_worker(self, event_type: str | None, body: dict[str, Any]) -> None:
        with self.ctx.quarantine.guard("a watch event of", _named(body)):
            self._on_worker(event_type, store.lean(body))

    def _on_worker(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        if event_type == "DELETED":
            self.store.drop_worker(key)
            self.books.drop_worker(key)
        elif not self.store.put_worker(body):
            return
        self.queue.namespace(key[0])
        # Its jobs judge their stuck pods against the Worker's new spec.
        for job in self.store.active(key[0]):
            if job.status.worker == key[1] and job.status.holds_slot:
                self.queue.job(job.key)

    def on_job(self, event_type: str | None, body: dict[str, Any]) -> None:
        with self.ctx.quarantine.guard("a watch event of", _named(body)):
            self._on_job(event_type, store.lean(body))

    def _on_job(self, event_type: str | None, body: dict[str, Any]) -> None:
        self._on_owned(event_type, body, put=self.store.put_job, drop=self.store.drop_job)

    def on_pod(self, event_type: str | None, body: dict[str, Any]) -> None:
        with self.ctx.quarantine.guard("a watch event of", _named(body)):
            self._on_pod(event_type, store.lean(body))

    def _on_pod(self, event_type: str | None, body: dict[str, Any]) -> None:
        self._on_owned(event_type, body, put=self.store.put_pod, drop=self.store.drop_pod)

    def _on_owned(
        self,
        event_type: str | None,
        body: dict[str, Any],
        *,
        put: Callable[[dict[str, Any]], bool],
        drop: Callable[[Key], None],
    ) -> None:
        """A Job or pod of ours: its PipelineJob has news."""
        if event_type == "DELETED":
            drop(store.key_of(body))
        elif not put(body):
            return
        owner = self.store.owner_of(body)
        if owner is not None:
            self.queue.job(owner)

    # --- running ---------------------------------------------------------------

    async def prime(self) -> None:
        """List everything once, so the first decisions see every slot holder."""
        owned = store.LABEL_PIPELINEJOB
        await listing.list_all(
            client=self.client,
            namespaces=self.settings.namespaces,
            watched=(  # a new kind: one row here
                listing.Watched(resource=api.WORKERS, kind="Worker", feed=self.on_worker),
                listing.Watched(
                    resource=api.JOBS, kind="Job", feed=self.on_job, label_selector=owned
                ),
                listing.Watched(
                    resource=api.PODS, kind="Pod", feed=self.on_pod, label_selector=owned
                ),
                listing.Watched(
                    resource=api.PIPELINEJOBS, kind="PipelineJob", feed=self.on_pipelinejob
                ),
                listing.Watched(resource=api.PIPELINES, kind="Pipeline", feed=self.on_pipeline),
                listing.Watched(
                    resource=api.PIPELINERUNS, kind="PipelineRun", feed=self.on_pipelinerun
                ),
                listing.Watched(
                    resource=api.PIPELINECRONJOBS, kind="PipelineCronJob", feed=self.on_cronjob
                ),
            ),
        )
        for key in self.store.pipelinejobs:
            self.queue.job(key)
        for key in self.store.pipelineruns:
            self.queue.run(key)
        for namespace in self.store.namespaces():
            self.queue.namespace(namespace)

    async def run(self, *, gate: asyncio.Event | None = None) -> None:
        """Decide and act until cancelled; with a `gate` (leader election) only
        once it is set. Until then the store is fed but nothing is written.
        The renderer's children (for Workers' own templates; the built-in
        ones need none, controllers/renders.py) start during a standby's wait,
        so a takeover has them ready, else at the first render that needs
        them: their imports would compete with a cold start's first passes."""
        starting: asyncio.Task[None] | None = None
        if gate is not None:
            starting = asyncio.create_task(self.renderer.start(), name="conveyor-renderer-start")
            await gate.wait()
        delay = 1.0
        while True:
            try:
                await self.prime()
                break
            except api.ApiError as exc:
                # Typically the CRDs are not installed yet: keep trying.
                logger.warning("cannot list the cluster yet (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        self.ready.set()
        listing.release()
        logger.info(
            "primed: %d PipelineJobs, %d Workers",
            len(self.store.pipelinejobs),
            len(self.store.workers),
        )
        heartbeat = asyncio.create_task(self.watchdog.run())
        try:
            while True:
                await self.queue.wait(busy=self.effects.inflight)
                try:
                    self.round()
                except Exception:  # one bad round must not stop the operator
                    logger.exception("a control round failed; retrying")
                    metrics.CONTROLLER_EVENTS.labels("round_errors").inc()
                    await asyncio.sleep(1)
        finally:
            heartbeat.cancel()
            if starting is not None:
                starting.cancel()
            self.effects.cancel()

    async def close(self) -> None:
        """At the operator's cleanup: stop the renderer process."""
        await self.renderer.close()

    def round(self) -> None:
        with metrics.ROUND_SECONDS.time():
            self.rounds += 1
            now = self.clock.now()
            for controller in self.controllers:
                controller.round(now=now)


def _named(body: dict[str, Any]) -> str:
    """An object's kind and key, for a log line (read as the store reads it)."""
    kind = body.get("kind")
    return f"{kind if isinstance(kind, str) else 'object'} {'/'.join(store.key_of(body))}"


def _clock(settings: Settings) -> clock.Clock:
    return clock.Clock(scale=settings.time_scale, anchor=settings.clock_anchor)
