# PYTHON_ARGCOMPLETE_OK  (argcomplete: this entry point completes itself)
"""The `conveyor` command (also `kubectl conveyor`)."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys

import argcomplete

# Each command's module and the commands it adds, in the order `--help` lists
# them. A run imports only its command's module (all for help, completion or
# a mistyped command): the operator's process loads no other command's.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("get_cmd", ("get",)),
    ("why_cmd", ("why",)),
    ("workers_cmd", ("workers",)),
    ("history_cmd", ("history",)),
    ("insights_cmd", ("insights",)),
    ("archive_cmd", ("archive",)),
    ("logs_cmd", ("logs",)),
    ("revoke_cmd", ("revoke",)),
    ("triggers_cmd", ("triggers", "trigger")),
    ("rerun_cmd", ("rerun",)),
    ("run_cmd", ("run",)),
    ("graph_cmd", ("graph",)),
    ("operator_cmd", ("operator",)),
    ("webhooks_cmd", ("webhooks",)),
    ("completion", ("completion",)),
    ("dashboard_cmd", ("dashboard",)),
)

EPILOG = """\
exit codes: 0 done; 1 an error (one line on stderr: not found, not allowed,
cannot connect, ...); 2 a usage error (bad flag or argument); 130 interrupted.

Credentials and namespace are found as kubectl finds them: --kubeconfig, else
KUBECONFIG (a list, merged), else ~/.kube/config, else the in-cluster
ServiceAccount; --context picks a context; exec plugins are run as kubectl
runs them."""


def version() -> str:
    try:
        return importlib.metadata.version("conveyor")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "unknown"


def build_parser(*, prog: str = "conveyor", command: str | None = None) -> argparse.ArgumentParser:
    """Every command, or only `command` if it is one."""
    if not any(command in names for _, names in COMMANDS):
        command = None
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Asynchronous CI/CD jobs on Kubernetes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module, names in COMMANDS:
        if command is None or command in names:
            importlib.import_module(f"conveyor.cli.{module}").register(commands)
    return parser


def _prog() -> str:
    # As a kubectl plugin (kubectl-conveyor), usage reads `kubectl conveyor ...`.
    invoked = os.path.basename(sys.argv[0]) if sys.argv else ""
    return "kubectl conveyor" if invoked.startswith("kubectl-") else "conveyor"


# kubectl's global flags, which kubectl takes before the command as well.
_GLOBAL_WITH_VALUE = frozenset({"-n", "--namespace", "--kubeconfig", "--context"})
_GLOBAL_FLAGS = frozenset({"-A", "--all-namespaces"})


def hoist(argv: list[str]) -> list[str]:
    """`conveyor --context c get` as `conveyor get --context c`: argparse only
    knows a subcommand's options after it."""
    before: list[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        flag = argv[i].split("=", 1)[0]
        takes_value = flag in _GLOBAL_WITH_VALUE and "=" not in argv[i]
        if flag not in _GLOBAL_WITH_VALUE | _GLOBAL_FLAGS or (takes_value and i + 1 >= len(argv)):
            return argv  # --version, --help, or not ours: as given
        width = 2 if takes_value else 1
        before += argv[i : i + width]
        i += width
    if not before or i >= len(argv):
        return argv
    return [argv[i], *before, *argv[i + 1 :]]


def main(argv: list[str] | None = None) -> int:
    given = hoist(list(sys.argv[1:] if argv is None else argv))
    completing = "_ARGCOMPLETE" in os.environ
    command = given[0] if given and not completing else None
    parser = build_parser(prog=_prog(), command=command)
    argcomplete.autocomplete(parser)  # only acts when the shell asks for completions
    args = parser.parse_args(given)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
