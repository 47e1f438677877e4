"""A PipelineCronJob's status as the core reads and writes it, with its
kstatus conditions.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import conditions


class Reason(enum.StrEnum):
    SCHEDULED = "Scheduled"
    SKIPPED_FORBID = "SkippedForbid"
    MISSED_SCHEDULE = "MissedSchedule"
    TOO_MANY_MISSED = "TooManyMissed"
    SUSPENDED = "Suspended"
    TOO_MANY_FAILURES = "TooManyFailures"
    INVALID_SPEC = "InvalidSpec"


# Reasons describing what happened at the last processed schedule time: they
# stay in status until the next one is processed (or the next time changes).
OUTCOMES = frozenset(
    {Reason.SCHEDULED, Reason.SKIPPED_FORBID, Reason.MISSED_SCHEDULE, Reason.TOO_MANY_MISSED}
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CronStatus:
    """status of a PipelineCronJob, as the core reads and writes it."""

    last_schedule_time: str | None = None
    last_successful_time: str | None = None
    next_schedule_time: str | None = None
    active: tuple[str, ...] = ()
    last_result: str | None = None  # SUCCESS | FAILED | REVOKED: the newest finished run
    consecutive_failures: int = 0
    # Schedule time (RFC 3339) of the newest finished run already counted.
    last_counted: str | None = None
    suspended: bool = False  # auto-suspended (TooManyFailures); spec.suspend is the user's
    # metadata.generation when auto-suspended; a later one with spec.suspend false resumes.
    suspended_generation: int | None = None
    reason: str | None = None
    message: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CronStatus:
        data = data or {}

        def integer(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            last_schedule_time=data.get("lastScheduleTime") or None,
            last_successful_time=data.get("lastSuccessfulTime") or None,
            next_schedule_time=data.get("nextScheduleTime") or None,
            active=tuple(str(a) for a in data.get("active") or ()),
            last_result=data.get("lastResult") or None,
            consecutive_failures=integer("consecutiveFailures") or 0,
            last_counted=data.get("lastCounted") or None,
            suspended=data.get("suspended") is True,
            suspended_generation=integer("suspendedGeneration"),
            reason=data.get("reason") or None,
            message=data.get("message") or None,
        )

    @property
    def stalled(self) -> bool:
        """It will not schedule again without a person changing the spec."""
        return self.suspended or self.reason == Reason.INVALID_SPEC

    def to_dict(
        self,
        *,
        generation: int,
        previous_conditions: Sequence[Mapping[str, Any]],
        now: datetime.datetime,
    ) -> dict[str, Any]:
        fields = {
            "lastScheduleTime": self.last_schedule_time,
            "lastSuccessfulTime": self.last_successful_time,
            "nextScheduleTime": self.next_schedule_time,
            "active": list(self.active),
            "activeCount": len(self.active),  # for the printer column
            "lastResult": self.last_result,
            "consecutiveFailures": self.consecutive_failures,
            "lastCounted": self.last_counted,
            "suspended": self.suspended,
            "suspendedGeneration": self.suspended_generation,
            "reason": str(self.reason) if self.reason else None,
            "message": self.message,
            "observedGeneration": generation,
        }
        return conditions.status_dict(
            fields=fields,
            conditions=self.conditions(
                generation=generation, previous=previous_conditions, now=now
            ),
        )

    def conditions(
        self,
        *,
        generation: int,
        previous: Sequence[Mapping[str, Any]],
        now: datetime.datetime,
    ) -> list[dict[str, Any]]:
        """kstatus: Ready True while it schedules as the spec says (spec.suspend
        included: that is the user's wish); Stalled True when auto-suspended or
        invalid, until a person changes the spec."""
        wanted = {"Ready": not self.stalled, "Stalled": self.stalled}
        return conditions.build(
            wanted=wanted,
            reason=str(self.reason or Reason.SCHEDULED),
            message=self.message or "",
            generation=generation,
            previous=previous,
            now=now,
        )
