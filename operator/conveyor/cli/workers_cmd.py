"""`conveyor workers`: the Worker health page — state, slots, queue, heartbeat."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.cli import completion, context, fetch, formats, listing, output
from conveyor.core import model, queue
from conveyor.k8s import api
from conveyor.presentation import humanize
from conveyor.presentation import workers as worker_text

HEADERS = ("NAME", "TYPE", "STATE", "RUNNING", "QUEUED", "OLDEST", "HEARTBEAT", "CAUSE")
WIDE = ("PAUSED", "REASON")


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "workers", help="Worker health: state, running/concurrency, queue, heartbeat, cause"
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="only these Workers"
    ).completer = completion.workers  # type: ignore[attr-defined]
    context.add_options(parser, all_namespaces=True, formats_allowed=formats.LISTING, listing=True)
    parser.set_defaults(
        run=lambda args: context.run(args, lambda ctx: _workers(ctx, names=args.names))
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    namespace: str
    name: str
    type: str
    state: str
    running: int
    concurrency: int | None
    queued: int
    oldest: str
    heartbeat: str
    cause: str
    paused: bool
    reason: str

    def cells(self, *, all_namespaces: bool, wide: bool = False) -> list[str]:
        limit = str(self.concurrency) if self.concurrency is not None else "?"
        cells = [
            self.name,
            self.type,
            self.state,
            f"{self.running}/{limit}",
            str(self.queued),
            self.oldest,
            self.heartbeat,
            self.cause or "-",
        ]
        if wide:
            cells += [str(self.paused).lower(), self.reason or "-"]
        return [self.namespace, *cells] if all_namespaces else cells

    def to_dict(self) -> dict[str, Any]:
        return output.record(self)


def rows(
    *,
    workers: Sequence[Mapping[str, Any]],
    jobs: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> list[Row]:
    """One row per Worker, by namespace and name; counts come from the jobs."""
    parsed_jobs = [model.parse_pipelinejob(b) for b in jobs]
    parsed = [model.parse_worker(b) for b in workers]
    waiting = queue.waiting_by_worker(jobs=parsed_jobs, workers=parsed)
    out = []
    for worker, body in sorted(zip(parsed, workers, strict=True), key=lambda p: p[0].key):
        status = body.get("status") or {}
        ns, name = worker.key
        queued = waiting.get(worker.key, [])
        since = [model.parse_time(j.status.queued_at) or j.meta.created_at for j in queued]
        beat = model.parse_time(worker.last_heartbeat)
        out.append(
            Row(
                namespace=ns,
                name=name,
                type=str((body.get("spec") or {}).get("type") or "-"),
                state=str(status.get("state") or "-"),
                running=len(queue.holders(jobs=parsed_jobs, namespace=ns, worker=name)),
                concurrency=worker.spec.concurrency if worker.spec else None,
                queued=len(queued),
                oldest=humanize.age(min(since), now=now) if since else "-",
                heartbeat=humanize.age(beat, now=now),
                cause=worker_text.cause(status=status, heartbeat=beat, now=now),
                paused=bool(worker.spec.paused) if worker.spec else False,
                reason=str(status.get("reason") or ""),
            )
        )
    return out


async def _workers(ctx: context.Context, *, names: Sequence[str]) -> int:
    workers, jobs = await asyncio.gather(
        fetch.items(ctx.client, api.WORKERS, namespace=ctx.scope),
        fetch.items(ctx.client, api.PIPELINEJOBS, namespace=ctx.scope),
    )
    objects, missing = await listing.chosen(ctx, api.WORKERS, everything=workers, names=names)
    if not ctx.output.table:
        listing.print_objects(ctx, objects, single=len(names) == 1)
        return listing.report_missing(ctx, kind="worker", missing=missing)
    by_key = {(r.namespace, r.name): r for r in rows(workers=workers, jobs=jobs, now=ctx.now())}
    found = [by_key[k] for k in map(listing.key, objects) if k in by_key]
    if found:
        wide = ctx.output.kind == "wide"
        heads = [*HEADERS, *WIDE] if wide else list(HEADERS)
        heads = ["NAMESPACE", *heads] if ctx.all_namespaces else heads
        painter = output.state_painter("STATE") if output.wants_colour(sys.stdout) else None
        cells = [r.cells(all_namespaces=ctx.all_namespaces, wide=wide) for r in found]
        listing.print_table(ctx, headers=heads, rows=cells, painter=painter)
    elif not names:
        listing.nothing(ctx, what="Workers")
    return listing.report_missing(ctx, kind="worker", missing=missing)
