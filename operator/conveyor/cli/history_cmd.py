"""`conveyor history`: finished PipelineJobs, newest first: from the archive
with --archive (history_archive), else from what the API still holds."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.cli import (
    archive_options,
    completion,
    context,
    errors,
    fetch,
    formats,
    history_archive,
    listing,
    output,
)
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
    parser.add_argument("--type", metavar="TYPE", help="only jobs of this type, e.g. deploy")
    parser.add_argument(
        "--state", choices=sorted(FINISHED), type=str.upper, help="only jobs that ended so"
    )
    parser.add_argument(
        "--since",
        type=archive_options.moment,
        metavar="TIME",
        help="only jobs finished since then: RFC 3339, or a span back from now (7d, 12h)",
    )
    parser.add_argument(
        "--until",
        type=archive_options.moment,
        metavar="TIME",
        help="only jobs finished before then: RFC 3339, or a span back from now",
    )
    parser.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show at most N jobs (default {DEFAULT_LIMIT}); with --archive, a page",
    )
    parser.add_argument(
        "--page-token",
        metavar="TOKEN",
        help="with --archive: the next page, as the previous page's last line says",
    )
    archive_options.add(parser)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if args.archive:
        try:
            return _from_archive(args)
        except errors.CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if args.page_token:
        print("error: --page-token pages the archive: give --archive too", file=sys.stderr)
        return 2

    def command(ctx: context.Context) -> Any:
        now = ctx.now()
        return _history(ctx, where=where(args, now=now))

    return context.run(args, command)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Where:
    """The filters of either source."""

    worker: str | None = None
    type: str | None = None
    state: str | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    limit: int = DEFAULT_LIMIT


FINISHED = ("SUCCESS", "FAILED", "REVOKED")


def where(args: argparse.Namespace, *, now: datetime.datetime) -> Where:
    return Where(
        worker=args.worker,
        type=args.type,
        state=args.state,
        since=archive_options.at(args.since, now=now),
        until=archive_options.at(args.until, now=now),
        limit=args.limit,
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
    where: Where | None = None,
    worker: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Row]:
    """Finished jobs that match, newest finish first, at most `limit`."""
    where = where or Where(worker=worker, limit=limit)
    parsed = [model.parse_pipelinejob(b) for b in jobs]
    done = [
        job
        for at, job in finished_jobs.newest_first(parsed)
        if _matches(job, where)
        and (where.since is None or at >= where.since)
        and (where.until is None or at < where.until)
    ]
    return [_row(job, now=now) for job in done[: where.limit]]


def _matches(job: model.PipelineJob, where: Where) -> bool:
    return (
        (where.worker is None or job.status.worker == where.worker)
        and (where.type is None or job.raw_type == where.type)
        and (where.state is None or str(job.status.state) == where.state)
    )


def _row(job: model.PipelineJob, *, now: datetime.datetime) -> Row:
    status = job.status
    started = model.parse_time(status.started_at)
    finished = model.parse_time(status.finished_at)
    return Row(
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


async def _history(ctx: context.Context, *, where: Where) -> int:
    everything = await fetch.items(ctx.client, api.PIPELINEJOBS, namespace=ctx.scope)
    objects, _ = await listing.chosen(ctx, api.PIPELINEJOBS, everything=everything)
    found = rows(jobs=objects, now=ctx.now(), where=where)
    worker = where.worker
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
        scope = "any namespace" if ctx.all_namespaces else f"namespace {ctx.namespace}"
        of = f" of Worker {worker}" if worker else ""
        print(f"No finished PipelineJobs{of} in {scope}.", file=sys.stderr)
        return 0
    wide = ctx.output.kind == "wide"
    print_rows(found, all_namespaces=ctx.all_namespaces, wide=wide, no_headers=ctx.no_headers)
    return 0


def _from_archive(args: argparse.Namespace) -> int:
    archive = archive_options.open_archive(args)
    now = datetime.datetime.now(datetime.UTC)
    try:
        found = history_archive.page(archive, args=args, where=where(args, now=now))
    finally:
        archive.close()
    fmt: formats.Format = args.output
    if not fmt.table:
        objects = [history_archive.as_object(r) for r in found.records]
        sys.stdout.write(
            formats.render(fmt, objects=objects, single=False, no_headers=args.no_headers)
        )
    elif not found.records:
        print("No finished PipelineJobs in the archive match.", file=sys.stderr)
    else:
        all_namespaces = history_archive.namespace(args) is None
        found_rows = [_archived_row(r, now=now) for r in found.records]
        wide = fmt.kind == "wide"
        print_rows(found_rows, all_namespaces=all_namespaces, wide=wide, no_headers=args.no_headers)
    if found.next:
        print(f"More: --page-token {found.next}", file=sys.stderr)
    return 0


def _archived_row(r: Any, *, now: datetime.datetime) -> Row:
    """The row of an archive record (archive.record.Record)."""
    return Row(
        namespace=r.namespace,
        name=r.name,
        type=r.type or "-",
        worker=r.worker or None,
        result=r.state,
        started=humanize.age(r.started_at, now=now),
        finished=humanize.age(r.finished_at, now=now),
        duration=humanize.between(r.started_at, r.finished_at, now=now) if r.started_at else "-",
        attempts=r.attempts,
        reason=r.reason,
        message=r.message,
        started_at=model.format_time(r.started_at) if r.started_at else None,
        finished_at=model.format_time(r.finished_at),
    )


def print_rows(found: Sequence[Row], *, all_namespaces: bool, wide: bool, no_headers: bool) -> None:
    heads = [*HEADERS, "MESSAGE"] if wide else list(HEADERS)
    heads = ["NAMESPACE", *heads] if all_namespaces else heads
    painter = output.state_painter("RESULT") if output.wants_colour(sys.stdout) else None
    cells = [r.cells(all_namespaces=all_namespaces, wide=wide) for r in found]
    lines = output.table(headers=heads, rows=cells, painter=painter)
    print("\n".join(lines[1:] if no_headers else lines))
