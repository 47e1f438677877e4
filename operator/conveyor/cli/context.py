"""What every cluster-facing subcommand shares: the --kubeconfig, -n, -A and
-o options, logging in, one API client, and turning failures into one-line
errors with exit code 1 (argparse gives 2 for usage errors)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import os
import sys
from collections.abc import Awaitable, Callable

import aiohttp

from conveyor.cli import errors, kubeconfig, output
from conveyor.k8s import api

USER_AGENT = "conveyor-cli"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    client: api.Client
    namespace: str
    all_namespaces: bool = False
    output: str | None = None

    @property
    def scope(self) -> str | None:
        """The namespace to list in; None for all namespaces."""
        return None if self.all_namespaces else self.namespace

    @staticmethod
    def now() -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)


Command = Callable[[Context], Awaitable[int]]


def add_options(
    parser: argparse.ArgumentParser, *, all_namespaces: bool = False, formats: bool = False
) -> None:
    parser.add_argument(
        "-n", "--namespace", help="namespace (default: the kubeconfig context's, else default)"
    )
    if all_namespaces:
        parser.add_argument(
            "-A", "--all-namespaces", action="store_true", help="list in all namespaces"
        )
    if formats:
        parser.add_argument(
            "-o", "--output", choices=output.FORMATS, help="print JSON or YAML instead of text"
        )
    parser.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file to use")


def run(args: argparse.Namespace, command: Command, *, on_interrupt: int = 130) -> int:
    """Log in, run `command` with a client, and report failures in one line."""
    try:
        login = kubeconfig.login(path=args.kubeconfig)
    except errors.CliError as exc:
        return _fail(str(exc))
    server = login.info.server

    async def main() -> int:
        async with api.Client(info=login.info, user_agent=USER_AGENT) as client:
            ctx = Context(
                client=client,
                namespace=args.namespace or login.namespace,
                all_namespaces=bool(getattr(args, "all_namespaces", False)),
                output=getattr(args, "output", None),
            )
            return await command(ctx)

    try:
        return asyncio.run(main())
    except errors.CliError as exc:
        return _fail(str(exc))
    except api.ApiError as exc:
        return _fail(errors.describe(exc, server=server))
    except KeyboardInterrupt:
        return on_interrupt
    except BrokenPipeError:  # `conveyor get -w | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (aiohttp.ClientError, OSError) as exc:  # TLS setup, a dropped stream
        return _fail(f"cannot talk to the API server at {server}: {exc}")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
