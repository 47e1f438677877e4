"""Transient API failures (connection errors, 429/5xx, a write refused to a
replica that may not act): retried, so logged as one WARNING line per kind
and interval with a count, not a traceback each.

During an API server restart every write and every watch fails for a while;
a traceback per failure buries the one line that matters. Everything else
is still the caller's to log in full.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable

import aiohttp

from conveyor.k8s import api

INTERVAL = 10.0  # seconds between two lines about the same kind of failure


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, api.ApiError):
        return exc.status == 0 or exc.status in api.RETRIABLE
    return isinstance(exc, aiohttp.ClientConnectionError | TimeoutError)


@dataclasses.dataclass
class _Count:
    count: int = 0
    since: float = -math.inf  # when it was last logged (monotonic)


class Tally:
    """Counts failures by what failed; says so at most once per interval."""

    def __init__(
        self,
        *,
        logger: logging.Logger,
        interval: float = INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._monotonic = monotonic
        self._counts: dict[str, _Count] = {}

    def due(self, what: str) -> int | None:
        """Count one failure of `what`; the failures to report now, or None."""
        entry = self._counts.setdefault(what, _Count())
        entry.count += 1
        now = self._monotonic()
        if now - entry.since < self._interval:
            return None
        count, entry.count, entry.since = entry.count, 0, now
        return count

    def failed(self, what: str, exc: BaseException) -> None:
        count = self.due(what)
        if count is not None:
            self._logger.warning(
                "%s: %d transient failure%s in the last %.0fs, retrying; last: %s",
                what,
                count,
                "" if count == 1 else "s",
                self._interval,
                exc,
            )


class KopfRetries(logging.Filter):
    """kopf logs each retried attempt of its watch and list requests at
    ERROR ("Request attempt #2/7 failed; will retry: ..."); pass one of them
    per interval, as a WARNING with the count."""

    def __init__(self, *, tally: Tally) -> None:
        super().__init__()
        self._tally = tally

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("kopf") or "failed; will retry" not in str(record.msg):
            return True
        count = self._tally.due("kopf API requests")
        if count is None:
            return False
        record.msg = f"{record.getMessage()} ({count} retried attempts in the last {INTERVAL:.0f}s)"
        record.args = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
