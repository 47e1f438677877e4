"""`conveyor archive`: record finished PipelineJobs and PipelineRuns into
the archive from the live API, with the retention and the DORA gauges on
/metrics. The dashboard server does the same when given --archive."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from conveyor.cli import archive_options, context, errors


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "archive",
        help="record finished jobs and runs into the archive (SQLite or PostgreSQL)",
    )
    archive_options.add(parser, required=True)
    parser.add_argument(
        "-n", "--namespace", help="record only this namespace (default: all namespaces)"
    )
    archive_options.add_recorder(parser)
    parser.add_argument(
        "--metrics-port", type=int, default=8080, help="Prometheus /metrics port (0: off)"
    )
    parser.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument(
        "--context", metavar="NAME", help="kubeconfig context (default: its current-context)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        archive = archive_options.open_archive(args, write=True)
    except errors.CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from conveyor import metrics
    from conveyor.archive import recorder, service
    from conveyor.k8s import api

    if args.metrics_port:
        metrics.serve(port=args.metrics_port)
    keeper = recorder.Recorder(
        archive=archive, retention=args.archive_retention, window=args.insights_window
    )

    async def main() -> None:
        async with api.Client(login=context.source(args), user_agent="conveyor-archive") as client:
            await service.serve(client=client, recorder=keeper, namespace=args.namespace)

    try:
        asyncio.run(main())
    finally:
        archive.close()
    return 0
