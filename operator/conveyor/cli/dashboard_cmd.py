"""`conveyor dashboard`: the read-only live web dashboard, in this process."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conveyor.cli import archive_options, context, errors

DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8090


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "dashboard", help="serve a read-only live web dashboard of jobs, runs, Workers and history"
    )
    parser.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        help=f"address to listen on (default {DEFAULT_ADDRESS}: this machine only)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    context.add_options(parser, all_namespaces=True)
    archive_options.add(parser)
    archive_options.add_recorder(parser)
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        help="Prometheus /metrics (the archive's and the conveyor_dora_* gauges) on this port; "
        "0: off (default)",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    # Imported here: the rest of the CLI works without the dashboard's libraries.
    try:
        from conveyor.dashboard import app
    except ImportError as exc:
        print(
            f"error: the dashboard needs {exc.name}: pip install 'conveyor[dashboard]'",
            file=sys.stderr,
        )
        return 1

    keeper = None
    if args.archive:  # the watches feed the archive; the history page reads it
        from conveyor.archive import recorder

        try:
            archive = archive_options.open_archive(args, write=True)
        except errors.CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        keeper = recorder.Recorder(
            archive=archive, retention=args.archive_retention, window=args.insights_window
        )
    if args.metrics_port:
        from conveyor import metrics

        metrics.serve(port=args.metrics_port)

    async def command(ctx: context.Context) -> int:
        await app.serve(
            client=ctx.client,
            address=args.address,
            port=args.port,
            namespace=ctx.scope,
            recorder=keeper,
        )
        return 0

    try:
        return context.run(args, command, on_interrupt=0)
    finally:
        if keeper is not None:
            keeper.archive.close()
