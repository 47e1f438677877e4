"""Leader election on a coordination.k8s.io Lease, as client-go does it:
with more than one replica, only the holder of the Lease acts.

Every replica watches and keeps its store warm; only the leader runs the
control loop. A leader that cannot renew its Lease in time stops the process
(its pod restarts as a standby): two replicas must never act at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from conveyor.k8s import api

logger = logging.getLogger("conveyor.leader")

LEASES = api.Resource(group="coordination.k8s.io", version="v1", plural="leases")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config:
    namespace: str
    name: str = "conveyor-operator"
    identity: str = dataclasses.field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}"
    )
    lease_seconds: int = 15
    renew_seconds: float = 5.0


def _micro(now: datetime.datetime) -> str:
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def expired(*, spec: dict[str, Any], now: datetime.datetime) -> bool:
    """Whether the Lease's holder has not renewed within its duration."""
    renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
    duration = int(spec.get("leaseDurationSeconds") or 0)
    return renewed is None or now > renewed + datetime.timedelta(seconds=duration)


class Elector:
    def __init__(
        self,
        *,
        client: api.Client,
        config: Config,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self.leading = asyncio.Event()

    async def run(self, *, on_lost: Callable[[], None]) -> None:
        """Acquire the Lease, then renew it until the end; `on_lost` when it slips."""
        while True:
            try:
                if await self._try():
                    break
            except api.ApiError as exc:  # e.g. the API server restarting: keep trying
                logger.warning("acquiring the lease failed: %s", exc)
            await asyncio.sleep(self.config.renew_seconds)
        logger.info("leading as %s (lease %s)", self.config.identity, self._where())
        self.leading.set()
        last_renewed = self.clock()
        while True:
            await asyncio.sleep(self.config.renew_seconds)
            try:
                if await self._try():
                    last_renewed = self.clock()
                    continue
            except Exception as exc:  # a failed renewal is retried until the lease runs out
                logger.warning("renewing the lease failed: %s", exc)
            if self.clock() - last_renewed > datetime.timedelta(seconds=self.config.lease_seconds):
                logger.error("lost the lease %s; stopping", self._where())
                self.leading.clear()
                on_lost()
                return

    def _where(self) -> str:
        return f"{self.config.namespace}/{self.config.name}"

    async def _try(self) -> bool:
        """One acquire-or-renew step; True when we hold the Lease afterwards."""
        cfg, now = self.config, self.clock()
        ours = {
            "holderIdentity": cfg.identity,
            "leaseDurationSeconds": cfg.lease_seconds,
            "renewTime": _micro(now),
        }
        try:
            lease = await self.client.get(LEASES, namespace=cfg.namespace, name=cfg.name)
        except api.ApiError as exc:
            if not exc.not_found:
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": cfg.name, "namespace": cfg.namespace},
                "spec": {**ours, "acquireTime": _micro(now), "leaseTransitions": 0},
            }
            try:
                await self.client.create(LEASES, namespace=cfg.namespace, body=body)
            except api.ApiError as create_exc:
                if create_exc.already_exists:
                    return False
                raise
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        if holder != cfg.identity and not expired(spec=spec, now=now):
            return False
        new_spec = {**spec, **ours}
        if holder != cfg.identity:
            new_spec["acquireTime"] = _micro(now)
            new_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        try:
            # PUT with the resourceVersion we read: two candidates cannot both win.
            await self.client.request(
                "PUT",
                LEASES.path(namespace=cfg.namespace, name=cfg.name),
                body={**lease, "spec": new_spec},
            )
        except api.ApiError as exc:
            if exc.conflict:
                return False
            raise
        return True
