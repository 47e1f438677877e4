"""What every cluster-facing subcommand shares: the kubectl options
(--kubeconfig, --context, -n, -A, -o, -l, --field-selector, --sort-by,
--no-headers), logging in, one API client, and turning failures into
one-line errors with exit code 1 (argparse gives 2 for usage errors)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

import aiohttp

from conveyor.cli import completion, errors, formats, jsonpath
from conveyor.k8s import api, login

USER_AGENT = "conveyor-cli"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    client: api.Client
    namespace: str
    all_namespaces: bool = False
    output: formats.Format = dataclasses.field(default_factory=formats.Format)
    selector: str | None = None
    field_selector: str | None = None
    sort_by: jsonpath.Template | None = None
    no_headers: bool = False

    @property
    def scope(self) -> str | None:
        """The namespace to list in; None for all namespaces."""
        return None if self.all_namespaces else self.namespace

    @property
    def selectors(self) -> dict[str, str]:
        """The -l and --field-selector list parameters given."""
        params = {"labelSelector": self.selector, "fieldSelector": self.field_selector}
        return {k: v for k, v in params.items() if v}

    @staticmethod
    def now() -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)


Command = Callable[[Context], Awaitable[int]]


def add_options(
    parser: argparse.ArgumentParser,
    *,
    all_namespaces: bool = False,
    formats_allowed: Sequence[str] = (),
    listing: bool = False,
) -> None:
    """The kubectl options; `listing` adds -l, --field-selector, --sort-by, --no-headers."""
    parser.add_argument(
        "-n", "--namespace", help="namespace (default: the kubeconfig context's, else default)"
    ).completer = completion.namespaces  # type: ignore[attr-defined]
    if all_namespaces:
        parser.add_argument(
            "-A", "--all-namespaces", action="store_true", help="list in all namespaces"
        )
    if formats_allowed:
        parser.add_argument(
            "-o",
            "--output",
            type=formats.parser(formats_allowed),
            default=formats.Format(),
            metavar="FORMAT",
            help=f"output format: {', '.join(formats.choices(formats_allowed))}",
        ).completer = completion.choices(formats.choices(formats_allowed))  # type: ignore[attr-defined]
    if listing:
        parser.add_argument(
            "-l", "--selector", metavar="SELECTOR", help="label selector, e.g. -l team=a,env!=prod"
        )
        parser.add_argument(
            "--field-selector",
            metavar="SELECTOR",
            help="field selector, e.g. --field-selector metadata.name=api-build-1",
        )
        parser.add_argument(
            "--sort-by",
            type=formats.sort_by,
            metavar="JSONPATH",
            help="sort by this field, e.g. --sort-by .metadata.creationTimestamp",
        )
        parser.add_argument(
            "--no-headers", action="store_true", help="print tables without headers"
        )
    parser.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument(
        "--context", metavar="NAME", help="kubeconfig context (default: its current-context)"
    ).completer = completion.contexts  # type: ignore[attr-defined]


def source(args: argparse.Namespace) -> login.Source:
    return login.Source(
        kubeconfig=getattr(args, "kubeconfig", None), context=getattr(args, "context", None)
    )


def make(args: argparse.Namespace, client: api.Client) -> Context:
    return Context(
        client=client,
        namespace=args.namespace or client.credentials.namespace,
        all_namespaces=bool(getattr(args, "all_namespaces", False)),
        output=getattr(args, "output", None) or formats.Format(),
        selector=getattr(args, "selector", None),
        field_selector=getattr(args, "field_selector", None),
        sort_by=getattr(args, "sort_by", None),
        no_headers=bool(getattr(args, "no_headers", False)),
    )


def run(args: argparse.Namespace, command: Command, *, on_interrupt: int = 130) -> int:
    """Log in, run `command` with a client, and report failures in one line."""
    where = source(args)
    try:
        server = where.current().server
    except login.LoginError as exc:
        return _fail(str(exc))

    async def main() -> int:
        async with api.Client(login=where, user_agent=USER_AGENT) as client:
            return await command(make(args, client))

    try:
        return asyncio.run(main())
    except (errors.CliError, login.LoginError) as exc:
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
