"""`conveyor insights`: the four DORA metrics per service and environment,
from the archive with --archive, else from what the API still holds."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from conveyor.archive import changes, record, watch
from conveyor.cli import archive_options, completion, context, errors, fetch, output
from conveyor.core import insights
from conveyor.k8s import api
from conveyor.presentation import insights as shared

DEFAULT_WINDOW = "30d"
HEADERS = (
    "SERVICE",
    "ENVIRONMENT",
    "DEPLOYS",
    "PER DAY",
    "LEAD TIME",
    "FAILURE RATE",
    "TIME TO RESTORE",
    "OPEN",
    "BANDS (DF/LT/CFR/TTR)",
)


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "insights",
        help="delivery insights (DORA): deploy frequency, lead time, failure rate, time to restore",
    )
    parser.add_argument(
        "-n", "--namespace", help="only this namespace (default: all namespaces)"
    ).completer = completion.namespaces  # type: ignore[attr-defined]
    parser.add_argument(
        "--since",
        type=archive_options.moment,
        default=archive_options.span(DEFAULT_WINDOW),
        metavar="TIME",
        help=f"the window's start: RFC 3339 or a span back from now (default {DEFAULT_WINDOW})",
    )
    parser.add_argument(
        "--until",
        type=archive_options.moment,
        metavar="TIME",
        help="the window's end (default now)",
    )
    parser.add_argument("--service", metavar="NAME", help="only this service")
    parser.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    parser.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument(
        "--context", metavar="NAME", help="kubeconfig context (default: its current-context)"
    )
    archive_options.add(parser)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    now = datetime.datetime.now(datetime.UTC)
    since = archive_options.at(args.since, now=now) or now
    until = archive_options.at(args.until, now=now) or now
    if args.archive:
        try:
            found = _from_archive(args, since=since, until=until)
        except errors.CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return show(found, args=args)

    async def live(ctx: context.Context) -> int:
        objects = []
        for plural, resource in watch.RESOURCES.items():
            try:
                items = await fetch.items(ctx.client, resource, namespace=args.namespace)
            except api.ApiError as exc:
                if not exc.not_found:  # PipelineRuns may not be installed
                    raise
                items = []
            kind = record.PIPELINEJOB if plural == "pipelinejobs" else record.PIPELINERUN
            objects += [r for b in items if (r := record.from_body(kind=kind, body=b))]
        found = insights.report(changes=changes.changes(objects), since=since, until=until)
        return show(found, args=args)

    return context.run(args, live)


def _from_archive(
    args: argparse.Namespace, *, since: datetime.datetime, until: datetime.datetime
) -> insights.Report:
    from conveyor.archive import deliveries

    archive = archive_options.open_archive(args)
    try:
        return deliveries.report(
            archive=archive, since=since, until=until, namespace=args.namespace
        )
    finally:
        archive.close()


def show(report: insights.Report, *, args: argparse.Namespace) -> int:
    groups = [g for g in report.groups if args.service in (None, g.service)]
    if args.output != "table":
        doc = document(report, groups=groups)
        text = json.dumps(doc, indent=2) + "\n" if args.output == "json" else yaml.safe_dump(doc)
        sys.stdout.write(text)
        return 0
    if not groups:
        print("No deploys in the window.", file=sys.stderr)
        return 0
    rows = [cells(g.service, g.environment, g.figures) for g in groups]
    if args.service is None:
        rows.append(cells("(all)", "", report.overall))
    print("\n".join(output.table(headers=HEADERS, rows=rows)))
    return 0


def cells(service: str, environment: str, f: insights.Figures) -> list[str]:
    shown = shared.values(f)
    return [
        service,
        environment or "-",
        str(f.deploys),
        shown["deployment_frequency"],
        shown["lead_time"],
        shown["change_failure_rate"],
        shown["time_to_restore"],
        str(f.open_incidents),
        "/".join(shared.band(b) for b in f.bands().values()),
    ]


def document(report: insights.Report, *, groups: Sequence[insights.Group]) -> dict[str, Any]:
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "groups": [
            {"service": g.service, "environment": g.environment, **figures(g.figures)}
            for g in groups
        ],
        "overall": figures(report.overall),
    }


def figures(f: insights.Figures) -> Mapping[str, Any]:
    return {
        "deploys": f.deploys,
        "successful": f.successful,
        "failed": f.failed,
        "failedCanaries": f.failed_canaries,
        "rollbacks": f.rollbacks,
        "deploymentFrequencyPerDay": f.deployment_frequency,
        "leadTimeSeconds": None if f.lead_time is None else f.lead_time.total_seconds(),
        "changeFailureRate": f.change_failure_rate,
        "timeToRestoreSeconds": (
            None if f.time_to_restore is None else f.time_to_restore.total_seconds()
        ),
        "openIncidents": f.open_incidents,
        "bands": {k: (str(v) if v else None) for k, v in f.bands().items()},
    }
