"""Shell completion (argcomplete): `conveyor completion bash|zsh|fish` prints
the script; commands and flags come from the parser, object names (jobs,
Workers, namespaces, contexts) from the cluster and kubeconfig the command
line names. A completer never fails: no cluster, no names."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from argcomplete import shell_integration

from conveyor.k8s import api, login

SHELLS = ("bash", "zsh", "fish")
EXECUTABLES = ("conveyor", "kubectl-conveyor")
TIMEOUT = 5.0

Completer = Callable[..., list[str]]


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh or fish)",
        description=(
            "Print the completion script for a shell. Load it with, for bash: "
            "source <(conveyor completion bash); zsh: source <(conveyor completion zsh); "
            "fish: conveyor completion fish | source"
        ),
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    print(shell_integration.shellcode(list(EXECUTABLES), shell=args.shell))
    return 0


def choices(values: Sequence[str]) -> Completer:
    def complete(prefix: str, **_: Any) -> list[str]:
        return [v for v in values if v.startswith(prefix)]

    return complete


def contexts(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """The contexts of the kubeconfig(s) in use."""
    try:
        names = login.context_names(kubeconfig=getattr(parsed_args, "kubeconfig", None))
    except Exception:  # completion must not fail: offer nothing
        return []
    return [n for n in names if n.startswith(prefix)]


def namespaces(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    return _names(prefix, parsed_args, api.NAMESPACES)


def pipelinejobs(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    return _names(prefix, parsed_args, api.PIPELINEJOBS)


def workers(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    return _names(prefix, parsed_args, api.WORKERS)


def _names(prefix: str, parsed_args: argparse.Namespace, resource: api.Resource) -> list[str]:
    """Names of objects in the namespace the command line names (else the context's)."""
    where = login.Source(
        kubeconfig=getattr(parsed_args, "kubeconfig", None),
        context=getattr(parsed_args, "context", None),
    )

    async def main() -> list[str]:
        async with api.Client(login=where, user_agent="conveyor-completion") as client:
            ns = getattr(parsed_args, "namespace", None) or client.credentials.namespace
            if isinstance(ns, list):  # `operator -n` is repeatable
                ns = ns[-1] if ns else None
            listing = await asyncio.wait_for(
                client.list(resource, namespace=ns if resource.namespaced else None),
                timeout=TIMEOUT,
            )
        return [str((o.get("metadata") or {}).get("name")) for o in listing.get("items") or ()]

    try:
        names = asyncio.run(main())
    except Exception:  # completion must not fail: offer nothing
        return []
    return sorted(n for n in names if n.startswith(prefix))
