"""kstatus's rules for a custom resource, in Python.

kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) is how Flux (health checks,
`wait: true`), `kubectl`-adjacent tools and kpt decide whether an object is
done. Its Go module is not on the module proxy these machines reach, so this
follows its documented generic algorithm (`status.Compute`) for a kind it
has no specific rules for:

1. metadata.deletionTimestamp set            -> Terminating
2. status.observedGeneration present and
   != metadata.generation                    -> InProgress (LatestGenerationNotObserved)
3. the first condition, in order, that is
   Reconciling=True                          -> InProgress
   Stalled=True                              -> Failed
4. a Ready condition: True                   -> Current
                      False or Unknown       -> InProgress
5. otherwise                                 -> Current
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

CURRENT = "Current"
IN_PROGRESS = "InProgress"
FAILED = "Failed"
TERMINATING = "Terminating"


@dataclasses.dataclass(frozen=True)
class Result:
    status: str
    message: str


def compute(obj: Mapping[str, Any]) -> Result:
    metadata = obj.get("metadata") or {}
    status = obj.get("status") or {}
    if metadata.get("deletionTimestamp"):
        return Result(TERMINATING, "Resource scheduled for deletion")
    generation = metadata.get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        kind = obj.get("kind", "")
        return Result(
            IN_PROGRESS,
            f"{kind} generation is {generation}, but latest observed generation is {observed}",
        )
    conditions = status.get("conditions") or []
    for condition in conditions:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Reconciling":
            return Result(IN_PROGRESS, str(condition.get("message") or ""))
        if condition.get("type") == "Stalled":
            return Result(FAILED, str(condition.get("message") or ""))
    for condition in conditions:
        if condition.get("type") != "Ready":
            continue
        if condition.get("status") == "True":
            return Result(CURRENT, "Resource is Ready")
        return Result(IN_PROGRESS, str(condition.get("message") or ""))
    return Result(CURRENT, "Resource is current")
