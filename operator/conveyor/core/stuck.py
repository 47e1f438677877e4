"""Stuck-queue detection: a job that waits while its Worker has a free slot.

By construction the scheduler admits such a job at once; one waiting longer
than a threshold means the operator's view is wrong (a lost event, a bug).
It is counted, logged and reported, never silently tolerated.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from conveyor.core import model

THRESHOLD = datetime.timedelta(minutes=1)
_WAITING_FOR_A_SLOT = {model.Reason.QUEUED, model.Reason.CONCURRENCY_LIMIT}


def find(
    *,
    jobs: Iterable[model.PipelineJob],
    workers: Mapping[str, model.Worker],
    running: Mapping[str, int],
    now: datetime.datetime,
    threshold: datetime.timedelta = THRESHOLD,
) -> list[model.PipelineJob]:
    """Jobs of one namespace waiting for a slot longer than `threshold` while
    their Worker (by status.worker) is neither paused nor full."""
    stuck = []
    for job in jobs:
        status = job.status
        if status.state is not model.State.IN_QUEUE or status.reason not in _WAITING_FOR_A_SLOT:
            continue
        worker = workers.get(status.worker or "")
        if worker is None or worker.spec is None or worker.spec.paused:
            continue
        if worker.state not in (None, model.WorkerState.ONLINE):
            continue
        if running.get(worker.meta.name, 0) >= worker.spec.concurrency:
            continue
        queued_at = model.parse_time(status.queued_at)
        if queued_at is not None and now - queued_at > threshold:
            stuck.append(job)
    return stuck
