"""Names and labels of a run's child PipelineJobs (DESIGN.md §3b).

Pure: no I/O. Names are deterministic, so a restarted operator that creates
a child again meets AlreadyExists (adoption), never a second child.
"""

from __future__ import annotations

import hashlib

RUN_LABEL = "conveyor.dev/pipelinerun"  # the PipelineRun's name
STEP_LABEL = "conveyor.dev/step"  # the step's name
INDEX_LABEL = "conveyor.dev/index"  # a fan-out item's index, from 0

# A PipelineJob's attempts run as Jobs `<name>-<attempt>`, at most 63 characters
# with up to 101 attempts: the PipelineJob CRD allows names of at most 59.
MAX_CHILD_NAME = 63 - len("-101")
# Label values (the run's name is one) stop at 63.
MAX_RUN_NAME = 63
_HASH = 8


def child_name(*, run: str, step: str, index: int | None) -> str:
    """`<run>-<step>` or `<run>-<step>-<index>`; past the limit, a prefix and a hash.

    The index stays at the end, so the items of one step sort together.
    """
    suffix = "" if index is None else f"-{index}"
    full = f"{run}-{step}{suffix}"
    if len(full) <= MAX_CHILD_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH]
    keep = MAX_CHILD_NAME - len(suffix) - _HASH - 1
    prefix = f"{run}-{step}"[:keep].rstrip("-.")
    return f"{prefix}-{digest}{suffix}"


def labels(*, run: str, step: str, index: int | None) -> dict[str, str]:
    out = {RUN_LABEL: run, STEP_LABEL: step}
    if index is not None:
        out[INDEX_LABEL] = str(index)
    return out
