"""End to end, with faults injected into the local control plane and the
operator: a leader paused past its lease, the API server restarted, etcd
paused. Through each, no Worker runs more Jobs than its concurrency, no
healthy job fails, nothing runs twice, and work goes on within a bound.

The bounds are loose (a shared 2-core machine); the measured figures are
printed (`pytest -s`). Longer versions run under `make chaos`."""

from __future__ import annotations

import asyncio
import os
import pathlib
import secrets
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from conveyor.k8s import api, leader
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from tests import builders

pytestmark = pytest.mark.e2e

SA = api.Resource(group="", version="v1", plural="serviceaccounts")


@pytest.fixture
async def own(
    cluster: clusters.Cluster, crds: None, client: api.Client
) -> AsyncIterator[kube.Kube]:
    """A namespace of this test's own operator (not `e2e-*`: the session's stays out)."""
    name = f"fault-{secrets.token_hex(4)}"
    cluster.kubectl("create", "namespace", name)
    k = kube.Kube(client=client, namespace=name)
    await k.wait_for("default ServiceAccount", lambda: k.get(SA, "default"))
    yield k
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def local_only(cluster: clusters.Cluster) -> None:
    if not cluster.local:
        pytest.skip("fault injection needs the local control plane")


async def create_jobs(k: kube.Kube, count: int, *, run_time: str) -> list[str]:
    names = [f"job-{i:03d}" for i in range(count)]
    for name in names:
        await k.create(builders.pipelinejob(name).sim(run_time=run_time).obj())
    return names


async def states(k: kube.Kube) -> dict[str, dict[str, Any]]:
    return {i["metadata"]["name"]: i.get("status") or {} for i in await k.list(kube.PJ)}


async def wait_all_done(k: kube.Kube, names: list[str], *, timeout: float) -> None:
    async def done() -> bool:
        st = await states(k)
        return all(st.get(n, {}).get("state") in ("SUCCESS", "FAILED") for n in names)

    await k.wait_for(f"{len(names)} jobs to finish", done, timeout=timeout, interval=1)


async def assert_all_succeeded_once(
    k: kube.Kube, names: list[str], watcher: kube.JobWatcher, *, limit: int
) -> None:
    st = await states(k)
    failed = {n: st[n] for n in names if st[n].get("state") != "SUCCESS"}
    assert not failed, failed  # every job here is healthy
    assert all(st[n].get("attempt") == 1 for n in names)
    assert set(watcher.seen) == {f"{n}-1" for n in names}
    assert watcher.duplicates == []
    assert watcher.max_active.get("build", 0) <= limit, watcher.max_active


async def picked_up_in(k: kube.Kube, name: str, *, timeout: float) -> float:
    """Create `name` now; seconds until the operator has written its status."""
    start = time.monotonic()
    await k.create(builders.pipelinejob(name).obj())
    await k.wait_for(
        f"{name} picked up", lambda: _has_state(k, name), timeout=timeout, interval=0.1
    )
    return time.monotonic() - start


async def _has_state(k: kube.Kube, name: str) -> bool:
    return bool(((await k.pj(name)).get("status") or {}).get("state"))


def operator(
    cluster: clusters.Cluster, k: kube.Kube, log: pathlib.Path, *extra: str
) -> conftest.OperatorProcess:
    return conftest.OperatorProcess(
        kubeconfig=cluster.kubeconfig, namespaces=[k.namespace], log=log, extra_args=extra
    )


async def holder(k: kube.Kube) -> str | None:
    try:
        lease = await k.get(leader.LEASES, "conveyor-operator")
    except api.ApiError:
        return None
    return (lease.get("spec") or {}).get("holderIdentity")


LIMIT = 3


async def test_a_leader_paused_past_its_lease_does_not_act_when_it_resumes(
    cluster: clusters.Cluster, own: kube.Kube, client: api.Client, tmp_path: pathlib.Path
) -> None:
    """Split brain: the leader is SIGSTOPped for longer than its lease, the
    standby takes over, then the old leader is SIGCONTed with its stale view
    (slots it thinks free, Jobs it thinks lost). It must write nothing and
    exit; the limit holds and every job succeeds once."""
    k = own
    await k.create(builders.worker("build").concurrency(LIMIT).obj())
    watcher = kube.JobWatcher(client=client, namespace=k.namespace)
    watcher.start()
    elect = ("--leader-elect", "--leader-elect-namespace", k.namespace)
    a = operator(cluster, k, tmp_path / "a.log", *elect)
    b = operator(cluster, k, tmp_path / "b.log", *elect)
    try:
        a.start()
        a.wait_ready()
        await k.wait_for("a leader", lambda: holder(k))
        b.start()
        b.wait_ready()
        names = await create_jobs(k, 24, run_time="3s")
        await k.wait_for("jobs running", lambda: _running(k), timeout=60)

        lead_id = await holder(k)
        assert lead_id is not None
        leading = a if lead_id.endswith(f"-{a.pid}") else b
        os.kill(leading.pid, signal.SIGSTOP)
        paused = time.monotonic()
        await k.wait_for("the standby to take over", lambda: _held_by_other(k, lead_id), timeout=60)
        took_over = time.monotonic() - paused
        await asyncio.sleep(max(0.0, 20 - (time.monotonic() - paused)))  # past its lease
        os.kill(leading.pid, signal.SIGCONT)
        resumed = time.monotonic()
        await k.wait_for("the old leader to exit", _exited(leading), timeout=30, interval=0.1)
        exited = time.monotonic() - resumed

        await wait_all_done(k, names, timeout=150)
        await asyncio.sleep(1)  # the watcher's last events
    finally:
        for p in (a, b):
            if p.alive():
                os.kill(p.pid, signal.SIGCONT)
            p.stop()
        await watcher.stop()
    await assert_all_succeeded_once(k, names, watcher, limit=LIMIT)
    assert exited < 15, exited
    log = leading.log.read_text()
    assert "lost the lease" in log
    print(
        f"\nsplit brain: standby took over {took_over:.1f}s after the pause; "
        f"old leader exited {exited:.1f}s after SIGCONT; max active {watcher.max_active}"
    )


async def _running(k: kube.Kube) -> bool:
    return any(s.get("state") == "RUNNING" for s in (await states(k)).values())


async def _held_by_other(k: kube.Kube, lead_id: str) -> bool:
    now = await holder(k)
    return now is not None and now != lead_id


def _exited(proc: conftest.OperatorProcess) -> Any:
    async def probe() -> bool:
        return not proc.alive()

    return probe


async def test_the_api_server_restarts_mid_run(
    cluster: clusters.Cluster, own: kube.Kube, client: api.Client, tmp_path: pathlib.Path
) -> None:
    local_only(cluster)
    k = own
    await k.create(builders.worker("build").concurrency(LIMIT).obj())
    watcher = kube.JobWatcher(client=client, namespace=k.namespace)
    watcher.start()
    op = operator(cluster, k, tmp_path / "operator.log")
    try:
        op.start()
        op.wait_ready()
        names = await create_jobs(k, 12, run_time="2s")
        await k.wait_for("jobs running", lambda: _running(k), timeout=60)
        started = time.monotonic()
        await asyncio.to_thread(cluster.restart, "kube-apiserver")
        outage = time.monotonic() - started
        pickup = await picked_up_in(k, "after-restart", timeout=60)
        await wait_all_done(k, [*names, "after-restart"], timeout=120)
        await asyncio.sleep(1)
        assert op.alive()  # rode it out, no restart needed
    finally:
        op.stop()
        await watcher.stop()
    await assert_all_succeeded_once(k, [*names, "after-restart"], watcher, limit=LIMIT)
    log = op.log.read_text()
    assert "Traceback" not in log, log[-3000:]
    print(f"\napi server restart: {outage:.1f}s down; a new job picked up {pickup:.1f}s after")
    assert pickup < 20, pickup  # 5 s on an idle machine (watch retries every 2 s at most)


async def test_etcd_paused_mid_run(
    cluster: clusters.Cluster, own: kube.Kube, client: api.Client, tmp_path: pathlib.Path
) -> None:
    local_only(cluster)
    k = own
    await k.create(builders.worker("build").concurrency(LIMIT).obj())
    watcher = kube.JobWatcher(client=client, namespace=k.namespace)
    watcher.start()
    op = operator(cluster, k, tmp_path / "operator.log")
    try:
        op.start()
        op.wait_ready()
        names = await create_jobs(k, 12, run_time="2s")
        await k.wait_for("jobs running", lambda: _running(k), timeout=60)
        await asyncio.to_thread(cluster.pause, "etcd", seconds=10)
        await asyncio.sleep(10.5)
        pickup = await picked_up_in(k, "after-pause", timeout=60)
        await wait_all_done(k, [*names, "after-pause"], timeout=120)
        await asyncio.sleep(1)
    finally:
        op.stop()
        await watcher.stop()
    await assert_all_succeeded_once(k, [*names, "after-pause"], watcher, limit=LIMIT)
    print(f"\netcd paused 10s: a new job picked up {pickup:.1f}s after it resumed")
    assert pickup < 20, pickup


TAKEOVER_ROUNDS = int(os.environ.get("CONVEYOR_CHAOS_TAKEOVERS", "10"))


@pytest.mark.chaos
async def test_takeover_time_over_many_leader_deaths(
    cluster: clusters.Cluster, own: kube.Kube, client: api.Client, tmp_path: pathlib.Path
) -> None:
    """The figure behind the README's HA sentence: the leader SIGKILLed,
    a job created at once; seconds until the standby has started its Job.
    Prints p50, p99 and max over CONVEYOR_CHAOS_TAKEOVERS rounds (10)."""
    k = own
    await k.create(builders.worker("build").concurrency(5).obj())
    watcher = kube.JobWatcher(client=client, namespace=k.namespace)
    watcher.start()
    elect = ("--leader-elect", "--leader-elect-namespace", k.namespace)
    procs = [operator(cluster, k, tmp_path / f"r{i}.log", *elect) for i in range(2)]
    figures: list[float] = []
    try:
        for p in procs:
            p.start()
            p.wait_ready()
        for round_ in range(TAKEOVER_ROUNDS):
            await k.create(builders.pipelinejob(f"warm-{round_}").obj())
            await k.wait_state(f"warm-{round_}", "SUCCESS", timeout=90)  # a leader acts
            lead_id = await holder(k)
            assert lead_id is not None
            leading = next(p for p in procs if lead_id.endswith(f"-{p.pid}"))
            leading.kill()
            killed = time.monotonic()
            name = f"after-{round_}"
            await k.create(builders.pipelinejob(name).obj())
            await k.wait_for(f"{name}'s Job", _seen(watcher, f"{name}-1"), timeout=90, interval=0.1)
            figures.append(time.monotonic() - killed)
            leading.start()  # back as the standby
            leading.wait_ready()
    finally:
        for p in procs:
            p.stop()
        await watcher.stop()
    figures.sort()
    p99 = figures[min(len(figures) - 1, round(0.99 * (len(figures) - 1)))]
    print(
        f"\ntakeover over {len(figures)} leader deaths: p50 {figures[len(figures) // 2]:.1f}s, "
        f"p99 {p99:.1f}s, max {figures[-1]:.1f}s (lease 15 s)"
    )
    assert figures[-1] < 25, figures


def _seen(watcher: kube.JobWatcher, job: str) -> Any:
    async def probe() -> bool:
        return job in watcher.seen

    return probe
