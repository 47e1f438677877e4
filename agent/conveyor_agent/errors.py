"""The two ways a runtime ends without success, and their exit codes."""

from __future__ import annotations

from typing import Any

# A check the job exists for did not pass (canary failed, rollout not ready).
EXIT_FAILED = 1
# The work could not be done (bad params, an API refusing, a tool failing).
EXIT_ERROR = 2


class JobError(Exception):
    """The work could not be done; the message says what, never a secret."""


class CheckFailed(Exception):
    """The job ran and its check failed; `outputs` carry the evidence."""

    def __init__(self, message: str, *, outputs: dict[str, Any]) -> None:
        super().__init__(message)
        self.outputs = outputs
