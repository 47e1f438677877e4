"""The `conveyor` command (also `kubectl conveyor`)."""

from __future__ import annotations

import argparse
import os
import sys

from conveyor.cli import (
    get_cmd,
    graph_cmd,
    history_cmd,
    logs_cmd,
    operator_cmd,
    rerun_cmd,
    revoke_cmd,
    run_cmd,
    why_cmd,
    workers_cmd,
)


def build_parser(*, prog: str = "conveyor") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Asynchronous CI/CD jobs on Kubernetes."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    get_cmd.register(commands)
    why_cmd.register(commands)
    workers_cmd.register(commands)
    history_cmd.register(commands)
    logs_cmd.register(commands)
    revoke_cmd.register(commands)
    rerun_cmd.register(commands)
    run_cmd.register(commands)
    graph_cmd.register(commands)
    operator_cmd.register(commands)
    return parser


def _prog() -> str:
    # As a kubectl plugin (kubectl-conveyor), usage reads `kubectl conveyor ...`.
    invoked = os.path.basename(sys.argv[0]) if sys.argv else ""
    return "kubectl conveyor" if invoked.startswith("kubectl-") else "conveyor"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(prog=_prog())
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
