"""pydantic's validation errors as the sentences a status shows.

Pure: no I/O.
"""

from __future__ import annotations

import pydantic_core


def message(error: pydantic_core.ErrorDetails) -> str:
    """pydantic's message for one error, without its "Value error, " prefix."""
    ctx = error.get("ctx") or {}
    if error["type"] == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return error["msg"]
