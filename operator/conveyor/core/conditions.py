"""kstatus conditions, built the same way for every kind (PipelineJob, Worker,
PipelineCronJob).

Each kind says which condition types are True (Ready, Reconciling, Stalled, as
kstatus, Flux and Argo CD read them); this builds them with the API
conventions' fields. lastTransitionTime moves only when a condition's status
changes, so rewriting the same status is a no-op.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model


def build(
    *,
    wanted: Mapping[str, bool],
    reason: str,
    message: str,
    generation: int,
    previous: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    """One condition per type in `wanted` (in its order), True where it says so."""
    old = {c.get("type"): c for c in previous}
    out = []
    for type_, true in wanted.items():
        value = "True" if true else "False"
        before = old.get(type_) or {}
        kept = before.get("status") == value
        out.append(
            {
                "type": type_,
                "status": value,
                "reason": reason,
                "message": message,
                "observedGeneration": generation,
                "lastTransitionTime": (before.get("lastTransitionTime") if kept else None)
                or model.format_time(now),
            }
        )
    return out


def status_dict(
    *, fields: Mapping[str, Any], conditions: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A status to write: `fields` in their order without the None ones (a
    field absent, not null), then `conditions` last."""
    out = {k: v for k, v in fields.items() if v is not None}
    out["conditions"] = [dict(c) for c in conditions]
    return out
