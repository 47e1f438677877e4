"""PipelineJob progress: moves each marked PipelineJob through the state
machine (core/lifecycle.py) and adopts the Job of an admission whose status
write never happened. Waiting for a slot is the admission controller's."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from conveyor import metrics
from conveyor.core import health, lifecycle, model, writes
from conveyor.k8s import store
from conveyor.k8s.controllers import context, renders

Key = store.Key

logger = logging.getLogger("conveyor.controller")
EVENTS_EVERY = 30.0  # seconds between two reads of one pod-less Job's Events


class Progress:
    def __init__(self, *, ctx: context.Context, renders: renders.Renders) -> None:
        self.ctx = ctx
        self.renders = renders

    def round(self, *, now: datetime.datetime) -> None:
        for key in self.ctx.queue.take_jobs(busy=self.ctx.effects.inflight):
            retry = self._retry(key)
            with self.ctx.quarantine.guard("advancing", "/".join(key), retry=retry):
                self.advance(key, now=now)

    def _retry(self, key: Key) -> Callable[[float], None]:
        return lambda seconds: self.ctx.queue.later(seconds, "job", key)

    def advance(self, key: Key, *, now: datetime.datetime) -> None:
        ctx = self.ctx
        job = ctx.store.pipelinejobs.get(key)
        if job is None:
            return
        job = self._adopt(job, now=now)
        self._why_no_pod(job, now=now)
        worker = ctx.store.workers.get((key[0], job.status.worker or ""))
        observation = ctx.observe(job)
        try:
            step = lifecycle.advance(
                job=job,
                observation=observation,
                now=now,
                worker_generation=worker.meta.generation if worker else None,
            )
        except Exception:  # never let one object stop the loop
            logger.exception("advancing %s/%s failed", *key)
            metrics.CONTROLLER_EVENTS.labels("advance_errors").inc()
            return
        if step.wake_at is not None:
            ctx.at(step.wake_at, "job", key)
        if step.wants_admission:
            ctx.books.want(key, step)
            ctx.queue.namespace(key[0])
            return
        ctx.books.drop_want(key)
        book = ctx.books.peek(key)
        due = book.write_due if book else None
        if not writes.write_now(
            job=job,
            step=step,
            write_due=due,
            monotonic=ctx.clock.monotonic(),
            waiting_reason=observation.waiting_reason if observation else None,
        ):
            return
        rendering, rendered = self._rendered(job, step=step)
        if rendering:
            return  # looked at again when its Job is rendered
        if book is not None:
            book.write_due = None
        step, manifest = self._start(job, step=step, rendered=rendered, now=now)
        if job.status.holds_slot and not step.status.holds_slot:
            # Assume, then write: the slot is free for the next pass already.
            ctx.effects.assume(job=job, new=step.status, now=now)
        ctx.effects.spawn(key, ctx.effects.apply(job=job, step=step, manifest=manifest))

    def _rendered(
        self, job: model.PipelineJob, *, step: lifecycle.Step
    ) -> tuple[bool, renders.Rendered | None]:
        """(still rendering, the Job a step creates), rendered off the loop
        before anything is written; no Job when the step creates none or its
        Worker is gone."""
        if not step.create_job or job.spec is None or not step.status.worker:
            return False, None
        worker = self.ctx.store.workers.get((job.meta.namespace, step.status.worker))
        if worker is None:
            return False, None
        started = dataclasses.replace(job, status=step.status)
        rendered = self.renders.ready(job=started, worker=worker, attempt=step.status.attempt)
        return rendered is None, rendered

    def _start(
        self,
        job: model.PipelineJob,
        *,
        step: lifecycle.Step,
        rendered: renders.Rendered | None,
        now: datetime.datetime,
    ) -> tuple[lifecycle.Step, dict[str, Any] | None]:
        """The step with its Job; or the step it becomes when there can be
        none (see writes.start)."""
        if not step.create_job or job.spec is None or not step.status.worker:
            return step, None
        worker = self.ctx.store.workers.get((job.meta.namespace, step.status.worker))
        step = writes.start(
            job=job, step=step, worker_found=worker is not None, rendered=rendered, now=now
        )
        manifest = rendered if isinstance(rendered, dict) and step.create_job else None
        return step, manifest

    def _why_no_pod(self, job: model.PipelineJob, *, now: datetime.datetime) -> None:
        """A Job past its grace without a pod: read its Events for a FailedCreate
        (at most every EVENTS_EVERY), else come back when the grace is over."""
        ctx = self.ctx
        if not job.status.holds_slot or not job.status.job:
            return
        job_key = (job.meta.namespace, job.status.job)
        body = ctx.store.jobs.get(job_key)
        obs = ctx.observe(job)
        if body is None or obs is None or job_key in ctx.store.failed_create:
            return
        created = model.parse_time((body.get("metadata") or {}).get("creationTimestamp"))
        if not health.needs_events(obs=obs, job_created=created, now=now):
            if created is not None and obs.pod is None:
                ctx.at(created + health.FAILED_CREATE_GRACE, "job", job.key)
            return
        book = ctx.books.job(job.key)
        mono = ctx.clock.monotonic()
        if book.events_read is not None and mono - book.events_read < EVENTS_EVERY:
            return
        book.events_read = mono
        ctx.queue.later(EVENTS_EVERY, "job", job.key)
        ctx.effects.spawn(job.key, ctx.effects.read_failed_create(job.key, job_name=job_key[1]))

    def _adopt(self, job: model.PipelineJob, *, now: datetime.datetime) -> model.PipelineJob:
        """Record the Job of an admission whose status write never happened
        (the operator stopped between the two): it holds a slot."""
        ctx = self.ctx
        name = lifecycle.unrecorded_job(job)
        found = ctx.store.jobs.get((job.meta.namespace, name)) if name else None
        if found is None or not _owned_by(found, uid=job.meta.uid):
            return job
        labels = (found.get("metadata") or {}).get("labels") or {}
        worker_name = labels.get(store.LABEL_WORKER) or job.status.worker or ""
        worker = ctx.store.workers.get((job.meta.namespace, worker_name))
        step = lifecycle.admit(
            job=job,
            worker=worker_name,
            now=now,
            worker_generation=worker.meta.generation if worker else None,
        )
        logger.info("%s/%s: adopting Job %s", job.meta.namespace, job.meta.name, name)
        metrics.CONTROLLER_EVENTS.labels("adopted").inc()
        ctx.books.admitted(job.key, write_due=0.0)
        ctx.effects.assume(job=job, new=step.status, now=now)
        return ctx.store.pipelinejobs[job.key]


def _owned_by(body: Mapping[str, Any], *, uid: str | None) -> bool:
    refs = (body.get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("uid") == uid for ref in refs)
