"""The workers (health) page: each Worker's state, slots busy of its limit,
queue length, heartbeat age, and when it is not ONLINE the cause and an
example pod (the columns of `conveyor workers`, from the same rules)."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import health, model
from conveyor.presentation import workers as worker_text

LABEL_WORKER = "conveyor.dev/worker"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row(worker_text.Health):
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
    return [
        Row(
            **dataclasses.asdict(h),
            example_pod=(
                example_pod(pods=pods, namespace=h.namespace, worker=h.name)
                if h.state != model.WorkerState.ONLINE
                else None
            ),
        )
        for h in worker_text.health(workers=workers, bodies=bodies, jobs=jobs, now=now)
    ]
