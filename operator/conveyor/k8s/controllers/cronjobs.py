"""PipelineCronJob: creates the runs a schedule calls for, revokes and
prunes its own children, and writes its status (core/cron.py decides,
k8s/crons.py reads the store, k8s/effects.py writes)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from conveyor.k8s import crons, store
from conveyor.k8s.controllers import context

Key = store.Key

logger = logging.getLogger("conveyor.controller")


class CronJobs:
    def __init__(self, *, ctx: context.Context) -> None:
        self.ctx = ctx

    def round(self, *, now: datetime.datetime) -> None:
        for key in self.ctx.queue.take_crons(busy=self.ctx.effects.inflight):
            with self.ctx.quarantine.guard("scheduling", "/".join(key), retry=self._retry(key)):
                self.advance(key, now=now)

    def _retry(self, key: Key) -> Callable[[float], None]:
        return lambda seconds: self.ctx.queue.later(seconds, "cron", key)

    def advance(self, key: Key, *, now: datetime.datetime) -> None:
        body = self.ctx.store.cronjobs.get(key)
        if body is None:
            return
        try:
            children = crons.children_of(self.ctx.store, key)
            decision = crons.decide(body=body, children=children, now=now)
        except Exception:  # never let one object stop the loop
            logger.exception("scheduling %s/%s failed", *key)
            return
        if decision.wake_at is not None:
            self.ctx.at(decision.wake_at, "cron", key)
        self.ctx.effects.apply_cron(key, body=body, decision=decision, now=now)
