"""The cron grammar of spec.schedule and the time zone of spec.timeZone: what both
croniter and CronJob (robfig/cron) accept, and nothing else.

Pure: no I/O.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo

import croniter

UTC = datetime.UTC

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_VALUE = r"([0-9]+|[A-Za-z]{3})"
_ITEM = rf"(\*|\?|{_VALUE}(-{_VALUE})?)(/[0-9]+)?"
_FIELD = rf"{_ITEM}(,{_ITEM})*"
# The CRD schema uses the same pattern (RE2 and Python agree on it).
SCHEDULE_PATTERN = (
    rf"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|{_FIELD}([ \t]+{_FIELD}){{4}})$"
)
_SCHEDULE = re.compile(SCHEDULE_PATTERN)

_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_RANGE = re.compile(rf"^{_VALUE}-{_VALUE}")
# Names count as their numbers, as robfig/cron reads them.
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# The host's own time: CronJob refuses Local (in any case); localtime is its file.
_HOST_ZONES = frozenset({"local", "localtime"})


def check_schedule(value: str) -> str:
    if not _SCHEDULE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a cron schedule: five fields (minute hour day-of-month month"
            " day-of-week), e.g. */15 * * * *, or one of " + ", ".join(MACROS)
        )
    _check_ranges(value)
    try:
        it = croniter.croniter(value, datetime.datetime(2000, 1, 1, tzinfo=UTC))
    except croniter.CroniterError as exc:
        raise ValueError(f"{value!r} is not a valid cron schedule: {exc}") from None
    try:
        it.get_next(datetime.datetime)
    except croniter.CroniterError:
        raise ValueError(f"{value!r} never fires (no month has such a day)") from None
    return value


def _check_ranges(value: str) -> None:
    """A range that runs backwards (1-0) is refused, as CronJob refuses it;
    croniter would read it as the whole field."""
    if value.startswith("@"):
        return
    for field, text in zip(_FIELDS, value.split(), strict=True):
        names = _MONTHS if field == "month" else _DAYS if field == "day-of-week" else {}
        for item in text.split(","):
            match = _RANGE.match(item)
            if match is None:
                continue
            low, high = (_number(v, names=names) for v in match.group(1, 2))
            if low is not None and high is not None and low > high:
                raise ValueError(
                    f"{value!r} is not a valid cron schedule: the {field} range"
                    f" {match.group(0)} runs backwards (its start is after its end)"
                )


def _number(text: str, *, names: dict[str, int]) -> int | None:
    """A field value as a number; None for a name this field does not have
    (croniter refuses it with its own message)."""
    return int(text) if text.isdigit() else names.get(text.lower())


def zone_of(name: str | None) -> datetime.tzinfo:
    """The time zone of spec.timeZone; ValueError naming it if unknown."""
    if not name:
        return UTC
    if name.lower() in _HOST_ZONES:
        raise ValueError(f"{name!r} is not allowed: name an IANA time zone such as Europe/Berlin")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None


def check_zone(value: str | None) -> str | None:
    if not value:
        return None  # "" means UTC, as absent
    zone_of(value)
    return value
