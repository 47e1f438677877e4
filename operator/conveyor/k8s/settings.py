"""The operator's settings (from `conveyor operator` flags)."""

from __future__ import annotations

import dataclasses
import datetime

from conveyor.core import health, images


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    max_inflight_writes: int = 64
    # The least time between two rewrites of a waiting job's message (see
    # scheduling.rewrite_in; why 60 s: docs/performance.md).
    queue_message_interval: float = 60.0
    resync_interval: float = 300.0
    # Tests only (hidden flags): see k8s/clock.py.
    time_scale: float = 1.0
    clock_anchor: float = 0.0
    # How long a pod may stay unschedulable before its Worker counts as unhealthy.
    unschedulable_grace: datetime.timedelta = health.DEFAULT_GRACE
    # The image of the built-in job types' agent containers (--agent-image).
    agent_image: str = images.DEFAULT_AGENT
