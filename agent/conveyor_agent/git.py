"""A shallow checkout of one revision with the image's git (CONVEYOR_GIT, else
git on PATH).

Credentials come from env vars set from the job's gitSecret: GIT_TOKEN (sent
as the password of x-access-token, as GitHub and GitLab take a token), or
GIT_USERNAME and GIT_PASSWORD. They reach git through a credential helper
(conveyor_agent.git_credential) that answers only for the repository's host:
never in a URL, an argument, a config file or the log.
"""

from __future__ import annotations

import shlex
import sys
import urllib.parse
from collections.abc import Mapping

from conveyor_agent import kube

# What the helper reads (set for git's child processes only).
HELPER_USERNAME = "CONVEYOR_GIT_USERNAME"
HELPER_PASSWORD = "CONVEYOR_GIT_PASSWORD"
HELPER_HOST = "CONVEYOR_GIT_HOST"
TOKEN_USERNAME = "x-access-token"


def checkout(*, repository: str, revision: str, into: str, environ: Mapping[str, str]) -> str:
    """Fetch `revision` (a branch, tag, refs/... or commit) of `repository` at
    depth 1 into the new directory `into`, check it out; its commit."""
    env = _env(repository=repository, environ=environ)
    helper = f"!{shlex.quote(sys.executable)} -m conveyor_agent.git_credential"

    def git(*args: str) -> str:
        return kube.run("git", args, environ=env)

    git("init", "--quiet", into)
    git("-C", into, "remote", "add", "origin", repository)
    # The empty value first drops any helper git's own config names.
    git(
        "-C", into, "-c", "credential.helper=", "-c", f"credential.helper={helper}",
        "fetch", "--quiet", "--depth", "1", "origin", revision,
    )  # fmt: skip
    git("-C", into, "checkout", "--quiet", "FETCH_HEAD")
    return git("-C", into, "rev-parse", "HEAD").strip()


def _env(*, repository: str, environ: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in ("GIT_TOKEN", "GIT_PASSWORD")}
    # Never wait for a password on a terminal the pod does not have.
    env["GIT_TERMINAL_PROMPT"] = "0"
    token = environ.get("GIT_TOKEN")
    username = TOKEN_USERNAME if token else environ.get("GIT_USERNAME")
    password = token or environ.get("GIT_PASSWORD")
    if username and password:
        env[HELPER_USERNAME] = username
        env[HELPER_PASSWORD] = password
        env[HELPER_HOST] = host(repository)
    return env


def host(repository: str) -> str:
    """host[:port] as git names it to a credential helper ("" for scp-like URLs)."""
    netloc = urllib.parse.urlsplit(repository).netloc
    return netloc.rpartition("@")[2]
