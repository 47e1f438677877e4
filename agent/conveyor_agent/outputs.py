"""The job's outputs: one JSON object, as the container's termination message.

The kubelet keeps at most 4 KiB of a termination message (and the operator
reads no more), so bulky evidence is cut down until the object fits.
"""

from __future__ import annotations

import json
import sys
from typing import Any

MAX_BYTES = 4096
DEFAULT_PATH = "/dev/termination-log"


def encode(outputs: dict[str, Any]) -> str:
    """`outputs` as compact JSON of at most MAX_BYTES; the longest lists are halved
    (and then the longest values dropped) until it fits, with "truncated": true."""
    current = dict(outputs)
    text = _dump(current)
    while len(text.encode()) > MAX_BYTES:
        current["truncated"] = True
        name, value = max(
            ((k, v) for k, v in current.items() if k != "truncated"),
            key=lambda item: len(_dump(item[1])),
        )
        if isinstance(value, list) and len(value) > 1:
            current[name] = value[: len(value) // 2]
        else:
            del current[name]
        text = _dump(current)
    return text


def write(outputs: dict[str, Any], *, path: str) -> None:
    """Write the outputs to `path` and echo them to stdout (the pod's log)."""
    text = encode(outputs)
    print(text, flush=True)
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:  # e.g. run by hand without /dev/termination-log
        print(f"conveyor-agent: cannot write outputs to {path}: {exc}", file=sys.stderr)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
