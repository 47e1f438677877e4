"""Admission: one pass per namespace gives free slots to waiting jobs
(core/scheduling.py decides, over all Workers of the namespace at once so
counts stay exact) and tells the others why they wait.

An admitted job's Job is rendered before its slot is assumed, off the loop
(controllers/renders.py: the first pass that admits it starts the render,
the pass after it returns assumes the slot), so nothing is decided after
the slot is taken: a spec that cannot be rendered fails and takes no slot.
The status write waits up to writes.STATUS_BATCH seconds so a pod that
starts quickly costs one write (one that reports trouble is written at once).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

from conveyor.core import health, lifecycle, model, scheduling, writes
from conveyor.k8s import store, transitions
from conveyor.k8s.controllers import context, renders, workerstatus

Key = store.Key
Resolved = model.Worker | scheduling.Waiting


class Admission:
    def __init__(
        self,
        *,
        ctx: context.Context,
        worker_status: workerstatus.WorkerStatus,
        renders: renders.Renders,
    ) -> None:
        self.ctx = ctx
        self.worker_status = worker_status
        self.renders = renders

    def round(self, *, now: datetime.datetime) -> None:
        for namespace in self.ctx.queue.take_namespaces():
            with self.ctx.quarantine.guard(
                "the admission pass over", namespace, retry=self._retry(namespace)
            ):
                self.paced(namespace, now=now)

    def _retry_job(self, key: Key) -> Callable[[float], None]:
        return lambda seconds: self.ctx.queue.later(seconds, "job", key)

    def _retry(self, namespace: str) -> Callable[[float], None]:
        return lambda seconds: self.ctx.queue.later(seconds, "namespace", namespace)

    def paced(self, namespace: str, *, now: datetime.datetime) -> None:
        """A pass, or a later one: a pass over a long queue takes
        milliseconds, and one after every slot change would keep a core busy.
        So after a pass that took t, the next waits t: at most half the time
        goes to passes, and small queues wait for nothing."""
        clock, books = self.ctx.clock, self.ctx.books
        started = clock.monotonic()
        due = books.pass_due.get(namespace, 0.0)
        if started < due:
            if namespace not in books.pass_deferred:
                books.pass_deferred.add(namespace)
                self.ctx.queue.later(due - started, "namespace", namespace)
            return
        books.pass_deferred.discard(namespace)
        self.schedule(namespace, now=now)
        ended = clock.monotonic()
        books.pass_due[namespace] = ended + (ended - started)

    def schedule(self, namespace: str, *, now: datetime.datetime) -> None:
        """One admission pass over all Workers of a namespace."""
        # 1. Take the snapshot: the namespace's Workers and who holds their slots.
        ns_workers = self.ctx.store.workers_in(namespace)
        holders = self._holders(namespace)
        # 2. Find each waiting job's Worker (or why it has none).
        waiting, decided = self._resolve(namespace, workers=ns_workers)
        # 3. Per Worker: judge its health, admit what fits, write its status.
        for worker in ns_workers:
            held = holders.get(worker.meta.name, [])
            decided.update(self._admit_to(worker, held=held, waiting=waiting, now=now))
        # 4. Tell the jobs left waiting why, when that changed enough to write.
        self._rewrite(namespace, decided=decided, now=now)

    def _holders(self, namespace: str) -> dict[str, list[model.PipelineJob]]:
        holders: dict[str, list[model.PipelineJob]] = collections.defaultdict(list)
        for job in self.ctx.store.active(namespace):
            if job.status.holds_slot and job.status.worker:
                holders[job.status.worker].append(job)
        return holders

    def _resolve(
        self, namespace: str, *, workers: list[model.Worker]
    ) -> tuple[dict[str, list[model.PipelineJob]], dict[Key, scheduling.Waiting]]:
        """The waiting jobs per Worker, and those without one (and why)."""
        waiting: dict[str, list[model.PipelineJob]] = collections.defaultdict(list)
        decided: dict[Key, scheduling.Waiting] = {}
        resolved_by: dict[tuple[str | None, str], Resolved] = {}
        for key, wanted in list(self.ctx.books.wants_in(namespace).items()):
            # Jobs with a write in flight still count for everyone's queue
            # position (else positions flicker and each flicker is a write);
            # they are neither admitted nor rewritten until it returns.
            stored = self.ctx.store.pipelinejobs.get(key)
            if stored is None or stored.spec is None:
                self.ctx.books.drop_want(key)
                continue
            candidate = stored
            if wanted.status is not stored.status:
                candidate = dataclasses.replace(stored, status=wanted.status)
            # Jobs of one type and spec.worker resolve alike: once per pass.
            by = (stored.spec.worker, stored.spec.type)
            resolved = resolved_by.get(by)
            if resolved is None:
                resolved = resolved_by[by] = scheduling.resolve_worker(
                    job=candidate, workers=workers
                )
            if isinstance(resolved, scheduling.Waiting):
                decided[key] = resolved
            else:
                waiting[resolved.meta.name].append(candidate)
        return waiting, decided

    def _admit_to(
        self,
        worker: model.Worker,
        *,
        held: list[model.PipelineJob],
        waiting: dict[str, list[model.PipelineJob]],
        now: datetime.datetime,
    ) -> dict[Key, scheduling.Waiting]:
        found = self.ctx.books.worker(worker.key).invalid_template
        template_error = health.template_error(worker=worker, found=found)
        if template_error is not None:
            judged = health.invalid_template(template_error)
        else:
            observations = [o for h in held if (o := self.ctx.observe(h)) is not None]
            judged = health.assess(
                observations=observations, now=now, grace=self.ctx.settings.unschedulable_grace
            )
        decision = scheduling.admit(
            worker=worker,
            holders=held,
            waiting=waiting.get(worker.meta.name, []),
            offline_cause=judged.offline_cause,
            probe=template_error is None,
        )
        for admitted in decision.admitted:
            if self.ctx.busy(admitted.key):
                self.ctx.queue.job(admitted.key)  # looked at again when its write returns
                continue
            # One job's failure here is its own: the pass goes on for the others.
            key = admitted.key
            retry = self._retry_job(key)
            with self.ctx.quarantine.guard("admitting", "/".join(key), retry=retry):
                self._admit(admitted, worker=worker, now=now)
        self.worker_status.write(
            worker,
            running=len(held) + len(decision.admitted),
            queued=len(decision.waiting),
            now=now,
            judged=judged,
        )
        return dict(decision.waiting)

    def _admit(
        self, job: model.PipelineJob, *, worker: model.Worker, now: datetime.datetime
    ) -> None:
        """Give `job` a slot: create its Job now, write its status later.
        Until then the store assumes the slot taken; if the operator stops in
        between, the next one finds the Job by its deterministic name and
        adopts it (progress.Progress._adopt)."""
        ctx = self.ctx
        if self.renders.behind_another(key=job.key, worker=worker):
            return  # it keeps its place and is admitted when the render is done
        step = lifecycle.admit(
            job=job, worker=worker.meta.name, now=now, worker_generation=worker.meta.generation
        )
        started = dataclasses.replace(job, status=step.status)
        manifest = self.renders.ready(job=started, worker=worker, attempt=step.status.attempt)
        if manifest is None:
            return  # rendering: the job keeps its place and is admitted when it returns
        if isinstance(manifest, model.SpecError) and health.blames_worker(manifest):
            # Every job of this Worker would fail alike: the Worker goes OFFLINE
            # (InvalidTemplate) and its queue waits for the Worker to be fixed.
            ctx.books.worker(worker.key).invalid_template = (worker.meta.generation, manifest)
            ctx.queue.namespace(job.meta.namespace)
            return
        if isinstance(manifest, model.SpecError):
            # It cannot start: it fails now and its slot goes to the next pass.
            ctx.books.drop_want(job.key)
            failed = lifecycle.invalid(job=started, error=manifest, now=now)
            ctx.effects.spawn(job.key, ctx.effects.apply(job=job, step=failed))
            ctx.queue.namespace(job.meta.namespace)
            return
        # Its status waits for the pod (writes.write_now): a pod that runs
        # within STATUS_BATCH costs one write, RUNNING.
        ctx.books.admitted(job.key, write_due=ctx.clock.monotonic() + writes.STATUS_BATCH)
        ctx.effects.assume(job=job, new=step.status, now=now, recount=False)
        transitions.record(job=job, new=step.status)
        # Ungated: a Job per free slot, never behind the status writes of a flood of new jobs.
        ctx.effects.spawn(job.key, self._start(job.key, manifest=manifest), gated=False)

    async def _start(self, key: Key, *, manifest: dict[str, Any]) -> None:
        try:
            await self.ctx.effects.create_job(key, manifest=manifest)
        except BaseException:
            self.ctx.effects.unassume(key)
            raise
        self.ctx.queue.later(writes.STATUS_BATCH, "job", key)  # real time, whatever the clock

    def _rewrite(
        self, namespace: str, *, decided: dict[Key, scheduling.Waiting], now: datetime.datetime
    ) -> None:
        ctx = self.ctx
        retry_in: float | None = None
        for key, why in decided.items():
            current = ctx.store.pipelinejobs.get(key)
            pending = ctx.books.wanted(key)
            if current is None or pending is None or ctx.busy(key):
                continue
            book = ctx.books.job(key)
            if book.position_written is None:
                # Unknown after a restart: take the object's message as current.
                book.position_written = why.position
            wait = writes.rewrite_in(
                current=current,
                pending=pending.status,
                why=why,
                written_position=book.position_written,
                since_written=ctx.clock.monotonic() - book.message_written,
                interval=ctx.settings.queue_message_interval,
            )
            if wait is None:
                continue
            if wait > 0:
                retry_in = wait if retry_in is None else min(retry_in, wait)
                continue
            new = scheduling.waiting_status(
                pending=pending.status, why=why, generation=current.meta.generation
            )
            # Its events go out with this write, not again at admission.
            ctx.books.want(key, dataclasses.replace(pending, events=()))
            book.position_written = why.position
            step = lifecycle.Step(status=new, events=pending.events)
            ctx.effects.spawn(key, ctx.effects.apply(job=current, step=step))
        if retry_in is not None:
            ctx.at(now + datetime.timedelta(seconds=retry_in), "namespace", namespace)
