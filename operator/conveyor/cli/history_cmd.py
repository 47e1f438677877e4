"""`conveyor history`: recently finished PipelineJobs, newest first."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.cli import completion, context, fetch, formats, listing, output
from conveyor.core import model
from conveyor.k8s import api
from conveyor.presentation import finished as finished_jobs
from conveyor.presentation import humanize

HEADERS = (
    "NAME",
    "TYPE",
    "WORKER",
    "RESULT",
    "STARTED",
    "FINISHED",
    "DURATION",
    "ATTEMPTS",
    "REASON",
)
DEFAULT_LIMIT = 20


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "history", help="recently finished PipelineJobs: results, durations, attempts"
    )
    context.add_options(parser, all_namespaces=True, formats_allowed=formats.LISTING, listing=True)
    parser.add_argument(
        "--worker", metavar="W", help="only jobs run by this Worker"
    ).completer = completion.workers  # type: ignore[attr-defined]
    parser.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show at most N jobs (default {DEFAULT_LIMIT})",
    )
    parser.set_defaults(
        run=lambda args: context.run(
            args, lambda ctx: _history(ctx, worker=args.worker, limit=args.limit)
        )
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    namespace: str
    name: str
    type: str
    worker: str | None
    result: str
    started: str
    finished: str
    duration: str
    attempts: int
    reason: str
    message: str
    started_at: str | None
    finished_at: str | None

    def cells(self, *, all_namespaces: bool, wide: bool = False) -> list[str]:
        cells = [
            self.name,
            self.type,
            self.worker or "-",
            self.result,
            self.started,
            self.finished,
            self.duration,
            str(self.attempts),
            self.reason or "-",
        ]
        if wide:
            cells.append(self.message or "-")
        return [self.namespace, *cells] if all_namespaces else cells

    def to_dict(self) -> dict[str, Any]:
        return output.record(self)


def rows(
    *,
    jobs: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
    worker: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Row]:
    """Finished jobs (of `worker`, when given), newest finish first, at most `limit`."""
    parsed = [model.parse_pipelinejob(b) for b in jobs]
    done = [
        j
        for _, j in finished_jobs.newest_first(parsed)
        if worker is None or j.status.worker == worker
    ]
    out = []
    for job in done[:limit]:
        status = job.status
        started = model.parse_time(status.started_at)
        finished = model.parse_time(status.finished_at)
        out.append(
            Row(
                namespace=job.meta.namespace,
                name=job.meta.name,
                type=job.raw_type or "-",
                worker=status.worker,
                result=str(status.state),
                started=humanize.age(started, now=now),
                finished=humanize.age(finished, now=now),
                duration=humanize.between(started, finished, now=now) if finished else "-",
                attempts=len(status.attempts) or status.attempt,
                reason=str(status.reason or ""),
                message=status.message or "",
                started_at=status.started_at,
                finished_at=status.finished_at,
            )
        )
    return out


async def _history(ctx: context.Context, *, worker: str | None, limit: int) -> int:
    everything = await fetch.items(ctx.client, api.PIPELINEJOBS, namespace=ctx.scope)
    objects, _ = await listing.chosen(ctx, api.PIPELINEJOBS, everything=everything)
    found = rows(jobs=objects, now=ctx.now(), worker=worker, limit=limit)
    by_key = {listing.key(o): o for o in objects}
    chosen = [by_key[(r.namespace, r.name)] for r in found]
    if ctx.sort_by is not None:  # else newest first, as the rows are
        chosen = formats.sorted_objects(chosen, by=ctx.sort_by)
        order = {listing.key(o): i for i, o in enumerate(chosen)}
        found.sort(key=lambda r: order[(r.namespace, r.name)])
    if not ctx.output.table:
        listing.print_objects(ctx, chosen, single=False)
        return 0
    if not found:
        where = "any namespace" if ctx.all_namespaces else f"namespace {ctx.namespace}"
        of = f" of Worker {worker}" if worker else ""
        print(f"No finished PipelineJobs{of} in {where}.", file=sys.stderr)
        return 0
    wide = ctx.output.kind == "wide"
    heads = [*HEADERS, "MESSAGE"] if wide else list(HEADERS)
    heads = ["NAMESPACE", *heads] if ctx.all_namespaces else heads
    painter = output.state_painter("RESULT") if output.wants_colour(sys.stdout) else None
    cells = [r.cells(all_namespaces=ctx.all_namespaces, wide=wide) for r in found]
    listing.print_table(ctx, headers=heads, rows=cells, painter=painter)
    return 0
