"""Ages and durations for people: "45s", "3m12s", "5h", "3d4h", as `kubectl get`
prints them (apimachinery's HumanDuration).

Pure: no I/O; times are passed in.
"""

from __future__ import annotations

import datetime
import math

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_YEAR = 365 * _DAY


def duration(value: datetime.timedelta) -> str:
    """A rounded, short duration; negative ones (clock skew) are 0s."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        return "0s"
    if seconds < 2 * _MINUTE:
        return f"{seconds}s"
    minutes = seconds // _MINUTE
    if minutes < 10:
        return _pair(minutes, "m", seconds % _MINUTE, "s")
    if minutes < 3 * 60:
        return f"{minutes}m"
    hours = seconds // _HOUR
    if hours < 8:
        return _pair(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    days = seconds // _DAY
    if hours < 24 * 8:
        return _pair(days, "d", hours % 24, "h")
    if days < 365 * 2:
        return f"{days}d"
    years = seconds // _YEAR
    if years < 8:
        return _pair(years, "y", days % 365, "d")
    return f"{years}y"


def _pair(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big}{big_unit}{small}{small_unit}" if small else f"{big}{big_unit}"


def age(when: datetime.datetime | None, *, now: datetime.datetime) -> str:
    """How long ago `when` was; "-" when unknown."""
    return duration(now - when) if when is not None else "-"


def between(
    start: datetime.datetime | None, end: datetime.datetime | None, *, now: datetime.datetime
) -> str:
    """From start to end (to now while still going); "-" before it started."""
    if start is None:
        return "-"
    return duration((end or now) - start)


def until(when: datetime.datetime, *, now: datetime.datetime) -> str:
    """ "in 5s" for the future, "now" when it is due."""
    if when <= now:
        return "now"
    # Round up: "in 0s" would read as due.
    seconds = math.ceil((when - now).total_seconds())
    return f"in {duration(datetime.timedelta(seconds=seconds))}"
