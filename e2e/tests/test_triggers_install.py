"""End to end: the chart's webhook receiver (webhooks.enabled) under restricted
Pod Security, and its RBAC: enough for the receiver, and no more.

The release's receiver pod is played by kwok; the receiver under test runs
out of cluster, authenticated only as the release's webhooks ServiceAccount
(a TokenRequest token), against triggers in a namespace of its own.
"""

from __future__ import annotations

import base64
import pathlib
import uuid
from typing import Any

import aiohttp
import pytest
from tests.deploy import tools

from conveyor.k8s import api
from conveyor.triggers import signatures
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from e2e.tests import test_install as install
from e2e.tests import test_triggers as triggers
from tests import builders

pytestmark = pytest.mark.e2e

SA = "conveyor-webhooks"


async def test_the_receiver_installs_restricted_and_its_rights_are_enough_and_no_more(
    cluster: clusters.Cluster,
    crds: None,
    operator: conftest.OperatorProcess,
    client: api.Client,
    namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    tools.require(tools.HELM)
    rel = install.new_namespace(cluster, "hooks", restricted=True)
    values = ("--set", "webhooks.enabled=true", "--set", "webhooks.kinds={PipelineJob}")
    with install.namespaces(cluster, rel), install.release(cluster, rel, *values):
        if cluster.local:  # kwok plays the pod; admitted under restricted Pod Security
            cluster.kubectl("-n", rel, "rollout", "status", f"deployment/{SA}", "--timeout=120s")
        who = f"system:serviceaccount:{rel}:{SA}"
        ns = ("-n", namespace)
        assert install.can_i(cluster, who, "create", "pipelinejobs.conveyor.dev", *ns)
        assert install.can_i(
            cluster, who, "patch", "pipelinetriggers.conveyor.dev", "--subresource=status", *ns
        )
        assert install.can_i(cluster, who, "get", "secrets", *ns)
        for verb, resource in [
            ("create", "pipelineruns.conveyor.dev"),  # not in webhooks.kinds
            ("delete", "pipelinejobs.conveyor.dev"),
            ("patch", "pipelinetriggers.conveyor.dev"),
            ("list", "secrets"),
            ("create", "jobs.batch"),
            ("list", "pods"),
        ]:
            assert not install.can_i(cluster, who, verb, resource, *ns), (verb, resource)

        kubeconfig = install.service_account_kubeconfig(
            cluster, namespace=rel, name=SA, path=tmp_path / "webhooks.kubeconfig"
        )
        receiver = triggers.ReceiverProcess(kubeconfig=kubeconfig, log=tmp_path / "webhooks.log")
        receiver.start()
        try:
            await _deliver(client=client, namespace=namespace, url=receiver.url)
        finally:
            receiver.stop()


async def _deliver(*, client: api.Client, namespace: str, url: str) -> None:
    k = kube.Kube(client=client, namespace=namespace)
    await k.create(builders.worker("build").concurrency(2).obj())
    await client.create(
        triggers.SECRETS,
        namespace=namespace,
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "webhook"},
            "data": {"secret": base64.b64encode(triggers.SECRET).decode()},
        },
    )
    await client.create(
        triggers.PT,
        namespace=namespace,
        body={
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineTrigger",
            "metadata": {"name": "api"},
            "spec": {
                "source": "github",
                "secretRef": {"name": "webhook", "key": "secret"},
                "concurrencyPolicy": "Replace",
                "jobTemplate": triggers.job_template(run_time="60s"),
            },
        },
    )
    names = []
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            body = triggers.push()
            headers = {
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                **signatures.sign(
                    source=signatures.Source.GITHUB, secret=triggers.SECRET, body=body
                ),
            }
            async with session.post(
                f"{url}/hooks/{namespace}/api", data=body, headers=headers
            ) as r:
                answer = await r.json()
                assert r.status == 201, answer
                names.append(answer["object"]["name"])
    await k.wait_state(names[0], "REVOKED", timeout=60)  # Replace: its patch was allowed

    async def counted() -> dict[str, Any] | None:
        status = (await k.get(triggers.PT, "api")).get("status") or {}
        return status if status.get("accepted") == 2 else None

    status = await k.wait_for("the status the receiver writes", counted, timeout=20)
    assert status["lastDelivery"]["object"] == names[1]
