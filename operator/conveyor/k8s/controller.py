"""The control loop: feeds the store's view to the pure core and applies its
decisions to the API.

Watch events only mark things in the work queue; one loop decides. Per round:
  1. advance every marked PipelineJob through the state machine;
  2. run one admission pass per namespace that has waiting jobs or freed
     slots (all Workers of the namespace at once, so counts stay exact);
  3. apply the writes concurrently, at most one in flight per PipelineJob.
Every write of a status carries the resourceVersion it was decided on, so a
stale view fails with a conflict instead of acting twice. A decision that
takes or frees a slot is assumed in the store at once ("assume, then
write"), so the next pass counts it before the API has it.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime
import fnmatch
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from conveyor import metrics
from conveyor.core import (
    cron,
    health,
    lifecycle,
    model,
    observe,
    scheduling,
    status,
    stuck,
    workers,
)
from conveyor.k8s import api, crons, events, jobs, store, transient, workqueue

Key = store.Key
WORKER_STATUS_INTERVAL = 1.0  # seconds between count-only Worker status writes
STATUS_BATCH = 1.0  # seconds an admission's status write waits for its pod to run
Clock = Callable[[], datetime.datetime]

logger = logging.getLogger("conveyor.controller")
TRANSIENT = transient.Tally(logger=logger)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def scaled_clock(*, scale: float, anchor: float) -> Clock:
    if scale == 1.0:
        return utcnow

    def now() -> datetime.datetime:
        return datetime.datetime.fromtimestamp(
            anchor + (time.time() - anchor) * scale, tz=datetime.UTC
        )

    return now


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    max_inflight_writes: int = 64
    # The least time between two rewrites of a waiting job's message (see
    # scheduling.rewrite_in). At 30 s a 2,000-job drain made 1.3 position
    # rewrites per job; at 60 s, 0.6 (docs/performance.md).
    queue_message_interval: float = 60.0
    resync_interval: float = 300.0
    # Tests only: the operator's clock runs this many times faster than real
    # time from `clock_anchor` (Unix seconds), so a "* * * * *" schedule fires
    # every few seconds. Processes given the same anchor agree on the time.
    time_scale: float = 1.0
    clock_anchor: float = 0.0
    # How long a pod may stay unschedulable before its Worker counts as unhealthy.
    unschedulable_grace: datetime.timedelta = health.DEFAULT_GRACE


class Controller:
    def __init__(
        self, *, client: api.Client, settings: Settings, clock: Clock | None = None
    ) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock or scaled_clock(scale=settings.time_scale, anchor=settings.clock_anchor)
        self.store = store.Store()
        self.recorder = events.Recorder(client=client)
        self.queue = workqueue.WorkQueue()
        self._inflight: set[Key] = set()
        # Jobs waiting for a slot, per namespace: the step that wants it.
        self._wants: dict[str, dict[Key, lifecycle.Step]] = collections.defaultdict(dict)
        self._message_written: dict[Key, float] = {}
        self._position_written: dict[Key, int | None] = {}
        # Admitted jobs whose status is assumed, not written: write by then.
        self._write_due: dict[Key, float] = {}
        self._worker_written: dict[Key, float] = {}
        self._reported_stuck: set[Key] = set()
        self._pass_due: dict[str, float] = {}  # no admission pass before (monotonic)
        self._pass_deferred: set[str] = set()  # a pass is on the timer
        self._tasks: set[asyncio.Task[None]] = set()
        self._semaphore = asyncio.Semaphore(settings.max_inflight_writes)
        self.ready = asyncio.Event()
        self.rounds = 0

    # --- feeding ----------------------------------------------------------------

    def on_pipelinejob(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        if event_type == "DELETED":
            was = self.store.pipelinejobs.get(key)
            self.store.drop_pipelinejob(key)
            self._drop_want(key)
            self._message_written.pop(key, None)
            self._position_written.pop(key, None)
            self._write_due.pop(key, None)
            if was is not None:
                self._mark_namespace(key[0])
            return
        parent = ((body.get("metadata") or {}).get("labels") or {}).get(cron.CRONJOB_LABEL)
        if parent:
            self._mark_cron((key[0], parent))
        if self.store.put_pipelinejob(body):
            self._mark_job(key)

    def on_cronjob(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        if event_type == "DELETED":
            self.store.drop_cronjob(key)
            return
        if self.store.put_cronjob(body):
            self._mark_cron(key)

    def _mark_cron(self, key: Key) -> None:
        self.queue.cron(key)

    def on_worker(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        if event_type == "DELETED":
            self.store.drop_worker(key)
        elif not self.store.put_worker(body):
            return
        self._mark_namespace(key[0])
        # Its jobs judge their stuck pods against the Worker's new spec.
        for job in self.store.active(key[0]):
            if job.status.worker == key[1] and job.status.holds_slot:
                self._mark_job(job.key)

    def on_job(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        if event_type == "DELETED":
            self.store.drop_job(key)
        elif not self.store.put_job(body):
            return
        owner = self.store.owner_of(body)
        if owner is not None:
            self._mark_job(owner)

    def on_pod(self, event_type: str | None, body: dict[str, Any]) -> None:
        key = store.key_of(body)
        if event_type == "DELETED":
            self.store.drop_pod(key)
        elif not self.store.put_pod(body):
            return
        owner = self.store.owner_of(body)
        if owner is not None:
            self._mark_job(owner)

    def _mark_job(self, key: Key) -> None:
        self.queue.job(key)

    def _mark_namespace(self, namespace: str) -> None:
        self.queue.namespace(namespace)

    def _at(
        self, when: datetime.datetime, target: Key | str, *, kind: workqueue.Kind | None = None
    ) -> None:
        """Look at `target` again at `when` on the operator's (maybe scaled) clock."""
        delay = (when - self.clock()).total_seconds() / self.settings.time_scale
        kind = kind or ("job" if isinstance(target, tuple) else "namespace")
        self.queue.later(delay, kind, target)

    # --- running ---------------------------------------------------------------

    async def prime(self) -> None:
        """List everything once, so the first decisions see every slot holder."""
        selector = {"labelSelector": store.LABEL_PIPELINEJOB}
        patterns = self.settings.namespaces
        # Globs (kopf accepts them) are listed cluster-wide, then filtered.
        exact = patterns and not any(ch in p for p in patterns for ch in "*?[!")
        scopes: list[str | None] = list(patterns) if exact else [None]
        for namespace in scopes:
            for resource, feed, extra in (
                (api.WORKERS, self.on_worker, {}),
                (api.JOBS, self.on_job, selector),
                (api.PODS, self.on_pod, selector),
                (api.PIPELINEJOBS, self.on_pipelinejob, {}),
                (api.PIPELINECRONJOBS, self.on_cronjob, {}),
            ):
                listing = await self.client.list(resource, namespace=namespace, **extra)
                kind = _kind_of(resource)
                for item in listing.get("items") or ():
                    item_ns = (item.get("metadata") or {}).get("namespace") or ""
                    if patterns and not any(fnmatch.fnmatchcase(item_ns, p) for p in patterns):
                        continue
                    item.setdefault("apiVersion", _api_version_of(resource))
                    item.setdefault("kind", kind)
                    feed(None, item)
        for key in self.store.pipelinejobs:
            self._mark_job(key)
        for namespace in self.store.namespaces():
            self._mark_namespace(namespace)

    async def run(self, *, gate: asyncio.Event | None = None) -> None:
        """Decide and act until cancelled; with a `gate` (leader election) only
        once it is set. Until then the store is fed but nothing is written."""
        if gate is not None:
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
        logger.info(
            "primed: %d PipelineJobs, %d Workers",
            len(self.store.pipelinejobs),
            len(self.store.workers),
        )
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while True:
                await self.queue.wait(busy=self._inflight)
                try:
                    self._round()
                except Exception:  # one bad round must not stop the operator
                    logger.exception("a control round failed; retrying")
                    metrics.CONTROLLER_EVENTS.labels("round_errors").inc()
                    await asyncio.sleep(1)
        finally:
            heartbeat.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def _heartbeat(self) -> None:
        interval = workers.HEARTBEAT_INTERVAL.total_seconds()
        last_resync = time.monotonic()
        while True:
            await asyncio.sleep(interval / self.settings.time_scale)
            for namespace in {k[0] for k in self.store.workers}:
                self._mark_namespace(namespace)
                self._check_stuck(namespace)
            if time.monotonic() - last_resync >= self.settings.resync_interval:
                # A safety net under the watches: look at every object again.
                last_resync = time.monotonic()
                for key in self.store.pipelinejobs:
                    self._mark_job(key)
                for key in self.store.cronjobs:
                    self._mark_cron(key)

    def _check_stuck(self, namespace: str) -> None:
        """Report jobs that wait while their Worker has a free slot."""
        active = list(self.store.active(namespace))
        running: dict[str, int] = collections.Counter(
            j.status.worker for j in active if j.status.holds_slot and j.status.worker
        )
        ns_workers = {w.meta.name: w for w in self.store.workers_in(namespace)}
        found = stuck.find(jobs=active, workers=ns_workers, running=running, now=self.clock())
        per_worker = collections.Counter(j.status.worker or "" for j in found)
        for name in ns_workers:
            metrics.STUCK_JOBS.labels(namespace, name).set(per_worker.get(name, 0))
        for job in found:
            if job.key in self._reported_stuck:
                continue
            self._reported_stuck.add(job.key)
            message = (
                f"waiting since {job.status.queued_at} although Worker {job.status.worker} "
                "has a free slot; this is an operator fault, please report it"
            )
            logger.warning("%s/%s stuck: %s", namespace, job.meta.name, message)
            body = self.store.pipelinejob_bodies.get(job.key) or {}
            self.recorder.post(
                body=body, event=lifecycle.Event(type="Warning", reason="Stuck", message=message)
            )
            self._mark_job(job.key)

    def _round(self) -> None:
        with metrics.ROUND_SECONDS.time():
            self._round_inner()

    def _round_inner(self) -> None:
        self.rounds += 1
        now = self.clock()
        for key in self.queue.take_jobs(busy=self._inflight):
            self._advance(key, now=now)
        for namespace in self.queue.take_namespaces():
            self._schedule_paced(namespace, now=now)
        for key in self.queue.take_crons(busy=self._inflight):
            self._advance_cron(key, now=now)

    def _advance_cron(self, key: Key, *, now: datetime.datetime) -> None:
        body = self.store.cronjobs.get(key)
        if body is None:
            return
        try:
            decision = crons.decide(body=body, children=crons.children_of(self.store, key), now=now)
        except Exception:  # never let one object stop the loop
            logger.exception("scheduling %s/%s failed", *key)
            return
        if decision.wake_at is not None:
            self._at(decision.wake_at, key, kind="cron")

        async def run() -> None:
            for event in decision.events:
                self.recorder.post(body=body, event=event)
            fresh = await crons.apply(client=self.client, body=body, decision=decision, now=now)
            if fresh is not None:
                self.store.put_cronjob(fresh, force=True)

        self._spawn(key, run(), on_conflict=lambda: self._refresh_cron(key))

    async def _refresh_cron(self, key: Key) -> None:
        try:
            fresh = await self.client.get(api.PIPELINECRONJOBS, namespace=key[0], name=key[1])
        except api.ApiError as exc:
            if exc.not_found:
                self.store.drop_cronjob(key)
                return
            raise
        self.store.put_cronjob(fresh, force=True)
        self._mark_cron(key)

    def _advance(self, key: Key, *, now: datetime.datetime) -> None:
        job = self.store.pipelinejobs.get(key)
        if job is None:
            return
        job = self._adopt(job, now=now)
        observation = self._observe(job)
        worker = self.store.workers.get((key[0], job.status.worker or ""))
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
            self._at(step.wake_at, key)
        if step.wants_admission:
            self._wants[key[0]][key] = step
            self._mark_namespace(key[0])
            return
        self._drop_want(key)
        due = self._write_due.get(key)
        if due is not None:
            if time.monotonic() < due and _only_starting(step):
                return  # an admission's write waits for its pod (see _admit)
        elif (
            step == lifecycle.Step(status=job.status, wake_at=step.wake_at)
            and job.status.observed_generation == job.meta.generation
        ):
            return  # nothing to write or do (a spec edit is acknowledged in status)
        self._write_due.pop(key, None)
        if job.status.holds_slot and not step.status.holds_slot:
            # Assume, then write: the slot is free for the next pass already.
            self.store.assume_status(key, self._status_dict(job=job, new=step.status, now=now))
            self._mark_namespace(key[0])
        self._spawn(key, self._apply(job=job, step=step))

    def _adopt(self, job: model.PipelineJob, *, now: datetime.datetime) -> model.PipelineJob:
        """Record the Job of an admission whose status write never happened
        (the operator stopped between the two): it holds a slot."""
        name = lifecycle.unrecorded_job(job)
        found = self.store.jobs.get((job.meta.namespace, name)) if name else None
        if found is None or not _owned_by(found, uid=job.meta.uid):
            return job
        labels = (found.get("metadata") or {}).get("labels") or {}
        worker_name = labels.get(store.LABEL_WORKER) or job.status.worker or ""
        worker = self.store.workers.get((job.meta.namespace, worker_name))
        step = lifecycle.admit(
            job=job,
            worker=worker_name,
            now=now,
            worker_generation=worker.meta.generation if worker else None,
        )
        logger.info("%s/%s: adopting Job %s", job.meta.namespace, job.meta.name, name)
        metrics.CONTROLLER_EVENTS.labels("adopted").inc()
        self._drop_want(job.key)
        self.store.assume_status(job.key, self._status_dict(job=job, new=step.status, now=now))
        self._write_due[job.key] = 0.0
        self._mark_namespace(job.meta.namespace)
        return self.store.pipelinejobs[job.key]

    def _wants_in(self, namespace: str) -> dict[Key, lifecycle.Step]:
        return self._wants.get(namespace) or {}

    def _drop_want(self, key: Key) -> None:
        wants = self._wants.get(key[0])
        if wants is not None:
            wants.pop(key, None)
            if not wants:
                del self._wants[key[0]]

    def _observe(self, job: model.PipelineJob) -> observe.Observation | None:
        if not job.status.job:
            return None
        namespace = job.meta.namespace
        return observe.summarize(
            job=self.store.jobs.get((namespace, job.status.job)),
            pods=self.store.pods_of_job((namespace, job.status.job)),
        )

    def _schedule_paced(self, namespace: str, *, now: datetime.datetime) -> None:
        """An admission pass, or a later one: a pass over a long queue takes
        milliseconds, and one after every slot change would keep a core busy.
        So after a pass that took t, the next waits t: at most half the time
        goes to passes, and small queues wait for nothing."""
        started = time.monotonic()
        due = self._pass_due.get(namespace, 0.0)
        if started < due:
            if namespace not in self._pass_deferred:
                self._pass_deferred.add(namespace)
                self.queue.later(due - started, "namespace", namespace)
            return
        self._pass_deferred.discard(namespace)
        self._schedule(namespace, now=now)
        ended = time.monotonic()
        self._pass_due[namespace] = ended + (ended - started)

    def _schedule(self, namespace: str, *, now: datetime.datetime) -> None:
        """One admission pass over all Workers of a namespace."""
        ns_workers = self.store.workers_in(namespace)
        holders: dict[str, list[model.PipelineJob]] = collections.defaultdict(list)
        for job in self.store.active(namespace):
            if job.status.holds_slot and job.status.worker:
                holders[job.status.worker].append(job)
        waiting: dict[str, list[model.PipelineJob]] = collections.defaultdict(list)
        decided: dict[Key, scheduling.Waiting] = {}
        resolved_by: dict[tuple[str | None, str], model.Worker | scheduling.Waiting] = {}
        for key, wanted in list(self._wants_in(namespace).items()):
            # Jobs with a write in flight still count for everyone's queue
            # position (else positions flicker and each flicker is a write);
            # they are neither admitted nor rewritten until it returns.
            stored = self.store.pipelinejobs.get(key)
            if stored is None or stored.spec is None:
                self._drop_want(key)
                continue
            candidate = stored
            if wanted.status is not stored.status:
                candidate = dataclasses.replace(stored, status=wanted.status)
            # Jobs of one type and spec.worker resolve alike: once per pass.
            by = (stored.spec.worker, stored.spec.type)
            resolved = resolved_by.get(by)
            if resolved is None:
                resolved = resolved_by[by] = scheduling.resolve_worker(
                    job=candidate, workers=ns_workers
                )
            if isinstance(resolved, scheduling.Waiting):
                decided[key] = resolved
            else:
                waiting[resolved.meta.name].append(candidate)

        for worker in ns_workers:
            name = worker.meta.name
            held = holders.get(name, [])
            observations = [o for h in held if (o := self._observe(h)) is not None]
            judged = health.assess(
                observations=observations, now=now, grace=self.settings.unschedulable_grace
            )
            decision = scheduling.admit(
                worker=worker,
                holders=held,
                waiting=waiting.get(name, []),
                offline_cause=judged.offline_cause,
            )
            decided.update(decision.waiting)
            for admitted in decision.admitted:
                if admitted.key in self._inflight:
                    self._mark_job(admitted.key)  # looked at again when its write returns
                    continue
                self._admit(admitted, worker=worker, now=now)
            self._write_worker_status(
                worker,
                running=len(held) + len(decision.admitted),
                queued=len(decision.waiting),
                now=now,
                judged=judged,
            )

        retry_in: float | None = None
        for key, why in decided.items():
            current = self.store.pipelinejobs.get(key)
            pending = self._wants_in(namespace).get(key)
            if current is None or pending is None or key in self._inflight:
                continue
            wait = self._rewrite_in(current=current, pending=pending.status, why=why)
            if wait is None:
                continue
            if wait > 0:
                retry_in = wait if retry_in is None else min(retry_in, wait)
                continue
            new = scheduling.waiting_status(
                pending=pending.status, why=why, generation=current.meta.generation
            )
            step = lifecycle.Step(status=new, events=pending.events)
            # Its events go out with this write, not again at admission.
            self._wants[namespace][key] = dataclasses.replace(pending, events=())
            self._position_written[key] = why.position
            self._spawn(key, self._apply(job=current, step=step))
        if retry_in is not None:
            self._at(now + datetime.timedelta(seconds=retry_in), namespace)

    def _rewrite_in(
        self, *, current: model.PipelineJob, pending: model.JobStatus, why: scheduling.Waiting
    ) -> float | None:
        """When to rewrite a waiting job (see scheduling.rewrite_in); None: not."""
        key = current.key
        old = current.status
        # Unknown after a restart: take the object's message as current.
        written = self._position_written.get(key)
        if written is None:
            written = self._position_written[key] = why.position
        since = time.monotonic() - self._message_written.get(key, 0.0)
        interval = self.settings.queue_message_interval
        if (
            pending is old
            and old.reason == why.reason
            and old.worker == (why.worker or old.worker)
            and old.observed_generation == current.meta.generation
        ):
            # The usual case in a long queue: at most the message changes, and
            # building the new status for each job each pass is what costs.
            return scheduling.message_rewrite_in(
                changed=why.position is not None or why.message != old.message,
                old_position=written,
                new_position=why.position,
                since_written=since,
                interval=interval,
            )
        return scheduling.rewrite_in(
            old=old,
            new=scheduling.waiting_status(
                pending=pending, why=why, generation=current.meta.generation
            ),
            old_position=written,
            new_position=why.position,
            since_written=since,
            interval=interval,
        )

    def _admit(
        self, job: model.PipelineJob, *, worker: model.Worker, now: datetime.datetime
    ) -> None:
        """Give `job` a slot: create its Job now, write its status later.

        The status write waits up to STATUS_BATCH seconds, so a pod that starts
        quickly makes one write (RUNNING) instead of two (Starting, RUNNING),
        as the Job controller batches its own status updates. Until then the
        store assumes the slot taken; if the operator stops in between, the
        next one finds the Job by its deterministic name and adopts it.
        """
        step = lifecycle.admit(
            job=job, worker=worker.meta.name, now=now, worker_generation=worker.meta.generation
        )
        # A job admitted in the pass that first saw it was never written as
        # queued: its Queued event would be noise.
        self._drop_want(job.key)
        self._message_written.pop(job.key, None)
        self._position_written.pop(job.key, None)
        self.store.assume_status(job.key, self._status_dict(job=job, new=step.status, now=now))
        _log_decision(job=job, new=step.status)
        self._write_due[job.key] = time.monotonic() + STATUS_BATCH

        async def start() -> None:
            try:
                await self._create_job(job.key)
            except BaseException:
                self._unassume(job.key)
                raise
            self.queue.later(STATUS_BATCH, "job", job.key)  # real time, whatever the clock

        self._spawn(job.key, start())

    # --- applying ---------------------------------------------------------------

    def _spawn(
        self, key: Key, coro: Any, *, on_conflict: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self._inflight.add(key)

        async def run() -> None:
            try:
                async with self._semaphore:
                    with metrics.WRITE_SECONDS.time():
                        await coro
            except asyncio.CancelledError:
                raise
            except api.ApiError as exc:
                if not (exc.conflict and on_conflict is not None):
                    if transient.is_transient(exc):  # an outage: a count, not a traceback each
                        TRANSIENT.failed("applying decisions", exc)
                    else:
                        logger.exception("applying a decision for %s/%s failed", *key)
                    metrics.CONTROLLER_EVENTS.labels("apply_errors").inc()
                    self._at(self.clock() + datetime.timedelta(seconds=5), key)
                else:
                    await on_conflict()
            except Exception:
                logger.exception("applying a decision for %s/%s failed", *key)
                metrics.CONTROLLER_EVENTS.labels("apply_errors").inc()
                self._at(self.clock() + datetime.timedelta(seconds=5), key)
            finally:
                self._inflight.discard(key)
                if key in self.queue.jobs or key in self.queue.crons:
                    self.queue.wake()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _unassume(self, key: Key) -> None:
        """A write or Job creation failed: back to what the API has; its slot
        (taken or freed by the assumption) is counted again."""
        self._write_due.pop(key, None)
        self.store.forget_assumed(key)
        self._mark_namespace(key[0])

    def _status_dict(
        self, *, job: model.PipelineJob, new: model.JobStatus, now: datetime.datetime
    ) -> dict[str, Any]:
        previous = self.store.written_status(job.key).get("conditions") or []
        return status.to_dict(
            status=new, generation=job.meta.generation, previous_conditions=previous, now=now
        )

    async def _apply(self, *, job: model.PipelineJob, step: lifecycle.Step) -> None:
        key = job.key
        now = self.clock()
        old_status = self.store.written_status(key)
        new_status = self._status_dict(job=job, new=step.status, now=now)
        patch = status.merge_patch(old=old_status, new=new_status)
        try:
            if patch and not await self._write_status(job=job, patch=patch):
                return
        except BaseException:
            self._unassume(key)  # else a retry would see it as done
            raise
        if patch:
            _log_decision(job=job, new=step.status)
        if step.status.message != job.status.message:
            self._message_written[key] = time.monotonic()
        body = self.store.pipelinejob_bodies.get(key) or {}
        for event in step.events:
            self.recorder.post(body=body, event=event)
        if step.delete_job:
            await self._delete(api.JOBS, namespace=key[0], name=step.delete_job)
        if step.create_job:
            await self._create_job(key)
        if step.delete_pipelinejob:
            await self._delete(api.PIPELINEJOBS, namespace=key[0], name=key[1])

    async def _write_status(self, *, job: model.PipelineJob, patch: Mapping[str, Any]) -> bool:
        key = job.key
        try:
            response = await self.client.patch_status(
                api.PIPELINEJOBS,
                namespace=key[0],
                name=key[1],
                patch={"metadata": {"resourceVersion": job.meta.resource_version}, "status": patch},
            )
        except api.ApiError as exc:
            if exc.not_found:
                self.on_pipelinejob("DELETED", {"metadata": {"namespace": key[0], "name": key[1]}})
                return False
            if exc.conflict:
                metrics.CONTROLLER_EVENTS.labels("conflicts").inc()
                await self._refresh(key)
                return False
            raise
        before = self.store.pipelinejobs.get(key)
        self.store.put_pipelinejob(response, force=True)
        after = self.store.pipelinejobs.get(key)
        pending = self._wants_in(key[0]).get(key)
        if pending is not None and after is not None:
            # What was written is what it waits with now (the pass's fast path).
            self._wants[key[0]][key] = dataclasses.replace(pending, status=after.status)
        if before and after and before.status.holds_slot != after.status.holds_slot:
            self._mark_namespace(key[0])  # a slot was taken or freed: recount
        return True

    async def _refresh(self, key: Key) -> None:
        try:
            fresh = await self.client.get(api.PIPELINEJOBS, namespace=key[0], name=key[1])
        except api.ApiError as exc:
            if exc.not_found:
                self.on_pipelinejob("DELETED", {"metadata": {"namespace": key[0], "name": key[1]}})
                return
            raise
        self.store.put_pipelinejob(fresh, force=True)
        self._mark_job(key)
        self._mark_namespace(key[0])

    async def _create_job(self, key: Key) -> None:
        job = self.store.pipelinejobs.get(key)
        if job is None or job.spec is None or not job.status.job or not job.status.worker:
            return
        namespace = key[0]
        if (namespace, job.status.job) in self.store.jobs:
            return
        worker = self.store.workers.get((namespace, job.status.worker))
        if worker is None:
            message = f"Worker {job.status.worker} was deleted before the Job started; requeued"
            await self._apply(
                job=job,
                step=lifecycle.requeue(status=job.status, message=message, now=self.clock()),
            )
            return
        body = jobs.manifest(job=job, worker=worker)
        created = (
            body
            if isinstance(body, model.SpecError)
            else await jobs.create(client=self.client, namespace=namespace, body=body)
        )
        if isinstance(created, model.SpecError):
            step = lifecycle.invalid(job=job, error=created, now=self.clock())
            await self._apply(job=job, step=step)
            return
        job_body, fresh = created
        if fresh:
            metrics.JOBS_CREATED.labels(namespace, job.status.worker).inc()
        else:
            metrics.CONTROLLER_EVENTS.labels("adopted").inc()
        self.on_job(None, job_body)

    async def _delete(self, resource: api.Resource, *, namespace: str, name: str) -> None:
        try:
            await self.client.delete(resource, namespace=namespace, name=name)
        except api.ApiError as exc:
            if not exc.not_found:
                raise

    def _write_worker_status(
        self,
        worker: model.Worker,
        *,
        running: int,
        queued: int,
        now: datetime.datetime,
        judged: health.Health,
    ) -> None:
        key = worker.key
        body = self.store.worker_bodies.get(key) or {}
        previous = body.get("status") or {}
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
        # Counts change with every admission; one write a second per Worker
        # is enough for people watching, a state change goes out at once.
        last = self._worker_written.get(key, 0.0)
        wait = WORKER_STATUS_INTERVAL - (time.monotonic() - last)
        if wait > 0 and set(patch) <= {"running", "queued", "message", "conditions"}:
            self._at(now + datetime.timedelta(seconds=wait), key[0])
            return
        self._worker_written[key] = time.monotonic()
        # Recorded at once: the next pass compares against what we wrote.
        self.store.worker_bodies[key] = {**body, "status": {**previous, **new}}
        self._spawn(("worker", f"{key[0]}/{key[1]}"), self._patch_worker(key, patch))

    async def _patch_worker(self, key: Key, patch: Mapping[str, Any]) -> None:
        try:
            response = await self.client.patch_status(
                api.WORKERS, namespace=key[0], name=key[1], patch={"status": patch}
            )
        except api.ApiError as exc:
            if exc.not_found:
                return
            raise
        self.store.put_worker(response)


def _log_decision(*, job: model.PipelineJob, new: model.JobStatus) -> None:
    old = job.status
    if (old.state, old.reason) == (new.state, new.reason):
        return
    metrics.TRANSITIONS.labels(
        job.meta.namespace, new.worker or "", str(old.state or ""), str(new.state), str(new.reason)
    ).inc()
    times = status.attempt_times(new)
    metrics.observe_transition(
        namespace=job.meta.namespace,
        worker=new.worker or "",
        to_state=str(new.state),
        waiting_since=times.waiting_since,
        started_at=times.start,
        finished_at=times.finish,
    )
    logger.info(
        "%s/%s %s/%s -> %s/%s: %s",
        job.meta.namespace,
        job.meta.name,
        old.state,
        old.reason,
        new.state,
        new.reason,
        new.message,
        extra={
            "namespace": job.meta.namespace,
            "job": job.meta.name,
            "worker": new.worker,
            "from_state": str(old.state or ""),
            "state": str(new.state),
            "reason": str(new.reason),
        },
    )


def _only_starting(step: lifecycle.Step) -> bool:
    """The step keeps the job starting, with nothing to do but write."""
    return (
        step.status.state is model.State.IN_QUEUE
        and step.status.reason == model.Reason.STARTING
        and not (step.create_job or step.delete_job or step.delete_pipelinejob or step.events)
    )


def _owned_by(body: Mapping[str, Any], *, uid: str | None) -> bool:
    refs = (body.get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("uid") == uid for ref in refs)


def _kind_of(resource: api.Resource) -> str:
    return {
        "pipelinejobs": "PipelineJob",
        "workers": "Worker",
        "jobs": "Job",
        "pods": "Pod",
        "pipelinecronjobs": "PipelineCronJob",
    }[resource.plural]


def _api_version_of(resource: api.Resource) -> str:
    return f"{resource.group}/{resource.version}" if resource.group else resource.version
