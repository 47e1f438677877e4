"""A pod's logs, for `conveyor logs` and the dashboard's log stream: which
container to read, and why a log cannot be read, in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conveyor.core import observe


def container_of(pod: Mapping[str, Any]) -> str:
    """The container whose log is the job's: `main`, else the pod's first."""
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or ()]
    if observe.MAIN_CONTAINER in names or not names:
        return observe.MAIN_CONTAINER
    return str(names[0])


def unreadable(*, pod: Mapping[str, Any], message: str) -> str:
    """Why the logs of `pod` could not be read, in one sentence."""
    name = (pod.get("metadata") or {}).get("name")
    node = str((pod.get("spec") or {}).get("nodeName") or "")
    text = f"cannot read the logs of pod {name}: {message}"
    if node.startswith("kwok"):
        text += f" (node {node} is simulated by kwok: its pods have no real containers or logs)"
    return text
