"""A job's Job rendered off the event loop, before anything is decided on it.

A Worker's jobTemplate is code and may run for seconds (k8s/rendering.py
bounds it with a deadline in a child process). So admission and progress
never render in a pass: they ask `ready`, which gives the manifest (or why
there is none) if it was rendered from this very job spec, Worker spec and
attempt; otherwise it starts the render in the background and answers None.
The job then counts as busy (a write in flight), so no pass decides on it
and its place in the queue is kept; when the render returns the job is
marked and decided anew with the result at hand. Nothing is decided after a
slot is assumed: a Job that cannot be rendered never takes one.

The built-in templates are not a Worker's code: they are ours, bounded by
their input (which the CRD bounds) and render in about a millisecond, so a
Worker without a jobTemplate renders in the pass itself. A trip through the
child would cost a second pass per job and serialise the Worker's admissions
behind one render at a time (a cold start with 100 free slots waited for
100 round trips).
"""

from __future__ import annotations

import logging
from typing import Any

from conveyor import metrics
from conveyor.core import model, render
from conveyor.k8s import jobs, store
from conveyor.k8s.controllers import context

Key = store.Key
Rendered = dict[str, Any] | model.SpecError
RETRY_AFTER = 5.0  # seconds, when no renderer process can start

logger = logging.getLogger("conveyor.controller")


def fingerprint(*, job: model.PipelineJob, worker: model.Worker, attempt: int) -> tuple[Any, ...]:
    """What a rendered Job depends on: a render is reused only for the same."""
    return (
        job.meta.uid,
        job.meta.generation,
        attempt,
        worker.meta.name,
        worker.meta.uid,
        worker.meta.generation,
    )


def trusted(worker: model.Worker) -> bool:
    """Whether `worker`'s Jobs come from the built-in templates only."""
    return worker.spec is not None and worker.spec.job_template is None


class Renders:
    def __init__(self, *, ctx: context.Context) -> None:
        self.ctx = ctx

    def ready(
        self, *, job: model.PipelineJob, worker: model.Worker, attempt: int
    ) -> Rendered | None:
        """The Job for `attempt`, owned by `job`, or why there is none; None
        while it renders (the job is looked at again when it is done)."""
        if trusted(worker):
            inline = render.attempt_manifest(
                job=job, worker=worker, attempt=attempt, agent_image=self.ctx.settings.agent_image
            )
            return jobs.with_owner(job=job, body=inline)
        book = self.ctx.books.job(job.key)
        wanted = fingerprint(job=job, worker=worker, attempt=attempt)
        if book.rendered is not None and book.rendered[0] == wanted:
            result, book.rendered = book.rendered[1], None  # used once
            return jobs.with_owner(job=job, body=result)
        job_body = self.ctx.store.pipelinejob_bodies.get(job.key)
        worker_body = self.ctx.store.worker_bodies.get(worker.meta.key)
        if job_body is None or worker_body is None:
            return None  # gone: its DELETED event is on the way
        worker_book = self.ctx.books.worker(worker.meta.key)
        if worker_book.rendering:
            worker_book.render_waiters.add(job.key)
            return None
        worker_book.rendering = True
        self.ctx.effects.spawn(
            job.key,
            self._render(
                job.key,
                worker=worker.meta.key,
                wanted=wanted,
                job_body=job_body,
                worker_body=worker_body,
                attempt=attempt,
            ),
            gated=False,  # one per Worker at a time; a queue of status writes must not stall it
        )
        return None

    def behind_another(self, *, key: Key, worker: model.Worker) -> bool:
        """True, and `key` waits for it, when `ready` could only answer None
        because the Worker is rendering another job's Job: asked first, it
        spares the pass building an admission for each free slot's job while
        a render runs (about a third of the drain's control rounds)."""
        book = self.ctx.books.peek(key)
        if book is not None and book.rendered is not None:
            return False  # `ready` decides: it may be this job's result
        worker_book = self.ctx.books.worker(worker.meta.key)
        if not worker_book.rendering:
            return False
        worker_book.render_waiters.add(key)
        return True

    async def _render(
        self,
        key: Key,
        *,
        worker: Key,
        wanted: tuple[Any, ...],
        job_body: dict[str, Any],
        worker_body: dict[str, Any],
        attempt: int,
    ) -> None:
        try:
            result = await self.ctx.renderer.render(
                job_body=job_body, worker_body=worker_body, attempt=attempt
            )
        except RuntimeError as exc:  # no renderer process: not the object's fault
            logger.warning("cannot render the Job of %s/%s yet: %s", *key, exc)
            metrics.CONTROLLER_EVENTS.labels("render_errors").inc()
            self.ctx.queue.later(RETRY_AFTER, "job", key)
            return
        finally:
            self._done(worker)
        book = self.ctx.books.peek(key)
        if book is None:
            return  # the job was deleted while it rendered
        book.rendered = (wanted, result)
        self.ctx.queue.job(key)

    def _done(self, worker: Key) -> None:
        if worker not in self.ctx.store.workers:
            return  # deleted meanwhile: its record went with it
        book = self.ctx.books.worker(worker)
        book.rendering = False
        waiters, book.render_waiters = book.render_waiters, set()
        for key in waiters:
            self.ctx.queue.job(key)
