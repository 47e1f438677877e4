"""A trigger's status: delivery counts, the last delivery, a Ready condition.

Pure, time passed in. The receiver counts outcomes in memory and writes them
about once a second per trigger (200 deliveries in 10 s are a handful of
status writes, not 200): `Pending` holds what has not been written yet,
`patch` adds it to the status the API shows.

Ready is False while the last delivery failed for a reason the trigger's
author must fix (invalid spec, missing Secret, a template that fails), True
otherwise.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping
from typing import Any

from conveyor.core import model


class Count(enum.StrEnum):
    ACCEPTED = "accepted"
    FILTERED = "filtered"
    REFUSED = "refused"


# The reasons that say the trigger, not the sender, is at fault.
TRIGGER_FAULTS = frozenset({"InvalidSpec", "SecretNotFound", "TemplateFailed"})
_MAX_TEXT = 1024


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    count: Count
    result: str  # Created, Redelivered, Filtered, Skipped, Refused, Failed
    reason: str
    message: str
    delivery: str
    event: str = ""
    object: str = ""
    at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": model.format_time(self.at),
            "id": self.delivery[:128],
            "event": self.event[:128],
            "result": self.result,
            "reason": self.reason,
            "object": self.object,
            "message": self.message[:_MAX_TEXT],
        }


@dataclasses.dataclass(kw_only=True)
class Pending:
    """What one trigger's status does not show yet."""

    counts: dict[Count, int] = dataclasses.field(default_factory=dict)
    last: Outcome | None = None

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.count] = self.counts.get(outcome.count, 0) + 1
        if self.last is None or outcome.at >= self.last.at:
            self.last = outcome

    def merge(self, other: Pending) -> None:
        """Give back what a failed write did not write."""
        for count, n in other.counts.items():
            self.counts[count] = self.counts.get(count, 0) + n
        if other.last is not None and (self.last is None or other.last.at > self.last.at):
            self.last = other.last


def patch(
    *, status: Mapping[str, Any], pending: Pending, generation: int, now: datetime.datetime
) -> dict[str, Any]:
    """The new status: counts added, the last delivery and Ready from the newest outcome."""
    out: dict[str, Any] = {
        c.value: int(status.get(c.value) or 0) + pending.counts.get(c, 0) for c in Count
    }
    out["observedGeneration"] = generation
    last = pending.last
    if last is None:
        return out
    out["lastDelivery"] = last.to_dict()
    fault = last.reason in TRIGGER_FAULTS
    ready = "False" if fault else "True"
    before = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    moved = before is None or before.get("status") != ready
    out["conditions"] = [
        {
            "type": "Ready",
            "status": ready,
            "reason": last.reason if fault else "Receiving",
            "message": last.message[:_MAX_TEXT] if fault else "deliveries are verified and handled",
            "observedGeneration": generation,
            "lastTransitionTime": model.format_time(now)
            if moved or before is None
            else before.get("lastTransitionTime") or model.format_time(now),
        }
    ]
    return out
