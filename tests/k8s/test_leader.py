"""Leader election: when a Lease counts as expired, and how the elector
acquires, renews, loses and releases it, on a fake Lease API and the event
loop's fake clock (looptime: sleeps and timeouts take no real time)."""

from __future__ import annotations

import asyncio
import copy
import datetime
from typing import Any

import pytest

from conveyor.k8s import api, leader
from tests.builders import kube as kube_builders

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def stamp(seconds_ago: float) -> str:
    return (NOW - datetime.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize(
    ("spec", "is_expired"),
    [
        pytest.param(
            {"holderIdentity": "a", "renewTime": stamp(5), "leaseDurationSeconds": 15},
            False,
            id="fresh",
        ),
        pytest.param(
            {"holderIdentity": "a", "renewTime": stamp(16), "leaseDurationSeconds": 15},
            True,
            id="lapsed",
        ),
        pytest.param(
            {"holderIdentity": "a", "acquireTime": stamp(5), "leaseDurationSeconds": 15},
            False,
            id="acquired",
        ),
        pytest.param({"holderIdentity": "a", "leaseDurationSeconds": 15}, True, id="never renewed"),
        pytest.param(
            {"holderIdentity": "a", "renewTime": "garbage", "leaseDurationSeconds": 15},
            True,
            id="unreadable",
        ),
        pytest.param(
            {"holderIdentity": None, "renewTime": stamp(0), "leaseDurationSeconds": 1},
            True,
            id="released",
        ),
    ],
)
def test_expired(spec: dict[str, object], is_expired: bool) -> None:
    assert leader.expired(spec=spec, now=NOW) is is_expired


@pytest.mark.parametrize(
    ("lease", "renew", "retry"),
    [(15, 15, 2), (15, 10, 10), (15, 20, 2)],
    ids=["deadline = lease", "retry = deadline", "deadline > lease"],
)
def test_the_renew_deadline_must_fall_between_retry_and_lease(
    lease: int, renew: float, retry: float
) -> None:
    with pytest.raises(ValueError, match="renew deadline"):
        leader.Config(
            namespace="ns", lease_seconds=lease, renew_deadline=renew, retry_seconds=retry
        )


def test_defaults_are_client_gos() -> None:
    cfg = leader.Config(namespace="ns")
    assert (cfg.lease_seconds, cfg.renew_deadline, cfg.retry_seconds) == (15, 10.0, 2.0)


class FakeLeases:
    """One Lease API: get, create, PUT with optimistic concurrency. `down`
    makes every call fail as a stopped API server does; `hang` makes calls
    never answer."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.version = 0
        self.down = False
        self.hang = False
        self.puts: list[str] = []  # holder of each successful write

    async def _enter(self) -> None:
        await asyncio.sleep(0.01)  # a round trip
        if self.hang:
            await asyncio.Event().wait()
        if self.down:
            raise api.ApiError(status=0, reason="ConnectionError", message="refused")

    async def get(self, resource: api.Resource, *, namespace: str, name: str) -> dict[str, Any]:
        await self._enter()
        if self.lease is None:
            raise api.ApiError(status=404, reason="NotFound", message=name)
        return copy.deepcopy(self.lease)

    async def create(
        self, resource: api.Resource, *, namespace: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        await self._enter()
        if self.lease is not None:
            raise api.ApiError(status=409, reason="AlreadyExists", message="exists")
        return self._store(body)

    async def request(self, method: str, path: str, *, body: dict[str, Any]) -> dict[str, Any]:
        await self._enter()
        assert method == "PUT"
        assert self.lease is not None
        if body["metadata"]["resourceVersion"] != self.lease["metadata"]["resourceVersion"]:
            raise api.ApiError(status=409, reason="Conflict", message="modified")
        return self._store(body)

    def _store(self, body: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        self.lease = copy.deepcopy(body)
        self.lease["metadata"]["resourceVersion"] = str(self.version)
        self.puts.append(str(self.lease["spec"].get("holderIdentity")))
        return copy.deepcopy(self.lease)


def wall() -> datetime.datetime:
    """The wall clock, moving with the (fake) loop time."""
    return NOW + datetime.timedelta(seconds=leader.loop_time())


def elector(leases: FakeLeases, identity: str) -> leader.Elector:
    config = leader.Config(namespace="ns", identity=identity)
    return leader.Elector(client=leases, config=config, clock=wall)  # type: ignore[arg-type]


class Lost:
    def __init__(self) -> None:
        self.at: float | None = None

    def __call__(self) -> None:
        self.at = leader.loop_time()


async def until(predicate: Any, *, timeout: float = 60, step: float = 0.05) -> float:
    """Loop time when `predicate()` first holds (polled every `step`)."""
    for _ in range(int(timeout / step)):
        if predicate():
            return leader.loop_time()
        await asyncio.sleep(step)
    raise AssertionError(f"not within {timeout}s")


@pytest.mark.looptime
async def test_a_leader_acts_while_it_renews() -> None:
    leases = FakeLeases()
    a, lost = elector(leases, "a"), Lost()
    task = asyncio.create_task(a.run(on_lost=lost))
    await until(a.leading.is_set)
    assert a.may_act()
    for _ in range(30):  # a minute of renewals
        await asyncio.sleep(2)
        assert a.may_act()
    assert lost.at is None
    assert leases.puts.count("a") >= 25
    task.cancel()


@pytest.mark.looptime
async def test_a_leader_that_cannot_renew_stops_at_the_renew_deadline() -> None:
    """Before anyone else may take the Lease (5 s later, at its duration)."""
    leases = FakeLeases()
    a, lost = elector(leases, "a"), Lost()
    task = asyncio.create_task(a.run(on_lost=lost))
    await until(a.leading.is_set)
    await asyncio.sleep(5)
    leases.down = True
    renewed = wall()  # no later than the last successful renewal's renewTime
    stopped = await until(lambda: not a.may_act(), step=0.01)
    assert lost.at is not None
    assert lost.at - stopped < 0.1
    spec = leases.lease["spec"] if leases.lease else {}
    lapses = leader.expires_in(spec=spec, now=renewed) + leader.loop_time() - stopped
    assert lapses >= 5 - 2.1  # at least lease - deadline - one retry period of margin
    await task


@pytest.mark.looptime
async def test_a_renewal_that_never_answers_ends_at_the_deadline_too() -> None:
    leases = FakeLeases()
    a, lost = elector(leases, "a"), Lost()
    task = asyncio.create_task(a.run(on_lost=lost))
    await until(a.leading.is_set)
    acquired = leader.loop_time()
    leases.hang = True
    await task
    assert lost.at is not None
    assert acquired + 9 <= lost.at <= acquired + 10.1
    assert not a.may_act()


@pytest.mark.looptime
async def test_a_paused_leader_may_not_act_when_it_resumes() -> None:
    """What a SIGSTOP does: no task runs, time goes on. The first thing that
    runs afterwards, whatever it is, sees the deadline has passed."""
    leases = FakeLeases()
    a = elector(leases, "a")
    task = asyncio.create_task(a.run(on_lost=Lost()))
    await until(a.leading.is_set)
    resumed_at = leader.loop_time() + 30
    assert a.may_act()
    assert not a.may_act(resumed_at)
    task.cancel()


@pytest.mark.looptime
async def test_a_standby_takes_over_when_the_lease_lapses_not_a_poll_later() -> None:
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    task_a = asyncio.create_task(a.run(on_lost=Lost()))
    await until(a.leading.is_set)
    task_b = asyncio.create_task(b.run(on_lost=Lost()))
    await asyncio.sleep(7.3)
    assert not b.leading.is_set()
    task_a.cancel()  # the leader dies between two renewals
    last = leases.lease["spec"]["renewTime"] if leases.lease else ""
    lapses = datetime.datetime.fromisoformat(last.replace("Z", "+00:00")) + datetime.timedelta(
        seconds=15
    )
    took_over = await until(b.leading.is_set, step=0.01)
    late = (NOW + datetime.timedelta(seconds=took_over) - lapses).total_seconds()
    assert 0 < late < 0.2
    assert leases.lease is not None
    assert leases.lease["spec"]["leaseTransitions"] == 1
    task_b.cancel()


@pytest.mark.looptime
async def test_two_replicas_never_may_act_at_once_through_an_outage() -> None:
    """The leader is cut off from the API (its calls fail), the standby is
    not; at every moment at most one of them may act."""
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    lost_a = Lost()
    task_a = asyncio.create_task(a.run(on_lost=lost_a))
    await until(a.leading.is_set)
    task_b = asyncio.create_task(b.run(on_lost=Lost()))
    await asyncio.sleep(4)

    real_enter = leases._enter

    async def partitioned() -> None:
        await real_enter()
        if asyncio.current_task() is task_a:
            raise api.ApiError(status=0, reason="ConnectionError", message="partitioned")

    leases._enter = partitioned  # type: ignore[method-assign]
    both, first_b = 0, None
    for _ in range(2500):  # 25 s in steps of 10 ms
        await asyncio.sleep(0.01)
        both += a.may_act() and b.may_act()
        if first_b is None and b.may_act():
            first_b = leader.loop_time()
    assert both == 0
    assert lost_a.at is not None
    assert first_b is not None
    assert first_b - lost_a.at >= 3  # the margin between deadline and lease
    await task_a
    task_b.cancel()


@pytest.mark.looptime
async def test_a_leader_whose_lease_was_taken_stops_at_its_next_renewal() -> None:
    leases = FakeLeases()
    a, lost = elector(leases, "a"), Lost()
    task = asyncio.create_task(a.run(on_lost=lost))
    await until(a.leading.is_set)
    assert leases.lease is not None
    leases.lease["spec"]["holderIdentity"] = "someone-else"
    leases.version += 1
    leases.lease["metadata"]["resourceVersion"] = str(leases.version)
    taken = leader.loop_time()
    await task
    assert lost.at is not None
    assert lost.at - taken <= 2.1


@pytest.mark.looptime
async def test_a_released_lease_is_taken_at_the_next_attempt() -> None:
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    task_a = asyncio.create_task(a.run(on_lost=Lost()))
    await until(a.leading.is_set)
    task_b = asyncio.create_task(b.run(on_lost=Lost()))
    await asyncio.sleep(3)
    task_a.cancel()
    await asyncio.gather(task_a, return_exceptions=True)
    released = leader.loop_time()
    await a.release()
    assert not a.may_act()
    took_over = await until(b.leading.is_set, step=0.01)
    assert took_over - released <= 2.1  # one retry period, not the lease's 15 s
    task_b.cancel()


async def test_a_client_that_may_not_write_sends_nothing() -> None:
    source = kube_builders.StaticLogin("https://127.0.0.1:1")
    async with api.Client(login=source, may_write=lambda: False) as client:
        with pytest.raises(api.NotLeading):
            await client.create(api.EVENTS, namespace="ns", body={})
        with pytest.raises(api.NotLeading):
            await client.patch_status(api.PIPELINEJOBS, namespace="ns", name="a", patch={})
