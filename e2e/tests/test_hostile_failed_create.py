"""End to end: a Job whose pod Pod Security refuses (the Job controller says
so only in a FailedCreate Event) surfaces in the job's Starting message, and
its Worker is not ONLINE."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.tests import cluster as clusters
from e2e.tests import kube
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

AS_ROOT = {"spec": {"securityContext": {"runAsUser": 0, "runAsNonRoot": False}}}


async def test_a_pod_refused_by_pod_security_is_named_and_the_worker_is_not_online(
    cluster: clusters.Cluster, k: kube.Kube
) -> None:
    cluster.kubectl(
        "label", "namespace", k.namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    await k.create(builders.worker("build").template(AS_ROOT).obj())
    await k.create(builders.pipelinejob("root").obj())

    async def named() -> dict[str, Any] | None:
        status = (await k.pj("root")).get("status") or {}
        return status if "FailedCreate" in (status.get("message") or "") else None

    status = await k.wait_for("the FailedCreate cause in the job's message", named, timeout=90)
    print(f"\njob: {status['state']}/{status['reason']}: {status['message']}")
    assert (status["state"], status["reason"]) == ("IN-QUEUE", "Starting")
    assert "the Job controller cannot create its pod" in status["message"]
    assert "forbidden" in status["message"]
    assert "PodSecurity" in status["message"]

    worker = (await k.get(kube.WK, "build")).get("status") or {}
    print(f"worker: {worker.get('state')}/{worker.get('reason')}: {worker.get('message')}")
    assert worker.get("state") in ("OFFLINE", "DEGRADED")
    assert worker.get("reason") == "FailedCreate"
