"""Leader election on a coordination.k8s.io Lease, as client-go does it:
with more than one replica, only the holder of the Lease acts.

Every replica watches and keeps its store warm; only the leader runs the
control loop. Three durations, client-go's defaults (kube-controller-manager
and kube-scheduler use the same):

- `lease_seconds` (15 s): how long the others wait after the last renewal
  before they may take the Lease;
- `renew_deadline` (10 s): how long after the start of its last successful
  renewal the leader may still act. It is shorter than the lease, so a
  leader that cannot renew (partitioned, overloaded, SIGSTOPped) has stopped
  acting 5 s before anyone else can start; that margin also absorbs clock
  drift between nodes (the Lease's renewTime is wall-clock time);
- `retry_seconds` (2 s): between renewals, and between a standby's attempts.

"May I act" is a deadline on the monotonic clock, read before every write
(`may_act`, which the controller's API client checks before each request it
sends), not a flag a background task clears: a process resumed after a
pause sees at once that its deadline has passed. A leader that loses the
Lease stops the process (its pod restarts as a standby).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import math
import os
import socket
from collections.abc import Callable
from typing import Any

from conveyor.k8s import api

logger = logging.getLogger("conveyor.leader")

LEASES = api.Resource(group="coordination.k8s.io", version="v1", plural="leases")

Clock = Callable[[], datetime.datetime]
Monotonic = Callable[[], float]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config:
    namespace: str
    name: str = "conveyor-operator"
    identity: str = dataclasses.field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}"
    )
    lease_seconds: int = 15
    renew_deadline: float = 10.0
    retry_seconds: float = 2.0

    def __post_init__(self) -> None:
        if not self.retry_seconds < self.renew_deadline < self.lease_seconds:
            raise ValueError("leader election needs retry < renew deadline < lease duration")


def _micro(now: datetime.datetime) -> str:
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def expires_in(*, spec: dict[str, Any], now: datetime.datetime) -> float:
    """Seconds until the Lease's holder loses it (negative: it is free).
    A Lease with no holder (released) or no readable time is free."""
    renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
    if not spec.get("holderIdentity") or renewed is None:
        return -math.inf
    duration = float(spec.get("leaseDurationSeconds") or 0)
    return (renewed + datetime.timedelta(seconds=duration) - now).total_seconds()


def expired(*, spec: dict[str, Any], now: datetime.datetime) -> bool:
    """Whether the Lease's holder has not renewed within its duration."""
    return expires_in(spec=spec, now=now) < 0


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def loop_time() -> float:
    """The event loop's monotonic clock (faked in tests by looptime)."""
    return asyncio.get_running_loop().time()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Attempt:
    held: bool  # we hold the Lease now
    holder: str | None  # who holds it (after the attempt)
    free_in: float  # seconds until someone else's Lease lapses (0 when ours or free)


class Elector:
    def __init__(
        self,
        *,
        client: api.Client,
        config: Config,
        clock: Clock = utcnow,
        monotonic: Monotonic = loop_time,
    ) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self.monotonic = monotonic
        self.leading = asyncio.Event()
        self._acts_until = -math.inf  # monotonic: the renew deadline of our last renewal
        self._acquired = False  # we held the Lease at some point (release() has work)

    def may_act(self, now: float | None = None) -> bool:
        """Whether this replica may write now (monotonic seconds; default: now).
        False before it leads, and from the renew deadline of its last
        successful renewal on, whatever any task has noticed yet."""
        return (self.monotonic() if now is None else now) < self._acts_until

    async def run(self, *, on_lost: Callable[[], None]) -> None:
        """Acquire the Lease, then renew it until it slips; then `on_lost`."""
        await self._acquire()
        self._acquired = True
        logger.info("leading as %s (lease %s)", self.config.identity, self._where())
        self.leading.set()
        try:
            why = await self._renew()
        finally:
            self._acts_until = -math.inf
            self.leading.clear()
        logger.error("lost the lease %s: %s; stopping", self._where(), why)
        on_lost()

    async def release(self) -> None:
        """Give the Lease up (graceful shutdown, once the caller has stopped
        acting): a standby takes over at its next attempt, not after the
        lease duration. Only if we still hold it; best effort, bounded."""
        self._acts_until = -math.inf
        if not self._acquired:
            return
        cfg = self.config
        try:
            async with asyncio.timeout(cfg.retry_seconds):
                lease = await self.client.get(LEASES, namespace=cfg.namespace, name=cfg.name)
                spec = lease.get("spec") or {}
                if spec.get("holderIdentity") != cfg.identity:
                    return
                released = {**spec, "holderIdentity": None, "leaseDurationSeconds": 1}
                await self._put(lease, released)
        except (api.ApiError, TimeoutError) as exc:
            logger.warning("releasing the lease %s failed: %s", self._where(), exc)
            return
        logger.info("released the lease %s", self._where())

    async def _acquire(self) -> None:
        while True:
            wait = self.config.retry_seconds
            try:
                attempt = await self._try()
                if attempt.held:
                    return
                # Try again when the holder's Lease lapses, if that is sooner.
                wait = min(wait, max(attempt.free_in, 0.0) + 0.05)
            except api.ApiError as exc:  # e.g. the API server restarting: keep trying
                logger.warning("acquiring the lease failed: %s", exc)
            await asyncio.sleep(wait)

    async def _renew(self) -> str:
        """Renew every retry period until the deadline passes; say why it ended."""
        cfg = self.config
        while True:
            # Wake at the deadline at the latest: stop on time, not a retry later.
            left = self._acts_until - self.monotonic()
            await asyncio.sleep(min(cfg.retry_seconds, max(left, 0.0)))
            left = self._acts_until - self.monotonic()
            if left <= 0:
                return f"not renewed within the renew deadline ({cfg.renew_deadline:g}s)"
            try:
                async with asyncio.timeout(left):
                    attempt = await self._try()
            except TimeoutError:
                return f"not renewed within the renew deadline ({cfg.renew_deadline:g}s)"
            except api.ApiError as exc:  # retried until the deadline
                logger.warning("renewing the lease failed: %s", exc)
                continue
            if not attempt.held:
                return f"now held by {attempt.holder}"

    def _where(self) -> str:
        return f"{self.config.namespace}/{self.config.name}"

    async def _try(self) -> Attempt:
        """One acquire-or-renew step. On success the renew deadline counts
        from before the read: the renewTime written is no later than that."""
        cfg = self.config
        started, now = self.monotonic(), self.clock()
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
            return await self._create(ours=ours, now=now, started=started)
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        if holder != cfg.identity and not expired(spec=spec, now=now):
            return Attempt(held=False, holder=holder, free_in=expires_in(spec=spec, now=now))
        new_spec = {**spec, **ours}
        if holder != cfg.identity:
            new_spec["acquireTime"] = _micro(now)
            new_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        if not await self._put(lease, new_spec):
            return Attempt(held=False, holder=None, free_in=0.0)
        self._acts_until = started + cfg.renew_deadline
        return Attempt(held=True, holder=cfg.identity, free_in=0.0)

    async def _create(
        self, *, ours: dict[str, Any], now: datetime.datetime, started: float
    ) -> Attempt:
        cfg = self.config
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": cfg.name, "namespace": cfg.namespace},
            "spec": {**ours, "acquireTime": _micro(now), "leaseTransitions": 0},
        }
        try:
            await self.client.create(LEASES, namespace=cfg.namespace, body=body)
        except api.ApiError as exc:
            if exc.already_exists:
                return Attempt(held=False, holder=None, free_in=0.0)
            raise
        self._acts_until = started + cfg.renew_deadline
        return Attempt(held=True, holder=cfg.identity, free_in=0.0)

    async def _put(self, lease: dict[str, Any], spec: dict[str, Any]) -> bool:
        """PUT with the resourceVersion we read: two candidates cannot both win."""
        cfg = self.config
        try:
            await self.client.request(
                "PUT",
                LEASES.path(namespace=cfg.namespace, name=cfg.name),
                body={**lease, "spec": spec},
            )
        except api.ApiError as exc:
            if exc.conflict:
                return False
            raise
        return True
