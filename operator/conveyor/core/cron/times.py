"""Schedule times of a cron expression in a time zone, with daylight saving
time handled as the package docstring says.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime

import croniter

from conveyor.core.cron import cronspec

UTC = datetime.UTC


# croniter searches forward without a bound on skipped wall times; we cap ours.
_GUARD = 1000


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Schedule times of a cron expression in a zone, as aware UTC datetimes.

    Everything is converted to UTC at once: aware datetimes sharing a tzinfo
    compare by wall time, ignoring `fold`, which is wrong in a repeated hour.
    """

    expr: str
    zone: datetime.tzinfo = UTC

    @classmethod
    def of(cls, spec: cronspec.CronSpec) -> Schedule:
        return cls(spec.schedule, spec.zone)

    def _iter(self, start: datetime.datetime) -> croniter.croniter[datetime.datetime]:
        return croniter.croniter(self.expr, start.astimezone(self.zone))

    def _fixed_hours(self) -> bool:
        return croniter.croniter(self.expr).expanded[croniter.HOUR_FIELD] != ["*"]

    def _counts(self, when: datetime.datetime) -> bool:
        """False for the second occurrence of a repeated wall time, if hours are named."""
        local = when.astimezone(self.zone)  # sets fold=1 on the second occurrence
        if not local.fold or local.replace(fold=0).utcoffset() == local.utcoffset():
            return True
        return not self._fixed_hours()

    def next_after(self, when: datetime.datetime) -> datetime.datetime | None:
        """The first schedule time strictly after `when`."""
        it = self._iter(when)
        for _ in range(_GUARD):
            try:
                candidate = it.get_next(datetime.datetime).astimezone(UTC)
            except croniter.CroniterError:
                return None
            if candidate > when and self._counts(candidate):
                return candidate
        return None

    def latest(
        self, *, after: datetime.datetime, until: datetime.datetime
    ) -> datetime.datetime | None:
        """The last schedule time in (after, until], without walking all of them."""
        first = self.next_after(after)
        if first is None or first > until:
            return None  # the common case: nothing due yet
        second = self.next_after(first)
        if second is None or second > until:
            return first
        it = self._iter(until)
        found: datetime.datetime | None = None
        for _ in range(_GUARD):
            try:
                candidate = it.get_prev(datetime.datetime).astimezone(UTC)
            except croniter.CroniterError:
                break
            if candidate < until and self._counts(candidate):
                found = candidate
                break
        # get_prev is strictly before; a time exactly at `until` counts too.
        probe = self.next_after(found if found is not None else after)
        while probe is not None and probe <= until:
            found = probe
            probe = self.next_after(probe)
        return found if found is not None and found > after else None

    def count(self, *, after: datetime.datetime, until: datetime.datetime, limit: int) -> int:
        """How many schedule times lie in (after, until], counting at most `limit`."""
        n = 0
        when: datetime.datetime | None = after
        while n < limit and when is not None:
            when = self.next_after(when)
            if when is None or when > until:
                break
            n += 1
        return n
