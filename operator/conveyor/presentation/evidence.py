"""What `conveyor why` shows of the world around a job: its latest pod and its
recent Events.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model, observe
from conveyor.presentation import humanize, shared

MAX_EVENTS = 10


@dataclasses.dataclass(frozen=True, kw_only=True)
class EventLine:
    age: str
    type: str
    reason: str
    message: str
    count: int = 1


def pod_state(pods: Sequence[Mapping[str, Any]]) -> shared.PodState | None:
    """The latest pod's phase and, while it is not running, why."""
    if not pods:
        return None
    pod = observe.latest_pod(pods) or {}
    status = pod.get("status") or {}
    name = str((pod.get("metadata") or {}).get("name") or "")
    phase = str(status.get("phase") or "Pending")
    why = observe.waiting(pod)
    if why is not None:
        return shared.PodState(
            name=name, phase=phase, waiting_reason=why.reason, waiting_message=why.message
        )
    return shared.PodState(name=name, phase=phase)


def recent_events(
    *, events: Sequence[Mapping[str, Any]], job: Mapping[str, Any], now: datetime.datetime
) -> list[EventLine]:
    """The job's latest Events, oldest first; repeats in a row are counted once."""
    md = job.get("metadata") or {}
    mine = []
    for event in events:
        involved = event.get("involvedObject") or {}
        if involved.get("name") != md.get("name"):
            continue
        if involved.get("kind") not in (None, "PipelineJob"):
            continue
        if involved.get("uid") and md.get("uid") and involved["uid"] != md["uid"]:
            continue  # an earlier object of the same name
        mine.append((_event_time(event), _revision(event), event))
    mine.sort(key=lambda item: (item[0] or model.EPOCH, item[1]))
    lines: list[EventLine] = []
    for when, _, event in mine:
        line = EventLine(
            age=humanize.age(when, now=now),
            type=str(event.get("type") or ""),
            reason=str(event.get("reason") or ""),
            message=str(event.get("message") or ""),
            count=int(event.get("count") or 1),
        )
        last = lines[-1] if lines else None
        if last is not None and (last.type, last.reason, last.message) == (
            line.type,
            line.reason,
            line.message,
        ):
            line = dataclasses.replace(line, count=last.count + line.count)
            lines.pop()
        lines.append(line)
    return lines[-MAX_EVENTS:]


def _revision(event: Mapping[str, Any]) -> int:
    """Orders Events written in the same second (their resourceVersion grows)."""
    version = str((event.get("metadata") or {}).get("resourceVersion") or "")
    return int(version) if version.isdigit() else 0


def _event_time(event: Mapping[str, Any]) -> datetime.datetime | None:
    for text in (
        event.get("lastTimestamp"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        (event.get("metadata") or {}).get("creationTimestamp"),
    ):
        when = model.parse_time(text) if isinstance(text, str) else None
        if when is not None:
            return when
    return None
