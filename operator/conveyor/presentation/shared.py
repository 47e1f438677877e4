"""What every explanation in `conveyor why` works from: the situation of one
PipelineJob and the facts shared between reasons (queue, slots, attempts).

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import health, model, queue
from conveyor.presentation import humanize

Reason = model.Reason


# The operator refreshes each Worker's heartbeat every 30 seconds or so.
STALE_HEARTBEAT = datetime.timedelta(minutes=2)


# A job the operator has not written a status on after this long is a sign too.
UNSEEN_GRACE = datetime.timedelta(seconds=30)


MAX_HOLDERS = 10


class Level(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fact:
    label: str
    text: str
    level: Level = Level.INFO


@dataclasses.dataclass(frozen=True, kw_only=True)
class PodState:
    """What the latest pod of the current attempt is doing."""

    name: str
    phase: str
    waiting_reason: str | None = None
    waiting_message: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Situation:
    job: model.PipelineJob
    jobs: Sequence[model.PipelineJob]
    workers: Sequence[model.Worker]
    worker: Mapping[str, Any] | None  # the body of the job's Worker, when it exists
    worker_name: str | None
    pod: PodState | None
    now: datetime.datetime

    @property
    def name(self) -> str:
        return self.job.meta.name

    @property
    def namespace(self) -> str:
        return self.job.meta.namespace

    @property
    def worker_type(self) -> str | None:
        spec = self.job.spec
        kind = model.WORKER_TYPE_OF[spec.type] if spec else None
        return str(kind) if kind else None

    @property
    def attempts(self) -> int | None:
        return self.job.spec.retry.limit + 1 if self.job.spec else None

    def patch_worker(self, patch: str) -> str:
        return f"kubectl patch wk {self.worker_name} -n {self.namespace} --type merge -p '{patch}'"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Parts:
    summary: str
    facts: tuple[Fact, ...] = ()
    actions: tuple[str, ...] = ()


def fix_worker(s: Situation, *, reason: str | None) -> tuple[str, ...]:
    """What to do about a Worker whose pods cannot start, from its status reason
    (the health check's CannotStart, or a pod's waiting reason)."""
    edit = f"kubectl edit wk {s.worker_name} -n {s.namespace}"
    kind = health.CannotStart.of(reason)
    if kind is health.CannotStart.IMAGE_PULL:
        return (f"fix the image in the Worker's template (spec.template): {edit}",)
    if kind is health.CannotStart.UNSCHEDULABLE:
        return (
            "no node can take its pods: free capacity, or fix resources, nodeSelector or "
            f"tolerations in the Worker's template: {edit}",
        )
    if kind is health.CannotStart.CONTAINER_CONFIG:
        return (
            "create the Secrets and ConfigMaps its pods refer to, or fix the references "
            f"in the Worker's template: {edit}",
        )
    return (f"fix what the Worker's status names: {edit}",)


def queue_position(s: Situation) -> queue.Position | None:
    return queue.positions(jobs=s.jobs, workers=s.workers).get(s.job.key)


def worker_spec(s: Situation) -> model.WorkerSpec | None:
    return next(
        (
            w.spec
            for w in s.workers
            if w.meta.key == (s.namespace, s.worker_name) and w.spec is not None
        ),
        None,
    )


def queue_facts(s: Situation) -> list[Fact]:
    facts: list[Fact] = []
    position = queue_position(s)
    if position is not None:
        facts.append(
            Fact(
                label="Queue",
                text=f"position {position.position} of {position.of} "
                f"in the queue of Worker {position.worker}",
            )
        )
    if s.worker_name is None:
        return facts
    held = queue.holders(jobs=s.jobs, namespace=s.namespace, worker=s.worker_name)
    spec = worker_spec(s)
    limit = f" of {spec.concurrency}" if spec is not None else ""
    if not held:
        facts.append(Fact(label="Slots", text=f"0{limit} busy"))
        return facts
    names = [_holder(j, now=s.now) for j in held[:MAX_HOLDERS]]
    if len(held) > MAX_HOLDERS:
        names.append(f"+{len(held) - MAX_HOLDERS} more")
    facts.append(Fact(label="Slots", text=f"{len(held)}{limit} busy, held by {', '.join(names)}"))
    return facts


def _holder(job: model.PipelineJob, *, now: datetime.datetime) -> str:
    status = job.status
    what = "starting" if status.reason == Reason.STARTING else "running"
    since = model.parse_time(status.started_at)
    took = f" for {humanize.age(since, now=now)}" if since is not None else ""
    return f"{job.meta.name} ({what}{took})"


def attempt_facts(s: Situation, *, failures_only: bool = False) -> list[Fact]:
    facts = []
    for a in s.job.status.attempts:
        if failures_only and a.result == model.State.SUCCESS:
            continue
        parts = [a.result or "running"]
        if a.reason:
            parts.append(a.reason)
        if a.exit_code is not None:
            parts.append(f"exit code {a.exit_code}")
        text = f"{', '.join(parts)} (Job {a.job})"
        if a.message:
            text += f": {a.message}"
        facts.append(Fact(label=f"Attempt {a.attempt}", text=text))
    return facts
