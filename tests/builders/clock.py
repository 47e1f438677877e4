"""The fixed clock and namespace the builders and unit tests share."""

from __future__ import annotations

import datetime

from conveyor.core import model

NAMESPACE = "team-a"
T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def at(seconds: float = 0, *, minutes: float = 0, hours: float = 0) -> datetime.datetime:
    """T0 plus an offset: `at(5)` is five seconds after T0, `at(minutes=-1)` one before."""
    return T0 + datetime.timedelta(seconds=seconds, minutes=minutes, hours=hours)


def ts(when: datetime.datetime) -> str:
    """A time as Kubernetes writes it (RFC 3339, UTC, seconds)."""
    return model.format_time(when)
