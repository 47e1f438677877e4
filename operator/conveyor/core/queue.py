"""The queues as a person sees them: which jobs wait for a slot of which
Worker, their positions, and which jobs hold the slots.

The operator writes a job's position into its message only now and then (to
save writes); these are computed from a listing, with the operator's own
order (`ordering`) and Worker resolution (`scheduling.resolve_worker`).

Pure: no I/O.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Mapping, Sequence

from conveyor.core import model, ordering, scheduling

Key = tuple[str, str]

# IN-QUEUE reasons of a job that waits for a slot (or for its Worker to take
# jobs again). Delayed and RetryBackoff jobs wait for a time, Starting ones
# hold a slot already.
WAITING_REASONS = frozenset(
    {
        model.Reason.QUEUED,
        model.Reason.NO_WORKER,
        model.Reason.WORKER_PAUSED,
        model.Reason.WORKER_OFFLINE,
        model.Reason.CONCURRENCY_LIMIT,
    }
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Position:
    worker: str
    position: int  # 1 = next to start
    of: int  # jobs waiting for that Worker

    def __str__(self) -> str:
        return f"{self.position}/{self.of}"


def waits_for_slot(job: model.PipelineJob) -> bool:
    """IN-QUEUE and waiting for a Worker slot (not for a time, not starting)."""
    if job.spec is None or job.meta.deleting or model.WORKER_TYPE_OF[job.spec.type] is None:
        return False
    status = job.status
    return status.state is model.State.IN_QUEUE and (
        status.reason is None or status.reason in WAITING_REASONS
    )


def worker_of(*, job: model.PipelineJob, workers: Sequence[model.Worker]) -> str | None:
    """The Worker that runs, ran or will run `job`; None when none can."""
    if not waits_for_slot(job) or job.spec is None:
        return job.status.worker
    resolved = scheduling.resolve_worker(job=job, workers=workers)
    if isinstance(resolved, scheduling.Waiting):
        return None
    return resolved.meta.name


def positions(
    *, jobs: Sequence[model.PipelineJob], workers: Sequence[model.Worker]
) -> dict[Key, Position]:
    """Queue positions of the waiting jobs, per Worker (and namespace)."""
    out: dict[Key, Position] = {}
    for (_, name), queue in waiting_by_worker(jobs=jobs, workers=workers).items():
        for number, job in enumerate(queue, start=1):
            out[job.key] = Position(worker=name, position=number, of=len(queue))
    return out


def holders(
    *, jobs: Sequence[model.PipelineJob], namespace: str, worker: str
) -> list[model.PipelineJob]:
    """The jobs holding a slot of the Worker now, longest-running first."""
    held = [
        j
        for j in jobs
        if j.meta.namespace == namespace and j.status.worker == worker and j.status.holds_slot
    ]
    return sorted(held, key=lambda j: (j.status.started_at or "~", j.meta.name))


def waiting_by_worker(
    *, jobs: Sequence[model.PipelineJob], workers: Sequence[model.Worker]
) -> Mapping[Key, list[model.PipelineJob]]:
    """The waiting jobs of each Worker, in queue order."""
    queues: dict[Key, list[model.PipelineJob]] = collections.defaultdict(list)
    for job in jobs:
        if waits_for_slot(job):
            name = worker_of(job=job, workers=workers)
            if name is not None:
                queues[(job.meta.namespace, name)].append(job)
    return {key: ordering.ordered(queue) for key, queue in queues.items()}
