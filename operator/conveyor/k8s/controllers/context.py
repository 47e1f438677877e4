"""What every controller shares: the store's view, the bookkeeping, the
work queue, the effects and the clock. Built once by k8s/controller.py."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Protocol

from conveyor.core import health, model, observe
from conveyor.k8s import (
    api,
    books,
    clock,
    effects,
    quarantine,
    rendering,
    settings,
    store,
    workqueue,
)

Key = store.Key


class Reconciler(Protocol):
    """A controller run by the loop: in each round it takes its marks from
    the work queue and decides on them."""

    def round(self, *, now: datetime.datetime) -> None: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    store: store.Store
    books: books.Books
    queue: workqueue.WorkQueue
    effects: effects.Effects
    clock: clock.Clock
    settings: settings.Settings
    renderer: rendering.Render
    quarantine: quarantine.Quarantine

    def at(self, when: datetime.datetime, kind: workqueue.Kind, target: Key | str) -> None:
        """Look at `target` again at `when` on the operator's (maybe scaled) clock."""
        self.queue.later(self.clock.real_seconds(when - self.clock.now()), kind, target)

    def busy(self, key: Key) -> bool:
        """A write for `key` is in flight: decide again when it returns."""
        return key in self.effects.inflight

    def observe(self, job: model.PipelineJob) -> observe.Observation | None:
        """What the job's current Job and pods say, if it has a Job."""
        if not job.status.job:
            return None
        job_key = (job.meta.namespace, job.status.job)
        try:
            seen = observe.summarize(
                job=self.store.jobs.get(job_key), pods=self.store.pods_of_job(job_key)
            )
        except Exception:  # a Job or pod in a shape we cannot read: as if unseen
            self.quarantine.report("reading the Job and pods of", "/".join(job_key))
            return None
        return health.failed_create(obs=seen, message=self.store.failed_create.get(job_key))


def build(
    *,
    client: api.Client,
    settings: settings.Settings,
    clock: clock.Clock,
    renderer: rendering.Render,
) -> Context:
    """A fresh, empty view of the cluster and the effects that write to it."""
    st, bk = store.Store(), books.Books()
    queue = workqueue.WorkQueue(monotonic=clock.monotonic)
    guard = quarantine.Quarantine(monotonic=clock.monotonic)
    fx = effects.Effects(
        quarantine=guard,
        client=client,
        store=st,
        books=bk,
        queue=queue,
        clock=clock,
        max_inflight=settings.max_inflight_writes,
    )
    return Context(
        store=st,
        books=bk,
        queue=queue,
        effects=fx,
        clock=clock,
        settings=settings,
        renderer=renderer,
        quarantine=guard,
    )
