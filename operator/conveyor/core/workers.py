"""A Worker's status: its state, slots in use, queue length, heartbeat.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from conveyor.core import conditions, model
from conveyor.core import health as health_

# How often the operator proves it is alive on each Worker.
HEARTBEAT_INTERVAL = datetime.timedelta(seconds=30)


def status(
    *,
    worker: model.Worker,
    running: int,
    queued: int,
    now: datetime.datetime,
    previous: Mapping[str, Any],
    health: health_.Health | None = None,
) -> dict[str, Any]:
    """The Worker's status; lastHeartbeat is refreshed only when it is due,
    so an idle Worker costs one write per HEARTBEAT_INTERVAL."""
    spec = worker.spec
    if spec is None:
        state, reason = model.WorkerState.OFFLINE, "InvalidSpec"
        message = str(worker.spec_error) if worker.spec_error else "invalid spec"
    elif spec.paused:
        state, reason = model.WorkerState.PAUSED, "Paused"
        message = f"paused: {running} running job(s) finish, {queued} wait"
    elif health is not None and health.state is not model.WorkerState.ONLINE:
        state, reason, message = health.state, health.reason, health.message
    else:
        state, reason = model.WorkerState.ONLINE, "Ready"
        message = f"{running} of {spec.concurrency} slots busy, {queued} queued"
    last = model.parse_time(previous.get("lastHeartbeat"))
    heartbeat = (
        previous.get("lastHeartbeat")
        if last is not None and now - last < HEARTBEAT_INTERVAL
        else model.format_time(now)
    )
    # kstatus reading: ONLINE and PAUSED (what the user asked for) are Ready;
    # an unreadable spec is Stalled (it will not get better by itself);
    # DEGRADED and OFFLINE are in progress (they mend when pods can start).
    wanted = {
        "Ready": state in (model.WorkerState.ONLINE, model.WorkerState.PAUSED),
        "Stalled": spec is None,
    }
    conditions_ = conditions.build(
        wanted=wanted,
        reason=reason,
        message=message,
        generation=worker.meta.generation,
        previous=previous.get("conditions") or (),
        now=now,
    )
    return {
        "state": str(state),
        "reason": reason,
        "message": message,
        "running": running,
        "queued": queued,
        "lastHeartbeat": heartbeat,
        "observedGeneration": worker.meta.generation,
        "conditions": conditions_,
    }
