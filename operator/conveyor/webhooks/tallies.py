"""Trigger status, written about once a second per trigger (core: triggers.tally).

Each write reads the trigger, adds what was counted since the last write, and
patches status against that resourceVersion: a conflict (another replica, a
user's edit) gives the counts back for the next round, so none is lost or
counted twice. A trigger deleted meanwhile drops its counts.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable

from conveyor.core import model
from conveyor.k8s import api
from conveyor.triggers import tally
from conveyor.webhooks import cluster

log = logging.getLogger("conveyor.webhooks")
Key = tuple[str, str]


class Tallies:
    def __init__(
        self,
        *,
        cluster: cluster.Cluster,
        clock: Callable[[], datetime.datetime],
        interval: float = 1.0,
    ) -> None:
        self._cluster = cluster
        self._clock = clock
        self._interval = interval
        self._pending: dict[Key, tally.Pending] = {}

    def record(self, *, namespace: str, name: str, outcome: tally.Outcome) -> None:
        self._pending.setdefault((namespace, name), tally.Pending()).add(outcome)

    async def run(self) -> None:
        """Write forever, every `interval` seconds (cancel to stop; then call flush)."""
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for key, counts in pending.items():
            try:
                await self._write(key, counts)
            except api.ApiError as exc:
                if not exc.conflict:
                    log.warning("status of trigger %s/%s not written: %s", *key, exc)
                self._pending.setdefault(key, tally.Pending()).merge(counts)
            except Exception:  # never stop writing: the counts wait for the next round
                log.exception("status of trigger %s/%s not written", *key)
                self._pending.setdefault(key, tally.Pending()).merge(counts)

    async def _write(self, key: Key, counts: tally.Pending) -> None:
        namespace, name = key
        body = await self._cluster.trigger(namespace=namespace, name=name)
        if body is None:
            return
        meta = model.Meta.from_body(body)
        status = tally.patch(
            status=body.get("status") or {},
            pending=counts,
            generation=meta.generation,
            now=self._clock(),
        )
        await self._cluster.patch_status(
            namespace=namespace, name=name, resource_version=meta.resource_version, status=status
        )
