"""A git credential helper (gitcredentials(7)): `python -m
conveyor_agent.git_credential get` prints the username and password of
conveyor_agent.git's env vars, and only for the host they were set for, so a
redirect or a submodule on another host gets nothing. `store` and `erase`
are ignored: nothing is kept."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from conveyor_agent import git


def answer(*, action: str, request: str, environ: Mapping[str, str]) -> str:
    """The helper's stdout for `action` and git's request (key=value lines)."""
    if action != "get":
        return ""
    fields = dict(line.partition("=")[::2] for line in request.splitlines() if "=" in line)
    username = environ.get(git.HELPER_USERNAME)
    password = environ.get(git.HELPER_PASSWORD)
    if not (username and password) or fields.get("host") != environ.get(git.HELPER_HOST):
        return ""
    return f"username={username}\npassword={password}\n"


def main(argv: Sequence[str]) -> int:
    action = argv[-1] if argv else ""
    sys.stdout.write(answer(action=action, request=sys.stdin.read(), environ=os.environ))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
