"""A PipelineJob's status as written to the API: fields, kstatus-compatible
conditions, and the smallest merge patch from the old status to the new.

Conditions follow the Kubernetes API conventions as kstatus reads them:
Ready (True on SUCCESS), Reconciling (True while queued or running), Stalled
(True when FAILED or REVOKED: it will not progress any further). So
`kubectl wait --for=condition=Ready`, Flux and Argo CD health checks work.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import bounds, model
from conveyor.core import conditions as conditions_

State = model.State


def to_dict(
    *,
    status: model.JobStatus,
    generation: int,
    previous_conditions: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "state": str(status.state) if status.state else None,
        "reason": str(status.reason) if status.reason else None,
        # Cut to what a condition's message may hold (32768), so a write never 422s.
        "message": None if status.message is None else bounds.fit(status.message),
        "worker": status.worker,
        "attempt": status.attempt,
        "job": status.job,
        "queuedAt": status.queued_at,
        "startedAt": status.started_at,
        "finishedAt": status.finished_at,
        "nextAttemptAt": status.next_attempt_at,
        "attempts": [a.to_dict() for a in status.attempts],
        "outputs": dict(status.outputs),
        "observedGeneration": generation,
        "workerGeneration": status.worker_generation,
    }
    out["conditions"] = conditions(
        status=status, generation=generation, previous=previous_conditions, now=now
    )
    return {k: v for k, v in out.items() if v is not None}


def conditions(
    *,
    status: model.JobStatus,
    generation: int,
    previous: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    reason = str(status.reason or status.state or "Unknown")
    message = bounds.fit(status.message or "")
    state = status.state
    wanted = {
        "Ready": state is State.SUCCESS,
        "Reconciling": state in (State.IN_QUEUE, State.RUNNING),
        "Stalled": state in (State.FAILED, State.REVOKED),
    }
    return conditions_.build(
        wanted=wanted,
        reason=reason,
        message=message,
        generation=generation,
        previous=previous,
        now=now,
    )


def merge_patch(*, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level merge patch turning `old` into `new` (None deletes a key)."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        if old.get(key) != value:
            patch[key] = value
    for key in old:
        if key not in new:
            patch[key] = None
    return patch


@dataclasses.dataclass(frozen=True, kw_only=True)
class AttemptTimes:
    waiting_since: datetime.datetime | None  # IN-QUEUE from then until `start`
    start: datetime.datetime | None
    finish: datetime.datetime | None


def attempt_times(status: model.JobStatus) -> AttemptTimes:
    """The current attempt's times, for the queue-wait and run-time metrics.

    The first attempt waits from queuedAt; a retry from the end of the
    attempt before it (its backoff included), not from the first queuing.
    """
    if not status.attempts:  # a status written before attempts were recorded
        return AttemptTimes(
            waiting_since=model.parse_time(status.queued_at),
            start=model.parse_time(status.started_at),
            finish=model.parse_time(status.finished_at),
        )
    current = status.attempts[-1]
    since = status.attempts[-2].finish if len(status.attempts) > 1 else status.queued_at
    return AttemptTimes(
        waiting_since=model.parse_time(since),
        start=model.parse_time(current.start),
        finish=model.parse_time(current.finish),
    )
