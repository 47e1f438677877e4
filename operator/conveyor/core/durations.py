"""Go-style durations ("500ms", "5s", "1m30s", "2h"), as kubectl users write them.

Pure: no I/O.
"""

from __future__ import annotations

import datetime
import re

from conveyor.core import bounds

# The CRD schema uses the same pattern, so what the API server accepts parses here.
PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"

# The longest duration any field takes (10 years, written 87600h): longer
# than any CI wait, short enough that adding it to a time never overflows.
MAX = datetime.timedelta(hours=87_600)

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_WHOLE = re.compile(PATTERN)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse(text: str) -> datetime.timedelta:
    """Parse a duration; raise ValueError naming the text when malformed or over MAX."""
    shown = bounds.fit(repr(text), limit=80)
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        raise ValueError(f"{shown} is not a duration such as 30s, 5m or 1h30m")
    too_long = f"{shown} is too long a duration (at most {format(MAX)})"
    if len(text) > 64:
        raise ValueError(too_long)
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    if seconds > MAX.total_seconds():
        raise ValueError(too_long)
    return datetime.timedelta(seconds=seconds)


def format(value: datetime.timedelta) -> str:
    """The shortest Go-style text for a duration: 90s -> '1m30s', 0.5s -> '500ms'."""
    total_ms = round(value.total_seconds() * 1000)
    if total_ms == 0:
        return "0s"
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if seconds:
        parts.append(f"{seconds}s")
    if millis:
        parts.append(f"{millis}ms")
    return "".join(parts)
