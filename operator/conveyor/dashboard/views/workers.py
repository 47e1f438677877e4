"""The workers (health) page: each Worker's state, slots busy of its limit,
queue length, heartbeat age, and when it is not ONLINE the cause and an
example pod (the columns of `conveyor workers`, from the same rules)."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import health, model, queue
from conveyor.presentation import diagnosis, humanize
from conveyor.presentation import workers as worker_text

LABEL_WORKER = "conveyor.dev/worker"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    namespace: str
    name: str
    type: str
    state: str
    reason: str
    running: int
    limit: int | None
    queued: int
    oldest: str
    heartbeat: str
    stale: bool
    cause: str
    example_pod: str | None

    @property
    def jobs_href(self) -> str:
        return f"/jobs?namespace={self.namespace}&worker={self.name}"

    @property
    def fraction(self) -> float:
        if not self.limit:
            return 1.0 if self.running else 0.0
        return min(self.running / self.limit, 1.0)


def _waiting_reason(pod: Mapping[str, Any]) -> str | None:
    for c in (pod.get("status") or {}).get("containerStatuses") or ():
        reason = ((c.get("state") or {}).get("waiting") or {}).get("reason")
        if reason:
            return str(reason)
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return str(cond.get("reason") or "")
    return None


def example_pod(*, pods: Sequence[Mapping[str, Any]], namespace: str, worker: str) -> str | None:
    """A pod of this Worker that cannot start (what made it DEGRADED or OFFLINE)."""
    for pod in sorted(pods, key=lambda p: str((p.get("metadata") or {}).get("name"))):
        md = pod.get("metadata") or {}
        if md.get("namespace") != namespace or (md.get("labels") or {}).get(LABEL_WORKER) != worker:
            continue
        reason = _waiting_reason(pod)
        if reason in health.CANNOT_START or reason == health.UNSCHEDULABLE:
            return f"{md.get('name')} ({reason})"
    return None


def rows(
    *,
    workers: Sequence[model.Worker],
    bodies: Sequence[Mapping[str, Any]],
    jobs: Sequence[model.PipelineJob],
    pods: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> list[Row]:
    waiting = queue.waiting_by_worker(jobs=jobs, workers=workers)
    out = []
    for worker, body in sorted(zip(workers, bodies, strict=True), key=lambda p: p[0].key):
        status = body.get("status") or {}
        ns, name = worker.key
        queued = waiting.get(worker.key, [])
        since = [model.parse_time(j.status.queued_at) or j.meta.created_at for j in queued]
        beat = model.parse_time(worker.last_heartbeat)
        state = str(status.get("state") or "-")
        out.append(
            Row(
                namespace=ns,
                name=name,
                type=str((body.get("spec") or {}).get("type") or "-"),
                state=state,
                reason=str(status.get("reason") or ""),
                running=len(queue.holders(jobs=jobs, namespace=ns, worker=name)),
                limit=worker.spec.concurrency if worker.spec else None,
                queued=len(queued),
                oldest=humanize.age(min(since), now=now) if since else "-",
                heartbeat=humanize.age(beat, now=now),
                stale=beat is None or now - beat > diagnosis.STALE_HEARTBEAT,
                cause=worker_text.cause(status=status, heartbeat=beat, now=now),
                example_pod=(
                    example_pod(pods=pods, namespace=ns, worker=name)
                    if state != model.WorkerState.ONLINE
                    else None
                ),
            )
        )
    return out
