"""A Worker's health in words, for `conveyor workers` and the dashboard."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from conveyor.core import model
from conveyor.presentation import diagnosis


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
