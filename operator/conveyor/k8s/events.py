"""Kubernetes Events on PipelineJobs (what `kubectl describe` shows).

Posted in the background and never allowed to fail a decision: an Event is
a courtesy to the reader, the status is the record.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from conveyor.core import lifecycle, model, names
from conveyor.k8s import api, clock, transient

logger = logging.getLogger("conveyor.events")
TRANSIENT = transient.Tally(logger=logger)

COMPONENT = "conveyor-operator"
# Kubernetes caps an Event's message at 1 KiB in practice (events/v1 note).
MAX_MESSAGE = 1024


def manifest(
    *, body: Mapping[str, Any], event: lifecycle.Event, now: datetime.datetime
) -> dict[str, Any]:
    md = body.get("metadata") or {}
    stamp = model.format_time(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{md.get('name')}.{secrets.token_hex(8)}",
            "namespace": md.get("namespace"),
        },
        "involvedObject": {
            "apiVersion": body.get("apiVersion") or names.GROUP_VERSION,
            "kind": body.get("kind") or "PipelineJob",
            "name": md.get("name"),
            "namespace": md.get("namespace"),
            "uid": md.get("uid"),
            "resourceVersion": md.get("resourceVersion"),
        },
        "type": event.type,
        "reason": event.reason,
        "message": event.message[:MAX_MESSAGE],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


class Recorder:
    def __init__(self, *, client: api.Client, clock: clock.Clock) -> None:
        self._client = client
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    def post(self, *, body: Mapping[str, Any], event: lifecycle.Event) -> None:
        data = manifest(body=body, event=event, now=self._clock.now())
        task = asyncio.create_task(self._send(data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Until every Event posted so far is sent (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _send(self, data: dict[str, Any]) -> None:
        try:
            await self._client.create(
                api.EVENTS, namespace=data["metadata"]["namespace"], body=data
            )
        except Exception as exc:  # an Event is not worth a crash
            if transient.is_transient(exc):
                TRANSIENT.failed("posting events", exc)
            else:
                logger.warning("could not post event %s: %s", data.get("reason"), exc)
