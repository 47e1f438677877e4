"""The conveyor-agent image the built-in job types' Jobs run (agent/Dockerfile).

Pure: no I/O. The operator takes another with `--agent-image` (env
CONVEYOR_AGENT_IMAGE; the chart sets it from its agent.image values) and
gives it to the templates as `agent_image`; a Worker still overrides it per
pool through its template (container main).
"""

from __future__ import annotations

import re

# The agent's version (agent/pyproject.toml), released with the operator.
DEFAULT_AGENT = "conveyor-agent:0.1.0"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_REFERENCE = re.compile(
    rf"(?:{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)


def reference(text: str) -> str:
    """`text` if it is an image reference (name[:tag][@sha256:digest]), else ValueError."""
    if len(text) > 512 or not _REFERENCE.fullmatch(text):
        raise ValueError(
            f"{text!r} is not an image reference such as registry.example/conveyor-agent:0.1.0 "
            "or registry.example/conveyor-agent@sha256:<digest>"
        )
    return text
