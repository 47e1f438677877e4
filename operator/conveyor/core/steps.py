"""What the PipelineJob state machine decides for one job: a Step (its new
status and what to do about its Job) and the Events to post.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Literal

from conveyor.core import model


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """A Kubernetes Event to post on the PipelineJob."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    status: model.JobStatus
    create_job: bool = False  # make sure status.job exists (AlreadyExists = adopt)
    delete_job: str | None = None  # stop this Job (revoke)
    delete_pipelinejob: bool = False  # ttlAfterFinished has passed
    wants_admission: bool = False  # waiting for a slot; `scheduling` decides
    wake_at: datetime.datetime | None = None  # look again then, even without events
    events: tuple[Event, ...] = ()
