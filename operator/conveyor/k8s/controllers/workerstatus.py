"""Worker status: the counts, state and conditions of each Worker after an
admission pass (core/workers.py decides), written at most once in 5 s
when only the counts change (writes.worker_write_in)."""

from __future__ import annotations

import datetime

from conveyor import metrics
from conveyor.core import health, model, status, workers, writes
from conveyor.k8s.controllers import context


class WorkerStatus:
    def __init__(self, *, ctx: context.Context) -> None:
        self.ctx = ctx

    def write(
        self,
        worker: model.Worker,
        *,
        running: int,
        queued: int,
        now: datetime.datetime,
        judged: health.Health,
    ) -> None:
        ctx = self.ctx
        key = worker.key
        previous = (ctx.store.worker_bodies.get(key) or {}).get("status") or {}
        new = workers.status(
            worker=worker, running=running, queued=queued, now=now, previous=previous, health=judged
        )
        metrics.set_worker(
            namespace=key[0],
            worker=key[1],
            concurrency=worker.spec.concurrency if worker.spec else 0,
            running=running,
            queued=queued,
            state=str(new["state"]),
        )
        patch = status.merge_patch(old=previous, new=new)
        if not patch:
            return
        since = ctx.clock.monotonic() - ctx.books.worker(key).written
        wait = writes.worker_write_in(patch_fields=set(patch), since_written=since)
        if wait > 0:
            ctx.at(now + datetime.timedelta(seconds=wait), "namespace", key[0])
            return
        ctx.effects.write_worker_status(key, new=new, patch=patch)
