"""Applies the controllers' decisions to the API: the only module here that
writes (Events aside, which k8s/events.py posts in the background).

The controllers hand over data (a `lifecycle.Step` with the version it was
decided on, a Job manifest, a cron or run decision, a Worker status patch);
this module applies it, one write in flight per object, and answers the
API's refusals the same way everywhere:
  - Conflict (our view was stale): read the object again and decide anew.
  - AlreadyExists on a Job (made before a restart): adopt it.
  - NotFound: the object is gone (`unless_gone`): forget it, never retry.
  - Forbidden, its namespace terminating: it goes with it, never retry.
"Assume, then write" has one site (`assume`) and one rollback (`unassume`): a
slot taken or freed is in the store at once, so the next pass counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from conveyor import metrics
from conveyor.core import cron, lifecycle, model, render, status
from conveyor.core.pipeline import run as pipelinerun
from conveyor.k8s import (
    api,
    books,
    clock,
    crons,
    events,
    jobs,
    quarantine,
    runs,
    store,
    transient,
    transitions,
    workqueue,
)

Key = store.Key
RETRY_AFTER_ERROR = datetime.timedelta(seconds=5)

logger = logging.getLogger("conveyor.controller")
TRANSIENT = transient.Tally(logger=logger)


unless_gone = api.unless_gone  # NotFound is an answer: the object was deleted


class Effects:
    def __init__(
        self,
        *,
        client: api.Client,
        store: store.Store,
        books: books.Books,
        queue: workqueue.WorkQueue,
        clock: clock.Clock,
        max_inflight: int,
        quarantine: quarantine.Quarantine,
    ) -> None:
        self.quarantine = quarantine
        self.client = client
        self.store = store
        self.books = books
        self.queue = queue
        self.clock = clock
        self.recorder = events.Recorder(client=client, clock=clock)
        self.inflight: set[Key] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._semaphore = asyncio.Semaphore(max_inflight)

    # --- running writes -------------------------------------------------------------
    def spawn(
        self,
        key: Key,
        coro: Coroutine[Any, Any, None],
        *,
        on_conflict: Callable[[], Awaitable[None]] | None = None,
        retry: tuple[workqueue.Kind, Key] | None = None,
        gated: bool = True,
    ) -> None:
        """Run a write for `key` in the background (one in flight per key):
        a conflict goes to `on_conflict`, any other failure is retried later
        (by marking `retry`, by default the PipelineJob `key`). gated=False: not queued behind
        the max_inflight writes (bounded work: a render per Worker, a Job per free slot)."""
        self.inflight.add(key)
        task = asyncio.create_task(
            self._run(key, coro, on_conflict=on_conflict, retry=retry or ("job", key), gated=gated)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self,
        key: Key,
        coro: Coroutine[Any, Any, None],
        *,
        on_conflict: Callable[[], Awaitable[None]] | None,
        retry: tuple[workqueue.Kind, Key],
        gated: bool,
    ) -> None:
        try:
            async with self._semaphore if gated else contextlib.nullcontext():
                with metrics.WRITE_SECONDS.time():
                    await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, api.ApiError) and exc.conflict and on_conflict is not None:
                await on_conflict()
            elif not (isinstance(exc, api.ApiError) and exc.terminating):
                self._retry_later(exc, key, retry)
        finally:
            self.inflight.discard(key)
            if key in self.queue.jobs or key in self.queue.crons or retry[1] in self.queue.runs:
                self.queue.wake()

    def _retry_later(self, exc: Exception, key: Key, retry: tuple[workqueue.Kind, Key]) -> None:
        if isinstance(exc, api.ApiError) and transient.is_transient(exc):
            TRANSIENT.failed("applying decisions", exc)  # an outage: a count, not a trace
        else:
            # Rate-limited: a write failing every 5 s is one traceback per 10 min.
            self.quarantine.report("applying a decision for", "/".join(key))
        metrics.CONTROLLER_EVENTS.labels("apply_errors").inc()
        self.queue.later(self.clock.real_seconds(RETRY_AFTER_ERROR), *retry)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def settle(self) -> None:
        """Until every write started so far has returned (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- assume, then write ---------------------------------------------------------
    def status_dict(
        self, *, job: model.PipelineJob, new: model.JobStatus, now: datetime.datetime
    ) -> dict[str, Any]:
        previous = self.store.written_status(job.key).get("conditions")
        previous = previous if isinstance(previous, list) else []
        return status.to_dict(
            status=new, generation=job.meta.generation, previous_conditions=previous, now=now
        )

    def assume(
        self,
        *,
        job: model.PipelineJob,
        new: model.JobStatus,
        now: datetime.datetime,
        recount: bool = True,
    ) -> None:
        """Record a decided status before the API has it ("assume, then
        write"): the slot it takes or frees counts from now, in the next
        admission pass (`recount`: mark the namespace for one). Held until
        the answer to our write, or `unassume`."""
        self.store.assume_status(job.key, self.status_dict(job=job, new=new, now=now))
        if recount:
            self.queue.namespace(job.meta.namespace)

    def unassume(self, key: Key) -> None:
        """A write or Job creation failed: back to what the API has; its slot
        (taken or freed by the assumption) is counted again."""
        book = self.books.peek(key)
        if book is not None:
            book.write_due = None
        self.store.forget_assumed(key)
        self.queue.namespace(key[0])

    # --- PipelineJobs ------------------------------------------------------------
    def forget_pipelinejob(self, key: Key) -> None:
        """The PipelineJob is gone: drop it and its bookkeeping; its slot is free."""
        was = self.store.pipelinejobs.get(key)
        self.store.drop_pipelinejob(key)
        self.books.drop_job(key)
        if was is not None:
            self.queue.namespace(key[0])

    async def apply(
        self,
        *,
        job: model.PipelineJob,
        step: lifecycle.Step,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        """Write the step's status (against the version `job` was decided
        on), post its Events, then delete or create what it says."""
        key = job.key
        try:
            written = await self._write_status(job=job, new=step.status)
        except BaseException:
            self.unassume(key)  # else a retry would see it as done
            raise
        if not written:
            return
        if step.status.message != job.status.message:
            self.books.job(key).message_written = self.clock.monotonic()
        self.post(key, step.events)
        if step.delete_job:
            await self.delete(api.JOBS, namespace=key[0], name=step.delete_job)
        if step.create_job and manifest is not None:
            await self.create_job(key, manifest=manifest)
        if step.delete_pipelinejob:
            await self.delete(api.PIPELINEJOBS, namespace=key[0], name=key[1])

    async def _write_status(self, *, job: model.PipelineJob, new: model.JobStatus) -> bool:
        """Patch the status; False if there was nothing to write that could be
        (the object is gone, or our view was stale and is being refreshed)."""
        key = job.key
        patch = status.merge_patch(
            old=self.store.written_status(key),
            new=self.status_dict(job=job, new=new, now=self.clock.now()),
        )
        if not patch:
            return True
        body = {"metadata": {"resourceVersion": job.meta.resource_version}, "status": patch}
        try:
            call = self.client.patch_status(
                api.PIPELINEJOBS, namespace=key[0], name=key[1], patch=body
            )
            response = await unless_gone(call, on_gone=lambda: self.forget_pipelinejob(key))
        except api.ApiError as exc:
            if not exc.conflict:
                raise
            metrics.CONTROLLER_EVENTS.labels("conflicts").inc()
            await self.refresh_pipelinejob(key)
            return False
        if response is None:
            return False
        self._written(job=job, response=response)
        transitions.record(job=job, new=new)
        return True

    def _written(self, *, job: model.PipelineJob, response: dict[str, Any]) -> None:
        key = job.key
        before = self.store.pipelinejobs.get(key)
        self.store.put_pipelinejob(response, force=True)
        after = self.store.pipelinejobs.get(key)
        pending = self.books.wanted(key)
        if pending is not None and after is not None:
            # What was written is what it waits with now (the pass's fast path).
            self.books.want(key, dataclasses.replace(pending, status=after.status))
        if before and after and before.status.holds_slot != after.status.holds_slot:
            self.queue.namespace(key[0])  # a slot was taken or freed: recount

    async def read_failed_create(self, key: Key, *, job_name: str) -> None:
        """Why the Job controller cannot create the pod of `job_name` (jobs.failed_create)."""
        namespace = key[0]
        message = await jobs.failed_create(client=self.client, namespace=namespace, name=job_name)
        if message is not None and self.store.failed_create.get((namespace, job_name)) != message:
            self.store.failed_create[(namespace, job_name)] = message
            self.queue.job(key)
            self.queue.namespace(namespace)  # the Worker's health changed

    async def refresh_pipelinejob(self, key: Key) -> None:
        call = self.client.get(api.PIPELINEJOBS, namespace=key[0], name=key[1])
        fresh = await unless_gone(call, on_gone=lambda: self.forget_pipelinejob(key))
        if fresh is None:
            return
        self.store.put_pipelinejob(fresh, force=True)
        self.queue.job(key)
        self.queue.namespace(key[0])

    def post(self, key: Key, to_post: tuple[lifecycle.Event, ...]) -> None:
        body = self.store.pipelinejob_bodies.get(key) or {}
        for event in to_post:
            self.recorder.post(body=body, event=event)

    # --- Jobs ---------------------------------------------------------------------
    async def create_job(self, key: Key, *, manifest: dict[str, Any]) -> None:
        """Create the attempt's Job, or adopt it if it exists. If the API
        server refuses the manifest (a bad podTemplate), the job fails
        with InvalidSpec: the one decision that only the API can make."""
        namespace = key[0]
        name = manifest["metadata"]["name"]
        if (namespace, name) in self.store.jobs:
            return
        worker_name = (manifest["metadata"].get("labels") or {}).get(store.LABEL_WORKER) or ""
        current = self.store.pipelinejobs.get(key)
        blame = render.JOB_POD_FIELD
        if current is not None:
            worker = self.store.workers.get((namespace, worker_name))
            blame = render.refused_field(job=current, worker=worker)
        created = await jobs.create(
            client=self.client, namespace=namespace, body=manifest, blame=blame
        )
        if isinstance(created, model.SpecError):
            current = self.store.pipelinejobs.get(key)
            if current is not None:
                step = lifecycle.invalid(job=current, error=created, now=self.clock.now())
                await self.apply(job=current, step=step)
            return
        job_body, fresh = created
        if fresh:
            metrics.JOBS_CREATED.labels(namespace, worker_name).inc()
        else:
            metrics.CONTROLLER_EVENTS.labels("adopted").inc()
        if self.store.put_job(job_body):
            self.queue.job(key)

    async def delete(self, resource: api.Resource, *, namespace: str, name: str) -> None:
        await unless_gone(self.client.delete(resource, namespace=namespace, name=name))

    # --- Workers ------------------------------------------------------------------
    def write_worker_status(
        self, key: Key, *, new: Mapping[str, Any], patch: Mapping[str, Any]
    ) -> None:
        """Record the Worker's new status at once (the next pass compares
        against what we wrote), then patch it."""
        self.books.worker(key).written = self.clock.monotonic()
        body = self.store.worker_bodies.get(key) or {}
        previous = body.get("status") or {}
        self.store.worker_bodies[key] = {**body, "status": {**previous, **new}}
        self.spawn(("worker", f"{key[0]}/{key[1]}"), self._patch_worker(key, patch))

    async def _patch_worker(self, key: Key, patch: Mapping[str, Any]) -> None:
        call = self.client.patch_status(
            api.WORKERS, namespace=key[0], name=key[1], patch={"status": patch}
        )
        response = await unless_gone(call)
        if response is not None:
            self.store.put_worker(response)

    # --- PipelineRuns -----------------------------------------------------------
    def apply_run(
        self,
        key: Key,
        *,
        body: Mapping[str, Any],
        decision: pipelinerun.Decision,
        now: datetime.datetime,
    ) -> None:
        """Create the decided children (AlreadyExists: adopt), revoke the
        named ones, then write the status against the version decided on."""

        async def go() -> None:
            for child in decision.create:
                created = await runs.create_child(client=self.client, child=child)
                if self.store.put_pipelinejob(created):
                    self.queue.job(store.key_of(created))
            for name in decision.revoke:
                await unless_gone(
                    runs.revoke_child(client=self.client, namespace=key[0], name=name)
                )
            response = await runs.write_status(
                client=self.client,
                body=body,
                decision=decision,
                now=now,
                on_gone=lambda: self.store.drop_pipelinerun(key),
            )
            if response is not None:
                self.store.put_pipelinerun(response, force=True)
                for event in runs.record(before=body, after=response):
                    self.recorder.post(body=response, event=event)

        self.spawn(
            workqueue.run_flight(key),
            go(),
            on_conflict=lambda: self.refresh_run(key),
            retry=("run", key),
        )

    async def refresh_run(self, key: Key) -> None:
        call = self.client.get(api.PIPELINERUNS, namespace=key[0], name=key[1])
        fresh = await unless_gone(call, on_gone=lambda: self.store.drop_pipelinerun(key))
        if fresh is not None:
            self.store.put_pipelinerun(fresh, force=True)
            self.queue.run(key)

    # --- PipelineCronJobs -------------------------------------------------------
    def apply_cron(
        self, key: Key, *, body: Mapping[str, Any], decision: cron.Decision, now: datetime.datetime
    ) -> None:
        async def run() -> None:
            for event in decision.events:
                self.recorder.post(body=body, event=event)
            fresh = await crons.apply(client=self.client, body=body, decision=decision, now=now)
            if fresh is not None:
                self.store.put_cronjob(fresh, force=True)

        self.spawn(key, run(), on_conflict=lambda: self.refresh_cron(key), retry=("cron", key))

    async def refresh_cron(self, key: Key) -> None:
        call = self.client.get(api.PIPELINECRONJOBS, namespace=key[0], name=key[1])
        fresh = await unless_gone(call, on_gone=lambda: self.store.drop_cronjob(key))
        if fresh is not None:
            self.store.put_cronjob(fresh, force=True)
            self.queue.cron(key)
