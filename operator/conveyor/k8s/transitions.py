"""A PipelineJob's change of state, as metrics and one log line: what an
operator's reader follows. Recorded when the change is decided to be
written (an admission: when it is assumed)."""

from __future__ import annotations

import logging

from conveyor import metrics
from conveyor.core import model, status

logger = logging.getLogger("conveyor.controller")


def record(*, job: model.PipelineJob, new: model.JobStatus) -> None:
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
