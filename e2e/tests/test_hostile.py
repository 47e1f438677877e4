"""End to end: one user's hostile object never stops the operator, and ends
refused at apply or FAILED/InvalidSpec on that object alone."""

from __future__ import annotations

import json
import pathlib
import secrets
from collections.abc import Iterator

import pytest

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import kube
from e2e.tests.conftest import OperatorProcess
from tests import builders

pytestmark = [pytest.mark.e2e]

# Deep enough to stop json.loads (about 950 levels), within the API server's
# own limit of 10,000 levels for a whole document.
DEPTH = 5_000


def deep_pipelinejob_text(
    name: str, namespace: str, *, where: str = "params", depth: int = DEPTH
) -> str:
    """A PipelineJob as JSON text: Python's json.dumps cannot even write one this deep."""
    head = json.dumps(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineJob",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "custom", "params": {"image": "busybox:1.36"}},
        }
    )
    deep = '{"k":' * depth + "1" + "}" * depth
    if where == "params":
        return head.replace('"image": "busybox:1.36"}', f'"image": "busybox:1.36", "x": {deep}}}')
    return head[:-2] + f', "podTemplate": {{"spec": {deep}}}}}}}'


@pytest.fixture
def other_namespace(cluster: clusters.Cluster) -> Iterator[str]:
    name = f"e2e-{secrets.token_hex(4)}"
    cluster.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.mark.parametrize(
    ("where", "depth"),
    [
        ("params", DEPTH),
        ("podTemplate", DEPTH),
        # Just under where json.loads gives up: decoded whole, then checked.
        ("params", 900),
    ],
)
async def test_a_job_nested_thousands_deep_fails_alone(
    cluster: clusters.Cluster,
    operator: OperatorProcess,
    k: kube.Kube,
    client: api.Client,
    other_namespace: str,
    where: str,
    depth: int,
) -> None:
    await k.create(builders.worker("build").obj())
    text = deep_pipelinejob_text("deep", k.namespace, where=where, depth=depth)
    cluster.kubectl("create", "-f", "-", input=text)

    failed = await k.wait_state("deep", "FAILED", reason="InvalidSpec")
    assert f"spec.{where}" in failed["status"]["message"]
    assert "nested deeper than 32 levels" in failed["status"]["message"]

    other = kube.Kube(client=client, namespace=other_namespace)
    await other.create(builders.worker("build").obj())
    await other.create(builders.pipelinejob("fine").obj())
    await other.wait_state("fine", "SUCCESS")
    assert operator.alive()
    assert "RecursionError" not in operator.log.read_text()


async def test_an_operator_starting_with_a_deep_job_in_its_list_comes_up(
    cluster: clusters.Cluster, client: api.Client, tmp_path: pathlib.Path
) -> None:
    # Its own namespace and operator: the initial list (not a watch event) holds the object.
    namespace = f"hostile-{secrets.token_hex(4)}"
    cluster.kubectl("create", "namespace", namespace)
    own = OperatorProcess(
        kubeconfig=cluster.kubeconfig, namespaces=[namespace], log=tmp_path / "operator.log"
    )
    try:
        k = kube.Kube(client=client, namespace=namespace)
        await k.create(builders.worker("build").obj())
        cluster.kubectl("create", "-f", "-", input=deep_pipelinejob_text("deep", namespace))
        await k.create(builders.pipelinejob("fine").obj())
        own.start()
        own.wait_ready()
        await k.wait_state("deep", "FAILED", reason="InvalidSpec")
        await k.wait_state("fine", "SUCCESS")
        assert own.alive()
    finally:
        own.stop()
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.mark.usefixtures("operator")
async def test_a_privileged_pod_template_is_refused_and_no_pod_is_created(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    job = builders.pipelinejob("escalate").obj()
    job["spec"]["podTemplate"] = {
        "spec": {
            "hostPID": True,
            "containers": [{"name": "main", "securityContext": {"privileged": True}}],
        }
    }
    with pytest.raises(api.ApiError) as refused:
        await k.create(job)
    assert refused.value.status == 422
    assert "spec.podTemplate.spec.hostPID is set by the Worker only" in refused.value.message

    # A field the schema does not name is the operator's to refuse: InvalidSpec, no Job.
    job["spec"]["podTemplate"] = {"spec": {"shareProcessNamespace": True}}
    await k.create(job)
    failed = await k.wait_state("escalate", "FAILED", reason="InvalidSpec")
    assert failed["status"]["message"] == (
        "spec.podTemplate.spec.shareProcessNamespace: set by the Worker only "
        "(docs/security.md: what a PipelineJob may set)"
    )
    assert await k.list(api.JOBS) == []
    assert await k.list(api.PODS) == []


def _job(**spec: object) -> dict[str, object]:
    return builders.pipelinejob("refused").spec(spec).obj()


def _cron(**spec: object) -> dict[str, object]:
    body: dict[str, object] = {
        "schedule": "* * * * *",
        "jobTemplate": {"spec": {"type": "custom"}},
        **spec,
    }
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineCronJob",
        "metadata": {"name": "refused"},
        "spec": body,
    }


@pytest.mark.usefixtures("crds")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            _job(ttlAfterFinished="99999999h"),
            "spec.ttlAfterFinished must be at most 87600h",
            id="ttl",
        ),
        pytest.param(
            _job(retry={"backoff": {"delay": "99999999h", "maxDelay": "99999999h"}}),
            "spec.retry.backoff.delay must be at most 87600h",
            id="backoff, without CEL's conversion error",
        ),
        pytest.param(
            _job(startAt="9999-12-31T23:59:59-12:00"),
            "spec.startAt must be before 9000-01-01T00:00:00Z",
            id="startAt",
        ),
        pytest.param(
            _job(podTemplate={"spec": {"hostNetwork": True}}),
            "spec.podTemplate.spec.hostNetwork is set by the Worker only",
            id="hostNetwork",
        ),
        pytest.param(
            _job(
                podTemplate={
                    "spec": {
                        "containers": [{"name": "main", "securityContext": {"privileged": True}}]
                    }
                }
            ),
            "spec.podTemplate.spec.containers.securityContext is set by the Worker only",
            id="privileged",
        ),
        pytest.param(
            _job(params={f"k{i}": i for i in range(65)}),
            "spec.params: Too many: 65: must have at most 64 items",
            id="params too wide",
        ),
        pytest.param(
            builders.worker("w" * 64).obj(),
            "metadata.name must be at most 63 characters",
            id="worker",
        ),
        pytest.param(
            _cron(timeZone="localtime"), "spec.timeZone must be an IANA time zone", id="localtime"
        ),
        pytest.param(
            _cron(schedule="1-0 * * * *"),
            "spec.schedule has a range whose start is after its end",
            id="descending range",
        ),
        pytest.param(
            _cron(
                jobTemplate={"spec": {"type": "custom", "podTemplate": {"spec": {"hostPID": True}}}}
            ),
            "spec.jobTemplate.spec.podTemplate.spec.hostPID is set by the Worker only",
            id="cron template",
        ),
    ],
)
async def test_refused_at_apply(k: kube.Kube, body: dict[str, object], message: str) -> None:
    with pytest.raises(api.ApiError) as refused:
        await k.create(body)
    assert refused.value.status == 422
    assert message in " ".join(refused.value.message.split())
