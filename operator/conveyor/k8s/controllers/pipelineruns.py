"""PipelineRun: creates each ready step's child PipelineJob, follows the
children, cascades revoke and timeout to them, and writes the run's compact
status (core/pipeline/run.py decides, k8s/runs.py reads the store,
k8s/effects.py writes). A child is queued like any PipelineJob: Worker
concurrency and priority apply unchanged."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from conveyor.k8s import runs, store
from conveyor.k8s.controllers import context

Key = store.Key

logger = logging.getLogger("conveyor.controller")


class PipelineRuns:
    def __init__(self, *, ctx: context.Context) -> None:
        self.ctx = ctx

    def round(self, *, now: datetime.datetime) -> None:
        for key in self.ctx.queue.take_runs(busy=self.ctx.effects.inflight):
            # One bad run is quarantined (rate-limited traceback, retried), never the loop.
            with self.ctx.quarantine.guard(
                "deciding on pipelinerun", "/".join(key), retry=self._retry(key)
            ):
                self.advance(key, now=now)

    def _retry(self, key: Key) -> Callable[[float], None]:
        return lambda seconds: self.ctx.queue.later(seconds, "run", key)

    def advance(self, key: Key, *, now: datetime.datetime) -> None:
        body = self.ctx.store.pipelineruns.get(key)
        if body is None:
            return
        decision = runs.decide(st=self.ctx.store, body=body, now=now)
        if decision.wake_at is not None:
            self.ctx.at(decision.wake_at, "run", key)
        if (
            decision.create
            or decision.revoke
            or runs.status_patch(body=body, decision=decision, now=now)
        ):
            self.ctx.effects.apply_run(key, body=body, decision=decision, now=now)
