"""`conveyor dashboard`: the read-only live web dashboard, in this process."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conveyor.cli import context

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

    async def command(ctx: context.Context) -> int:
        await app.serve(
            client=ctx.client, address=args.address, port=args.port, namespace=ctx.scope
        )
        return 0

    return context.run(args, command, on_interrupt=0)
