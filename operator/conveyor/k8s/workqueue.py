"""What the control loop looks at next: dirty jobs, namespaces that need an
admission pass, and PipelineCronJobs, now or after a delay.

Watch events, timers and finished writes only mark things here; the loop
takes them in rounds (like client-go's delaying work queue, without rate
limits: a round looks at each marked thing once, however often it was marked).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Callable
from typing import Literal

Key = tuple[str, str]
Kind = Literal["job", "namespace", "cron"]


class WorkQueue:
    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic  # the shell's clock (k8s/clock.py); fake in tests
        self.jobs: set[Key] = set()
        self.namespaces: set[str] = set()
        self.crons: set[Key] = set()
        self._timers: list[tuple[float, int, Kind, Key | str]] = []
        self._seq = 0
        self._wakeup = asyncio.Event()

    def job(self, key: Key) -> None:
        self.jobs.add(key)
        self._wakeup.set()

    def namespace(self, namespace: str) -> None:
        self.namespaces.add(namespace)
        self._wakeup.set()

    def cron(self, key: Key) -> None:
        self.crons.add(key)
        self._wakeup.set()

    def later(self, seconds: float, kind: Kind, target: Key | str) -> None:
        """Mark `target` after `seconds` (monotonic time)."""
        self._seq += 1
        deadline = self._monotonic() + max(seconds, 0.0)
        heapq.heappush(self._timers, (deadline, self._seq, kind, target))
        self._wakeup.set()

    def wake(self) -> None:
        self._wakeup.set()

    async def wait(self, *, busy: set[Key]) -> None:
        """Until something is marked that is not `busy` (has no write in flight;
        its write's end wakes us), or the next timer is due; then move due
        timers into the marks. Always yields once, so the loop never spins."""
        timeout = max(self._timers[0][0] - self._monotonic(), 0) if self._timers else None
        await asyncio.sleep(0)
        if not (self.jobs - busy or self.namespaces or self.crons - busy):
            # Not asyncio.wait_for: on Python 3.11 it returns normally when a
            # cancellation arrives just as the event is set, and the loop it
            # was meant to stop goes on (a deposed leader kept deciding).
            # asyncio.timeout only turns its own expiry into TimeoutError.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
        self._wakeup.clear()
        now = self._monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, target = heapq.heappop(self._timers)
            if kind == "namespace" and isinstance(target, str):
                self.namespaces.add(target)
            elif kind == "cron" and isinstance(target, tuple):
                self.crons.add(target)
            elif kind == "job" and isinstance(target, tuple):
                self.jobs.add(target)

    def take_jobs(self, *, busy: set[Key]) -> set[Key]:
        taken = self.jobs - busy
        self.jobs -= taken
        return taken

    def take_namespaces(self) -> set[str]:
        taken, self.namespaces = self.namespaces, set()
        return taken

    def take_crons(self, *, busy: set[Key]) -> set[Key]:
        taken = self.crons - busy
        self.crons -= taken
        return taken
