"""Retry backoff: how long a job waits before its next attempt.

Pure: no I/O. The schedule is data (delay, factor, maxDelay); tests pin it.
"""

from __future__ import annotations

import datetime
import math

from conveyor.core import model


def delay(*, backoff: model.Backoff, failures: int) -> datetime.timedelta:
    """The wait after the `failures`-th failed attempt (1 = after the first).

    delay * factor ** (failures - 1), never more than maxDelay.
    """
    if failures < 1:
        return datetime.timedelta(0)
    base = backoff.delay.total_seconds()
    cap = backoff.max_delay.total_seconds()
    if base <= 0:
        return datetime.timedelta(0)
    if base >= cap:
        return datetime.timedelta(seconds=cap)
    if backoff.factor <= 1:
        return datetime.timedelta(seconds=base)
    # Compare exponents first: factor ** 10**9 would overflow a float.
    if failures - 1 >= math.log(cap / base, backoff.factor):
        return datetime.timedelta(seconds=cap)
    return datetime.timedelta(seconds=min(base * backoff.factor ** (failures - 1), cap))


def schedule(*, backoff: model.Backoff, retries: int) -> list[datetime.timedelta]:
    """The whole schedule for `retries` retries, e.g. [5s, 10s, 20s]."""
    return [delay(backoff=backoff, failures=n) for n in range(1, retries + 1)]
