"""`conveyor get [-w]`: PipelineJobs like `kubectl get`, with computed columns
(queue position, run duration)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.cli import context, errors, fetch, output, runs_cmd
from conveyor.core import humanize, model, queue
from conveyor.k8s import api

HEADERS = ("NAME", "STATE", "TYPE", "WORKER", "ATTEMPT", "REASON", "QUEUE", "AGE", "DURATION")
# Columns that change with the clock alone: a watch does not reprint for them.
CLOCK_COLUMNS = frozenset({"AGE", "DURATION"})
WATCH_INTERVAL = 1.0


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "get", help="list PipelineJobs (or PipelineRuns: get runs) with their state and reason"
    )
    parser.add_argument(
        "kind",
        nargs="?",
        default="jobs",
        metavar="KIND",
        help="jobs (pj, the default) or runs (pr, pipelineruns)",
    )
    context.add_options(parser, all_namespaces=True, formats=True)
    parser.add_argument(
        "-w", "--watch", action="store_true", help="keep listing and print rows that change"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    kind = str(args.kind).lower()
    if kind in runs_cmd.RUN_KINDS:
        if args.watch:
            return _fail("--watch lists PipelineJobs only; watch runs with kubectl get pr -w")
        return context.run(args, runs_cmd.get_runs)
    if kind not in runs_cmd.JOB_KINDS:
        return _fail(f"unknown kind {args.kind!r}: jobs (pj) or runs (pr)")
    if args.watch:
        # Ctrl-C is how a watch ends: not an error.
        return context.run(args, _watch, on_interrupt=0)
    return context.run(args, _get)


def _fail(message: str) -> int:
    print(f"error: {errors.CliError(message)}", file=sys.stderr)
    return 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    namespace: str
    name: str
    state: str
    type: str
    worker: str | None
    attempt: int
    reason: str
    message: str
    queue: queue.Position | None
    age: str
    duration: str
    created_at: str | None
    started_at: str | None
    finished_at: str | None

    def cells(self, *, all_namespaces: bool) -> list[str]:
        cells = [
            self.name,
            self.state,
            self.type,
            self.worker or "-",
            str(self.attempt) if self.state != "-" else "-",
            self.reason or "-",
            str(self.queue) if self.queue else "-",
            self.age,
            self.duration,
        ]
        return [self.namespace, *cells] if all_namespaces else cells

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "state": self.state,
            "type": self.type,
            "worker": self.worker,
            "attempt": self.attempt,
            "reason": self.reason,
            "message": self.message,
            "queuePosition": self.queue.position if self.queue else None,
            "queueLength": self.queue.of if self.queue else None,
            "age": self.age,
            "duration": self.duration,
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }


def headers(*, all_namespaces: bool) -> list[str]:
    return ["NAMESPACE", *HEADERS] if all_namespaces else list(HEADERS)


def rows(
    *,
    jobs: Sequence[Mapping[str, Any]],
    workers: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> list[Row]:
    """One row per PipelineJob, by namespace and name."""
    parsed = [model.parse_pipelinejob(b) for b in jobs]
    parsed_workers = [model.parse_worker(b) for b in workers]
    places = queue.positions(jobs=parsed, workers=parsed_workers)
    out = []
    for job in sorted(parsed, key=lambda j: j.key):
        status = job.status
        started = model.parse_time(status.started_at)
        finished = model.parse_time(status.finished_at)
        out.append(
            Row(
                namespace=job.meta.namespace,
                name=job.meta.name,
                state=str(status.state) if status.state else "-",
                type=job.raw_type or "-",
                worker=queue.worker_of(job=job, workers=parsed_workers),
                attempt=status.attempt,
                reason=str(status.reason or ""),
                message=status.message or "",
                queue=places.get(job.key),
                age=humanize.age(job.meta.created_at, now=now),
                duration=humanize.between(started, finished, now=now),
                created_at=model.format_time(job.meta.created_at),
                started_at=status.started_at,
                finished_at=status.finished_at,
            )
        )
    return out


async def _rows(ctx: context.Context) -> list[Row]:
    jobs, workers = await asyncio.gather(
        fetch.items(ctx.client, api.PIPELINEJOBS, namespace=ctx.scope),
        fetch.items(ctx.client, api.WORKERS, namespace=ctx.scope),
    )
    return rows(jobs=jobs, workers=workers, now=ctx.now())


def _nothing(ctx: context.Context) -> None:
    where = "any namespace" if ctx.all_namespaces else f"namespace {ctx.namespace}"
    print(f"No PipelineJobs found in {where}.", file=sys.stderr)


async def _get(ctx: context.Context) -> int:
    found = await _rows(ctx)
    if ctx.output:
        print(output.dump([r.to_dict() for r in found], fmt=ctx.output))
        return 0
    if not found:
        _nothing(ctx)
        return 0
    heads = headers(all_namespaces=ctx.all_namespaces)
    painter = output.state_painter("STATE") if output.wants_colour(sys.stdout) else None
    cells = [r.cells(all_namespaces=ctx.all_namespaces) for r in found]
    print("\n".join(output.table(headers=heads, rows=cells, painter=painter)))
    return 0


def changed(*, before: Mapping[tuple[str, str], list[str]], row: Row, heads: Sequence[str]) -> bool:
    """Whether a row differs from what a watch printed last, ignoring the clock."""
    key = (row.namespace, row.name)
    cells = row.cells(all_namespaces="NAMESPACE" in heads)
    if key not in before:
        return True
    return any(
        old != new
        for h, old, new in zip(heads, before[key], cells, strict=True)
        if h not in CLOCK_COLUMNS
    )


async def _watch(ctx: context.Context) -> int:
    """List every second; print the rows that changed (Ctrl-C stops)."""
    heads = headers(all_namespaces=ctx.all_namespaces)
    painter = output.state_painter("STATE") if output.wants_colour(sys.stdout) else None
    printed: dict[tuple[str, str], list[str]] = {}
    sizes: list[int] | None = None
    while True:
        current = await _rows(ctx)
        fresh = [r for r in current if changed(before=printed, row=r, heads=heads)]
        if ctx.output:
            for r in fresh:
                data = r.to_dict()
                text = json.dumps(data) if ctx.output == "json" else output.dump(data, fmt="yaml")
                print(text if ctx.output == "json" else f"---\n{text}")
        else:
            cells = [r.cells(all_namespaces=ctx.all_namespaces) for r in fresh]
            if sizes is None:
                sizes = output.widths(headers=heads, rows=cells)
                print(output.row_line(cells=heads, headers=heads, widths=sizes))
            # Widths stay those of the first listing, as with kubectl get -w.
            for line in cells:
                print(output.row_line(cells=line, headers=heads, widths=sizes, painter=painter))
        for r in fresh:
            printed[(r.namespace, r.name)] = r.cells(all_namespaces=ctx.all_namespaces)
        sys.stdout.flush()
        await asyncio.sleep(WATCH_INTERVAL)
