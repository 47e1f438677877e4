"""End to end: PipelineCronJobs create PipelineJobs on schedule.

The operator here runs with a fast clock (--time-scale): one scheduled minute
passes in about two real seconds, so "* * * * *" fires every two seconds while
pods still run in real time. It watches only `cron-*` namespaces, apart from
the session's operator.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from tests import builders

pytestmark = pytest.mark.e2e

SCALE = 30.0  # one minute every 2 s
PCJ = kube.PCJ


@pytest.fixture(scope="module")
def cron_operator(
    cluster: clusters.Cluster, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[conftest.OperatorProcess]:
    proc = conftest.OperatorProcess(
        kubeconfig=cluster.kubeconfig,
        namespaces=["cron-*"],
        log=tmp_path_factory.mktemp("cron") / "operator.log",
        extra_args=("--time-scale", str(SCALE), "--clock-anchor", str(time.time())),
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
async def ck(
    cluster: clusters.Cluster, cron_operator: conftest.OperatorProcess, client: api.Client
) -> AsyncIterator[kube.Kube]:
    name = f"cron-{secrets.token_hex(4)}"
    cluster.kubectl("create", "namespace", name)
    k = kube.Kube(client=client, namespace=name)
    sa = api.Resource(group="", version="v1", plural="serviceaccounts")
    await k.wait_for("default ServiceAccount", lambda: k.get(sa, "default"))
    await k.create(builders.worker("build").concurrency(5).obj())
    yield k
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def cronjob(name: str, *, job: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineCronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {"metadata": {"labels": {"app": name}}, "spec": job["spec"]},
            **spec,
        },
    }


async def children(k: kube.Kube, cron: str) -> list[dict[str, Any]]:
    items = await k.list(kube.PJ, labelSelector=f"conveyor.dev/cronjob={cron}")
    return sorted(items, key=lambda i: i["metadata"]["name"])


async def cron_status(k: kube.Kube, name: str) -> dict[str, Any]:
    status: dict[str, Any] = (await k.get(PCJ, name)).get("status") or {}
    return status


async def test_a_schedule_fires_and_its_job_runs(ck: kube.Kube) -> None:
    await ck.create(cronjob("nightly", job=builders.pipelinejob("x").obj()))

    async def first_child() -> list[dict[str, Any]]:
        return await children(ck, "nightly")

    kids = await ck.wait_for("a PipelineJob from nightly", first_child, timeout=30)
    child = kids[0]
    assert child["metadata"]["name"].startswith("nightly-")
    assert child["metadata"]["labels"]["app"] == "nightly"
    assert child["metadata"]["ownerReferences"][0]["kind"] == "PipelineCronJob"
    await ck.wait_state(child["metadata"]["name"], "SUCCESS")

    async def recorded() -> bool:
        st = await cron_status(ck, "nightly")
        return bool(st.get("lastScheduleTime") and st.get("lastSuccessfulTime"))

    await ck.wait_for("nightly's lastScheduleTime and lastSuccessfulTime", recorded)
    assert (await cron_status(ck, "nightly")).get("nextScheduleTime")


async def test_forbid_skips_while_one_runs(ck: kube.Kube) -> None:
    await ck.create(
        cronjob(
            "forbid",
            job=builders.pipelinejob("x").sim(run_time="30s").obj(),
            concurrencyPolicy="Forbid",
        )
    )
    await ck.wait_for("the first run", lambda: children(ck, "forbid"), timeout=30)
    await asyncio.sleep(8)  # four scheduled minutes

    kids = await children(ck, "forbid")
    assert len(kids) == 1, [c["metadata"]["name"] for c in kids]
    await ck.wait_events("forbid", "SkippedForbid")


async def test_replace_revokes_the_running_one(ck: kube.Kube) -> None:
    await ck.create(
        cronjob(
            "replace",
            job=builders.pipelinejob("x").sim(run_time="60s").obj(),
            concurrencyPolicy="Replace",
        )
    )
    kids = await ck.wait_for("the first run", lambda: children(ck, "replace"), timeout=30)
    first = kids[0]["metadata"]["name"]

    await ck.wait_state(first, "REVOKED", timeout=30)

    async def a_newer_one() -> bool:
        return any(c["metadata"]["name"] > first for c in await children(ck, "replace"))

    await ck.wait_for("a newer run after the revoked one", a_newer_one)


async def test_suspend_stops_creation(ck: kube.Kube) -> None:
    await ck.create(cronjob("paused", job=builders.pipelinejob("x").obj(), suspend=True))
    await asyncio.sleep(6)  # three scheduled minutes
    assert await children(ck, "paused") == []

    await ck.patch(PCJ, "paused", {"spec": {"suspend": False}})
    await ck.wait_for("a run after resuming", lambda: children(ck, "paused"), timeout=30)


async def test_history_limits_delete_old_runs(ck: kube.Kube) -> None:
    await ck.create(
        cronjob(
            "trimmed",
            job=builders.pipelinejob("x").obj(),
            successfulJobsHistoryLimit=1,
            failedJobsHistoryLimit=1,
        )
    )

    async def succeeded_runs() -> int:
        st = await cron_status(ck, "trimmed")
        return 1 if st.get("lastSuccessfulTime") else 0

    await ck.wait_for("a successful run", succeeded_runs, timeout=30)
    await asyncio.sleep(10)  # several more runs

    kids = await children(ck, "trimmed")
    finished = [c for c in kids if (c.get("status") or {}).get("state") == "SUCCESS"]
    assert len(finished) <= 1, [c["metadata"]["name"] for c in kids]


async def test_three_failures_in_a_row_suspend_it(ck: kube.Kube) -> None:
    await ck.create(
        cronjob(
            "broken", job=builders.pipelinejob("x").sim(exit_code=1).obj(), maxConsecutiveFailures=3
        )
    )

    async def suspended() -> dict[str, Any] | None:
        st = await cron_status(ck, "broken")
        return st if st.get("suspended") else None

    status = await ck.wait_for("broken auto-suspended", suspended, timeout=60)
    assert status["reason"] == "TooManyFailures"
    assert status["consecutiveFailures"] == 3
    await ck.wait_events("broken", "Suspended")
    names = {c["metadata"]["name"] for c in await children(ck, "broken")}
    await asyncio.sleep(6)
    later = {c["metadata"]["name"] for c in await children(ck, "broken")}
    assert later <= names  # nothing new while suspended (history may trim)
    spec = (await ck.get(PCJ, "broken"))["spec"]
    assert spec.get("suspend") is not True  # the operator never writes spec


async def test_a_restart_across_a_scheduled_time_creates_one_run(
    cluster: clusters.Cluster, ck: kube.Kube, cron_operator: conftest.OperatorProcess
) -> None:
    await ck.create(cronjob("steady", job=builders.pipelinejob("x").obj()))
    await ck.wait_for("a first run", lambda: children(ck, "steady"), timeout=30)

    cron_operator.kill()
    try:
        before = {c["metadata"]["name"] for c in await children(ck, "steady")}
        await asyncio.sleep(6)  # about three scheduled minutes pass while it is down
    finally:
        cron_operator.start()

    async def caught_up() -> set[str] | None:
        new = {c["metadata"]["name"] for c in await children(ck, "steady")} - before
        return new or None

    new = await ck.wait_for("the catch-up run", caught_up, timeout=30)
    # At most one catch-up run for the missed times; later runs follow the
    # schedule one by one, each name (its schedule minute) only once.
    minutes = sorted(int(n.rsplit("-", 1)[1]) for n in new)
    assert len(minutes) == len(set(minutes))
    assert len(minutes) <= 2, minutes
