"""The cluster, through the image's pinned kubectl and helm (their paths from
CONVEYOR_KUBECTL and CONVEYOR_HELM, else found on PATH). They read the pod's
service account, or KUBECONFIG when run by hand, as users' tools do."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor_agent import errors

TIMEOUT = 600.0


def _binary(name: str, *, environ: Mapping[str, str]) -> str:
    return environ.get(f"CONVEYOR_{name.upper()}") or name


def run(
    tool: str,
    args: Sequence[str],
    *,
    environ: Mapping[str, str],
    stdin: str | None = None,
    timeout: float = TIMEOUT,
) -> str:
    """stdout of `tool args`; a JobError with the tool's stderr when it fails."""
    command = [_binary(tool, environ=environ), *args]
    try:
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=dict(os.environ) | dict(environ),
        )
    except FileNotFoundError:
        raise errors.JobError(f"{command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise errors.JobError(f"{tool} {args[0]} took longer than {timeout:g}s") from None
    if done.returncode != 0:
        raise ToolFailed(tool=tool, args=args, stderr=done.stderr)
    return done.stdout


class ToolFailed(errors.JobError):
    def __init__(self, *, tool: str, args: Sequence[str], stderr: str) -> None:
        self.stderr = stderr.strip()
        super().__init__(f"{tool} {' '.join(args[:2])} failed: {self.stderr[-1500:]}")


def kubectl_json(
    args: Sequence[str], *, environ: Mapping[str, str], stdin: str | None = None
) -> Any:
    return json.loads(run("kubectl", [*args, "--output", "json"], environ=environ, stdin=stdin))


def items(listing: Any) -> list[dict[str, Any]]:
    """The objects of a List (kubectl get/apply -o json), or the one object."""
    if isinstance(listing, dict) and listing.get("kind", "").endswith("List"):
        return list(listing.get("items") or [])
    return [listing] if isinstance(listing, dict) and listing else []
