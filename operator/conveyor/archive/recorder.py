"""The recorder: fed by any watch (the dashboard's, or `conveyor archive`'s),
it writes each finished PipelineJob and PipelineRun to the archive.

The hook is two calls, both cheap and synchronous (they only queue):
- `observe(kind=..., body=...)` for every watch event (DELETED included: its
  body is the object's last state, so even a job deleted before we wrote it
  is kept);
- `catch_up(kind=..., items=...)` for every full listing (at start and after
  a broken watch): finished objects the archive lacks were missed while
  nothing watched; they are written and counted (conveyor_archive_caught_up).
`run()` writes what was queued (in a thread: SQLAlchemy is synchronous),
applies the retention, and refreshes the DORA gauges.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from conveyor.archive import deliveries, metrics, record, store

log = logging.getLogger("conveyor.archive")

# The watch kinds (plural, as the dashboard names them) and record kinds.
KINDS = {
    "pipelinejobs": record.PIPELINEJOB,
    "pipelineruns": record.PIPELINERUN,
    record.PIPELINEJOB: record.PIPELINEJOB,
    record.PIPELINERUN: record.PIPELINERUN,
}
RETENTION = datetime.timedelta(days=90)
WINDOW = datetime.timedelta(days=30)  # of the insights gauges
FLUSH_SECONDS = 0.5  # how long a record may wait to be batched with others
MAINTENANCE_SECONDS = 300.0  # retention delete and gauges
RETRY_SECONDS = 5.0

Clock = Callable[[], datetime.datetime]


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Recorder:
    def __init__(
        self,
        *,
        archive: store.Archive,
        clock: Clock = _utcnow,
        retention: datetime.timedelta = RETENTION,
        window: datetime.timedelta = WINDOW,
    ) -> None:
        self.archive = archive
        self._clock = clock
        self.retention = retention
        self.window = window
        self._observed: dict[str, record.Record] = {}
        self._caught: dict[str, record.Record] = {}
        self._seen: dict[str, str] = {}  # uid -> fingerprint of what was queued last
        self._wake: asyncio.Event | None = None

    @property
    def pending(self) -> int:
        return len(self._observed) + len(self._caught)

    def observe(self, *, kind: str, body: Mapping[str, Any], event: str = "") -> None:
        """One watch event; anything but a finished job or run is ignored."""
        found = self._record(kind=kind, body=body)
        if found is not None:
            self._observed[found.uid] = found
            self._poke()
        if event == "DELETED":
            uid = str((body.get("metadata") or {}).get("uid") or "")
            self._seen.pop(uid, None)

    def catch_up(self, *, kind: str, items: Iterable[Mapping[str, Any]]) -> None:
        """A full listing of `kind`: queue every finished object in it."""
        if kind not in KINDS:
            return
        for body in items:
            found = self._record(kind=kind, body=body, listing=True)
            if found is not None:
                self._caught[found.uid] = found
        self._poke()

    def _record(
        self, *, kind: str, body: Mapping[str, Any], listing: bool = False
    ) -> record.Record | None:
        if kind not in KINDS or not record.finished(body):
            return None
        found = record.from_body(kind=KINDS[kind], body=body)
        if found is None:
            return None
        mark = _fingerprint(found)
        # A listing repeats what the watch saw; the archive decides what is new.
        if not listing and self._seen.get(found.uid) == mark:
            return None
        self._seen[found.uid] = mark
        return found

    def _poke(self) -> None:
        metrics.PENDING.set(self.pending)
        if self._wake is not None:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything queued; on failure it stays queued (and raises)."""
        caught, self._caught = self._caught, {}
        observed, self._observed = self._observed, {}
        try:
            if caught:
                await self._write(list(caught.values()), caught_up=True)
                caught = {}
            if observed:
                await self._write(list(observed.values()), caught_up=False)
                observed = {}
        finally:
            # Whatever was not written goes back, behind nothing newer.
            self._caught = {**caught, **self._caught}
            self._observed = {**observed, **self._observed}
            metrics.PENDING.set(self.pending)

    async def _write(self, records: list[record.Record], *, caught_up: bool) -> None:
        now = self._clock()
        by_kind: dict[str, list[record.Record]] = {}
        for r in records:
            by_kind.setdefault(r.kind, []).append(r)
        for kind, batch in by_kind.items():
            new = await asyncio.to_thread(self.archive.write, batch, now=now)
            metrics.RECORDED.labels(kind).inc(new)
            if caught_up:
                metrics.CAUGHT_UP.labels(kind).inc(new)
                log.info(
                    "archive: caught up %d %s record(s) missed while not watching "
                    "(%d finished in the listing)",
                    new,
                    kind,
                    len(batch),
                )

    async def maintain(self) -> None:
        """The retention delete, then the DORA gauges from what is left."""
        now = self._clock()
        pruned = await asyncio.to_thread(self.archive.prune, before=now - self.retention)
        metrics.PRUNED.inc(pruned)
        if pruned:
            log.info(
                "archive: retention deleted %d record(s) older than %s", pruned, self.retention
            )
        report = await asyncio.to_thread(
            deliveries.report, archive=self.archive, since=now - self.window, until=now
        )
        deliveries.export(report)

    async def run(self, *, maintenance_seconds: float = MAINTENANCE_SECONDS) -> None:
        """Until cancelled: write what comes, and maintain now and then."""
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        next_maintenance = loop.time()
        try:
            while True:
                if loop.time() >= next_maintenance:
                    await self._guarded("maintain", self.maintain)
                    next_maintenance = loop.time() + maintenance_seconds
                if self.pending:
                    await asyncio.sleep(FLUSH_SECONDS)  # let a burst batch up
                    await self._guarded("write", self.flush)
                    continue
                self._wake.clear()
                timeout = max(0.0, next_maintenance - loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
        finally:
            self._wake = None

    async def _guarded(self, operation: str, step: Callable[[], Any]) -> None:
        try:
            await step()
        except Exception as exc:  # the database may be away for a while: retry
            metrics.ERRORS.labels(operation).inc()
            log.warning("archive: %s failed (%s); retrying in %ss", operation, exc, RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)


def _fingerprint(r: record.Record) -> str:
    return json.dumps([r.summary, dict(r.labels)], sort_keys=True, default=str)
