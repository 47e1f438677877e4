"""A Worker's health in words, for `conveyor workers` and the dashboard."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model, queue
from conveyor.presentation import diagnosis, humanize


@dataclasses.dataclass(frozen=True, kw_only=True)
class Health:
    """One Worker's columns: state, slots busy of its limit, queue, heartbeat."""

    namespace: str
    name: str
    type: str
    state: str
    reason: str
    running: int
    limit: int | None
    queued: int
    oldest: str  # age of the longest-waiting job
    heartbeat: str
    stale: bool
    cause: str
    paused: bool


def cause(
    *, status: Mapping[str, Any], heartbeat: datetime.datetime | None, now: datetime.datetime
) -> str:
    """Why a Worker is not simply ONLINE (and whether the operator looks down)."""
    if not status:
        return "no status: the operator has not seen this Worker"
    parts = []
    if status.get("state") != model.WorkerState.ONLINE:
        parts.append(str(status.get("message") or status.get("reason") or ""))
    if heartbeat is None or now - heartbeat > diagnosis.STALE_HEARTBEAT:
        parts.append("heartbeat stale: the operator seems down")
    return "; ".join(p for p in parts if p)


def health(
    *,
    workers: Sequence[model.Worker],
    bodies: Sequence[Mapping[str, Any]],
    jobs: Sequence[model.PipelineJob],
    now: datetime.datetime,
) -> list[Health]:
    """One Health per Worker (`bodies` are the Workers as read), by namespace
    and name; the counts come from the jobs."""
    waiting = queue.waiting_by_worker(jobs=jobs, workers=workers)
    out = []
    for worker, body in sorted(zip(workers, bodies, strict=True), key=lambda p: p[0].key):
        status = body.get("status") or {}
        ns, name = worker.key
        queued = waiting.get(worker.key, [])
        since = [model.parse_time(j.status.queued_at) or j.meta.created_at for j in queued]
        beat = model.parse_time(worker.last_heartbeat)
        out.append(
            Health(
                namespace=ns,
                name=name,
                type=str((body.get("spec") or {}).get("type") or "-"),
                state=str(status.get("state") or "-"),
                reason=str(status.get("reason") or ""),
                running=len(queue.holders(jobs=jobs, namespace=ns, worker=name)),
                limit=worker.spec.concurrency if worker.spec else None,
                queued=len(queued),
                oldest=humanize.age(min(since), now=now) if since else "-",
                heartbeat=humanize.age(beat, now=now),
                stale=beat is None or now - beat > diagnosis.STALE_HEARTBEAT,
                cause=cause(status=status, heartbeat=beat, now=now),
                paused=bool(worker.spec.paused) if worker.spec else False,
            )
        )
    return out
