"""Retry backoff: how long a job waits before its next attempt.

Pure: no I/O. The schedule is data (delay, factor, maxDelay); tests pin it.
"""

from __future__ import annotations

import datetime

from conveyor.core import model


def delay(*, backoff: model.Backoff, failures: int) -> datetime.timedelta:
    """The wait after the `failures`-th failed attempt (1 = after the first).

    delay * factor ** (failures - 1), never more than maxDelay.
    """
    if failures < 1:
        return datetime.timedelta(0)
    base = backoff.delay.total_seconds()
    cap = backoff.max_delay.total_seconds()
    # Cap the exponent first: factor ** 1000 would overflow a float.
    seconds = base
    for _ in range(failures - 1):
        seconds *= backoff.factor
        if seconds >= cap:
            break
    return datetime.timedelta(seconds=min(seconds, cap))


def schedule(*, backoff: model.Backoff, retries: int) -> list[datetime.timedelta]:
    """The whole schedule for `retries` retries, e.g. [5s, 10s, 20s]."""
    return [delay(backoff=backoff, failures=n) for n in range(1, retries + 1)]
