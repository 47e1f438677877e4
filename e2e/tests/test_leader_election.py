"""End to end: two replicas with --leader-elect; only the Lease holder acts,
and the other takes over when the leader dies."""

from __future__ import annotations

import pathlib
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from conveyor.k8s import api, leader
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from tests import builders

pytestmark = pytest.mark.e2e


@pytest.fixture
async def ha(cluster: clusters.Cluster, crds: None, client: api.Client) -> AsyncIterator[kube.Kube]:
    name = f"ha-{secrets.token_hex(4)}"  # not e2e-*: the session operator stays out
    cluster.kubectl("create", "namespace", name)
    k = kube.Kube(client=client, namespace=name)
    sa = api.Resource(group="", version="v1", plural="serviceaccounts")
    await k.wait_for("default ServiceAccount", lambda: k.get(sa, "default"))
    yield k
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def replica(cluster: clusters.Cluster, ns: str, log: pathlib.Path) -> conftest.OperatorProcess:
    return conftest.OperatorProcess(
        kubeconfig=cluster.kubeconfig,
        namespaces=[ns],
        log=log,
        extra_args=("--leader-elect", "--leader-elect-namespace", ns),
    )


def jobs_created(proc: conftest.OperatorProcess) -> float:
    return kube.scrape(proc.metrics_url, "conveyor_jobs_created_total")


async def holder(k: kube.Kube) -> str | None:
    lease: dict[str, Any] = await k.get(leader.LEASES, "conveyor-operator")
    return str(lease["spec"]["holderIdentity"])


async def test_only_the_leader_acts_and_the_standby_takes_over(
    cluster: clusters.Cluster, ha: kube.Kube, tmp_path: pathlib.Path
) -> None:
    ns = ha.namespace
    first, second = (
        replica(cluster, ns, tmp_path / "a.log"),
        replica(cluster, ns, tmp_path / "b.log"),
    )
    try:
        first.start()
        first.wait_ready()
        await ha.wait_for("the first replica to lead", lambda: holder(ha))
        second.start()
        second.wait_ready()
        await ha.create(builders.worker("build").obj())
        await ha.create(builders.pipelinejob("before").obj())
        await ha.wait_state("before", "SUCCESS")

        procs = {p.process.pid: p for p in (first, second) if p.process}
        lead_id = await holder(ha)
        assert lead_id is not None
        leading = procs[int(lead_id.rsplit("-", 1)[1])]
        standby = second if leading is first else first
        assert jobs_created(leading) >= 1
        assert jobs_created(standby) == 0  # the standby watched but never acted

        leading.kill()
        killed = time.monotonic()
        await ha.create(builders.pipelinejob("after").obj())
        await ha.wait_state("after", "RUNNING", "SUCCESS", timeout=90)  # once the lease lapses
        took_over = time.monotonic() - killed
        print(f"\ntakeover: the standby started a job {took_over:.1f}s after the leader died")
        assert took_over < 40, took_over  # 15-16 s on an idle machine (README: within 20 s)
        await ha.wait_state("after", "SUCCESS", timeout=60)

        lease = await ha.get(leader.LEASES, "conveyor-operator")
        assert lease["spec"]["holderIdentity"] != lead_id
        assert lease["spec"]["leaseTransitions"] >= 1
        assert jobs_created(standby) >= 1
    finally:
        first.stop()
        second.stop()
