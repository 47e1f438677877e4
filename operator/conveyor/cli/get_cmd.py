"""`conveyor get [NAME...] [-w]`: PipelineJobs like `kubectl get`, with
computed columns (queue position, run duration); -o prints the objects."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.cli import completion, context, fetch, formats, listing, output
from conveyor.core import model, progress, queue
from conveyor.k8s import api
from conveyor.presentation import humanize

HEADERS = ("NAME", "STATE", "TYPE", "WORKER", "ATTEMPT", "REASON", "QUEUE", "AGE", "DURATION")
WIDE = ("JOB", "MESSAGE")
# Columns that change with the clock alone: a watch does not reprint for them.
CLOCK_COLUMNS = frozenset({"AGE", "DURATION"})
WATCH_INTERVAL = 1.0


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "get", help="list PipelineJobs with their state, reason and queue position"
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="only these PipelineJobs"
    ).completer = completion.pipelinejobs  # type: ignore[attr-defined]
    context.add_options(parser, all_namespaces=True, formats_allowed=formats.LISTING, listing=True)
    parser.add_argument(
        "-w", "--watch", action="store_true", help="keep listing and print rows that change"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if args.watch:
        # Ctrl-C is how a watch ends: not an error.
        return context.run(args, lambda ctx: _watch(ctx, names=args.names), on_interrupt=0)
    return context.run(args, lambda ctx: _get(ctx, names=args.names))


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
    job: str | None
    age: str
    duration: str
    created_at: str | None
    started_at: str | None
    finished_at: str | None

    def cells(self, *, all_namespaces: bool, wide: bool = False) -> list[str]:
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
        if wide:
            cells += [self.job or "-", self.message or "-"]
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
            "job": self.job,
            "age": self.age,
            "duration": self.duration,
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }


def headers(*, all_namespaces: bool, wide: bool = False) -> list[str]:
    heads = [*HEADERS, *WIDE] if wide else list(HEADERS)
    return ["NAMESPACE", *heads] if all_namespaces else heads


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
    typical = progress.typical_run_times(jobs=parsed)
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
                job=status.job,
                age=humanize.age(job.meta.created_at, now=now),
                duration=_with_estimate(
                    humanize.between(started, finished, now=now),
                    progress.estimate(job=job, typical=typical, now=now),
                ),
                created_at=model.format_time(job.meta.created_at),
                started_at=status.started_at,
                finished_at=status.finished_at,
            )
        )
    return out


def _with_estimate(duration: str, guess: progress.Estimate | None) -> str:
    """A running job's duration with the dashboard's estimate: "1m5s (about 2 min left)"."""
    return f"{duration} ({guess})" if guess is not None else duration


async def _listing(
    ctx: context.Context, *, names: Sequence[str]
) -> tuple[list[Mapping[str, Any]], list[Row], list[str]]:
    """The chosen objects, their rows in the same order, and missing names."""
    jobs, workers = await asyncio.gather(
        fetch.items(ctx.client, api.PIPELINEJOBS, namespace=ctx.scope),
        fetch.items(ctx.client, api.WORKERS, namespace=ctx.scope),
    )
    objects, missing = await listing.chosen(ctx, api.PIPELINEJOBS, everything=jobs, names=names)
    by_key = {(r.namespace, r.name): r for r in rows(jobs=jobs, workers=workers, now=ctx.now())}
    shown = [by_key[k] for k in map(listing.key, objects) if k in by_key]
    return objects, shown, missing


async def _get(ctx: context.Context, *, names: Sequence[str]) -> int:
    objects, found, missing = await _listing(ctx, names=names)
    if not ctx.output.table:
        listing.print_objects(ctx, objects, single=len(names) == 1)
    elif found:
        wide = ctx.output.kind == "wide"
        heads = headers(all_namespaces=ctx.all_namespaces, wide=wide)
        painter = output.state_painter("STATE") if output.wants_colour(sys.stdout) else None
        cells = [r.cells(all_namespaces=ctx.all_namespaces, wide=wide) for r in found]
        listing.print_table(ctx, headers=heads, rows=cells, painter=painter)
    elif not names:
        listing.nothing(ctx, what="PipelineJobs")
    return listing.report_missing(ctx, kind="pipelinejob", missing=missing)


def changed(*, before: Mapping[tuple[str, str], list[str]], row: Row, heads: Sequence[str]) -> bool:
    """Whether a row differs from what a watch printed last, ignoring the clock."""
    key = (row.namespace, row.name)
    cells = row.cells(all_namespaces="NAMESPACE" in heads, wide="MESSAGE" in heads)
    if key not in before:
        return True
    return any(
        old != new
        for h, old, new in zip(heads, before[key], cells, strict=True)
        if h not in CLOCK_COLUMNS
    )


async def _watch(ctx: context.Context, *, names: Sequence[str]) -> int:
    """List every second; print what changed (Ctrl-C stops)."""
    if not ctx.output.table:
        return await _watch_objects(ctx, names=names)
    wide = ctx.output.kind == "wide"
    heads = headers(all_namespaces=ctx.all_namespaces, wide=wide)
    painter = output.state_painter("STATE") if output.wants_colour(sys.stdout) else None
    printed: dict[tuple[str, str], list[str]] = {}
    sizes: list[int] | None = None
    while True:
        _, current, _ = await _listing(ctx, names=names)
        fresh = [r for r in current if changed(before=printed, row=r, heads=heads)]
        cells = [r.cells(all_namespaces=ctx.all_namespaces, wide=wide) for r in fresh]
        if sizes is None:
            sizes = output.widths(headers=heads, rows=cells)
            if not ctx.no_headers:
                print(output.row_line(cells=heads, headers=heads, widths=sizes))
        # Widths stay those of the first listing, as with kubectl get -w.
        for line in cells:
            print(output.row_line(cells=line, headers=heads, widths=sizes, painter=painter))
        for r, line in zip(fresh, cells, strict=True):
            printed[(r.namespace, r.name)] = line
        sys.stdout.flush()
        await asyncio.sleep(WATCH_INTERVAL)


async def _watch_objects(ctx: context.Context, *, names: Sequence[str]) -> int:
    """-w with -o: each object again when it changes (a new resourceVersion)."""
    versions: dict[tuple[str, str], str] = {}
    while True:
        objects, _, _ = await _listing(ctx, names=names)
        fresh = [
            o
            for o in objects
            if versions.get(listing.key(o)) != (o.get("metadata") or {}).get("resourceVersion")
        ]
        for obj in fresh:
            versions[listing.key(obj)] = str((obj.get("metadata") or {}).get("resourceVersion"))
            text = formats.render(ctx.output, objects=[obj], single=True, no_headers=True)
            sys.stdout.write(("---\n" + text) if ctx.output.kind == "yaml" else text)
        sys.stdout.flush()
        await asyncio.sleep(WATCH_INTERVAL)
