"""Reading the job's params: the camelCase JSON of the PipelineJob's spec.params.

The operator has validated them already (conveyor.core.params); these helpers
only say clearly what is missing when the agent is run by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from conveyor_agent import errors

_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def load(*, path: str | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """The params from `path` (a JSON file) or else the env var PARAMS."""
    if path is not None:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as exc:
            raise errors.JobError(f"cannot read params: {exc}") from exc
    elif "PARAMS" in environ:
        text = environ["PARAMS"]
    else:
        raise errors.JobError("no params: give --params FILE or the env var PARAMS")
    try:
        params = json.loads(text)
    except ValueError as exc:
        raise errors.JobError(f"params are not JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise errors.JobError("params must be a JSON object")
    return params


def seconds(text: str) -> float:
    """A Go-style duration ("500ms", "1m30s") in seconds."""
    parts = _DURATION.findall(text) if isinstance(text, str) else []
    if not parts or "".join(n + u for n, u in parts) != text:
        raise errors.JobError(f"{text!r} is not a duration such as 30s, 5m or 1h30m")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def required(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise errors.JobError(f"params.{name}: required")
    return value
