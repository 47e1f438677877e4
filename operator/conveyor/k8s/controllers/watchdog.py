"""The watchdog: a heartbeat that has every namespace's admission pass run
again (Worker health is judged on time passing, not only on events),
reports jobs stuck waiting beside a free slot, and resyncs every object now
and then as a safety net under the watches."""

from __future__ import annotations

import asyncio
import collections
import logging

from conveyor import metrics
from conveyor.core import lifecycle, stuck, workers
from conveyor.k8s.controllers import context

logger = logging.getLogger("conveyor.controller")


class Watchdog:
    def __init__(self, *, ctx: context.Context) -> None:
        self.ctx = ctx
        self._last_resync = ctx.clock.monotonic()

    async def run(self) -> None:
        interval = self.ctx.clock.real_seconds(workers.HEARTBEAT_INTERVAL)
        self._last_resync = self.ctx.clock.monotonic()
        while True:
            await asyncio.sleep(interval)
            self.beat()

    def beat(self) -> None:
        ctx = self.ctx
        for namespace in {k[0] for k in ctx.store.workers}:
            ctx.queue.namespace(namespace)
            self.check_stuck(namespace)
        if ctx.clock.monotonic() - self._last_resync >= ctx.settings.resync_interval:
            self._last_resync = ctx.clock.monotonic()
            for key in ctx.store.pipelinejobs:
                ctx.queue.job(key)
            for key in ctx.store.cronjobs:
                ctx.queue.cron(key)

    def check_stuck(self, namespace: str) -> None:
        """Report jobs that wait while their Worker has a free slot."""
        ctx = self.ctx
        active = list(ctx.store.active(namespace))
        running: dict[str, int] = collections.Counter(
            j.status.worker for j in active if j.status.holds_slot and j.status.worker
        )
        ns_workers = {w.meta.name: w for w in ctx.store.workers_in(namespace)}
        found = stuck.find(jobs=active, workers=ns_workers, running=running, now=ctx.clock.now())
        per_worker = collections.Counter(j.status.worker or "" for j in found)
        for name in ns_workers:
            metrics.STUCK_JOBS.labels(namespace, name).set(per_worker.get(name, 0))
        for job in found:
            book = ctx.books.job(job.key)
            if book.reported_stuck:
                continue
            book.reported_stuck = True
            message = (
                f"waiting since {job.status.queued_at} although Worker {job.status.worker} "
                "has a free slot; this is an operator fault, please report it"
            )
            logger.warning("%s/%s stuck: %s", namespace, job.meta.name, message)
            event = lifecycle.Event(type="Warning", reason="Stuck", message=message)
            ctx.effects.post(job.key, (event,))
            ctx.queue.job(job.key)
