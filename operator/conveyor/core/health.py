"""Worker health: can the pods of a Worker start?

A Worker is DEGRADED when some of its pods cannot start (image pull errors,
container config errors, unschedulable for longer than a grace period) and
OFFLINE when none of its pods can. Judged from the pods of the jobs that hold
its slots, so it mends itself as soon as a pod starts.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Sequence

from conveyor.core import model, observe


class CannotStart(enum.StrEnum):
    """Why a pod will not start without a change: the Worker's health reason."""

    IMAGE_PULL = "ImagePullFailing"
    CONTAINER_CONFIG = "ContainerConfigError"
    UNSCHEDULABLE = "Unschedulable"  # only after a grace period

    @classmethod
    def of(cls, reason: str | None) -> CannotStart | None:
        """From a health reason or a pod's waiting reason; None for any other."""
        if reason in set(cls):
            return cls(reason)
        return CANNOT_START.get(reason or "")


# Pod waiting reasons that mean "this pod will not start without a change".
CANNOT_START: dict[str, CannotStart] = {
    "ErrImagePull": CannotStart.IMAGE_PULL,
    "ImagePullBackOff": CannotStart.IMAGE_PULL,
    "InvalidImageName": CannotStart.IMAGE_PULL,
    "ErrImageNeverPull": CannotStart.IMAGE_PULL,
    "CreateContainerConfigError": CannotStart.CONTAINER_CONFIG,
    "CreateContainerError": CannotStart.CONTAINER_CONFIG,
}
UNSCHEDULABLE = "Unschedulable"  # the pod's waiting reason (PodScheduled False)
DEFAULT_GRACE = datetime.timedelta(minutes=2)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Health:
    state: model.WorkerState
    reason: str = "Ready"
    message: str = ""
    example_pod: str | None = None

    @property
    def offline_cause(self) -> str | None:
        return self.message if self.state is model.WorkerState.OFFLINE else None


def cannot_start(
    obs: observe.Observation, *, now: datetime.datetime, grace: datetime.timedelta
) -> CannotStart | None:
    """The health reason when this attempt's pod cannot start, else None."""
    if obs.phase is not observe.Phase.PENDING or not obs.waiting_reason:
        return None
    if obs.waiting_reason in CANNOT_START:
        return CANNOT_START[obs.waiting_reason]
    if obs.waiting_reason == UNSCHEDULABLE:
        created = model.parse_time(obs.pod_created_at)
        if created is not None and now - created >= grace:
            return CannotStart.UNSCHEDULABLE
    return None


def assess(
    *,
    observations: Sequence[observe.Observation],
    now: datetime.datetime,
    grace: datetime.timedelta = DEFAULT_GRACE,
) -> Health:
    """ONLINE, DEGRADED or OFFLINE from the attempts holding the Worker's slots."""
    failing = [(o, r) for o in observations if (r := cannot_start(o, now=now, grace=grace))]
    if not failing:
        return Health(state=model.WorkerState.ONLINE)
    working = sum(
        1 for o in observations if o.phase in (observe.Phase.RUNNING, observe.Phase.SUCCEEDED)
    )
    first, reason = failing[0]
    detail = (
        f"{first.waiting_reason}: {first.waiting_message}"
        if first.waiting_message
        else (first.waiting_reason or reason)
    )
    example = f" (e.g. pod {first.pod}: {detail})" if first.pod else f" ({detail})"
    if working:
        return Health(
            state=model.WorkerState.DEGRADED,
            reason=str(reason),
            message=f"{len(failing)} of {len(observations)} pods cannot start{example}",
            example_pod=first.pod,
        )
    return Health(
        state=model.WorkerState.OFFLINE,
        reason=str(reason),
        message=f"its pods cannot start{example}",
        example_pod=first.pod,
    )
