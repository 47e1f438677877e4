"""The one clock of the shell: wall time (what statuses and schedules are
written in) and monotonic time (what intervals and timers are measured in).

Injected everywhere, so unit tests run on fake time. The scaled wall clock
exists for the cron e2e tests only (hidden `--time-scale` flag): a scheduled
minute passes in a few real seconds, and processes given the same anchor
agree on the time.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable


class Clock:
    def __init__(
        self,
        *,
        scale: float = 1.0,
        anchor: float = 0.0,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scale = scale
        self._anchor = anchor
        self._wall = wall
        self._monotonic = monotonic

    def now(self) -> datetime.datetime:
        """Wall time, scaled around the anchor (scale 1: the real time)."""
        seconds = self._wall()
        if self.scale != 1.0:
            seconds = self._anchor + (seconds - self._anchor) * self.scale
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)

    def monotonic(self) -> float:
        return self._monotonic()

    def real_seconds(self, wall: datetime.timedelta | float) -> float:
        """How long a span of (maybe scaled) wall time lasts in real seconds."""
        seconds = wall.total_seconds() if isinstance(wall, datetime.timedelta) else wall
        return seconds / self.scale
