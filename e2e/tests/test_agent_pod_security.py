"""The rendered Jobs' pods against the API server's own PodSecurity admission
(server-side dry runs of the pods their Jobs would create): every job type
is admitted under `restricted` but build, which `baseline` refuses and
`privileged` admits, as docs/job-types.md says."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from tests.core import test_render

from conveyor.core import model
from e2e.tests import cluster as clusters

pytestmark = pytest.mark.e2e

RUNNABLE = [t for t in model.JobType if model.WORKER_TYPE_OF[t] is not None]


@pytest.fixture(scope="module")
def levels(cluster: clusters.Cluster) -> Iterator[dict[str, str]]:
    """A namespace per Pod Security level, enforcing it."""
    names = {}
    for level in ("restricted", "baseline", "privileged"):
        name = f"e2e-pss-{level}-{secrets.token_hex(3)}"
        cluster.kubectl("create", "namespace", name)
        cluster.kubectl("label", "namespace", name, f"pod-security.kubernetes.io/enforce={level}")
        names[level] = name
    yield names
    for name in names.values():
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def pod_of(job_type: model.JobType, namespace: str) -> dict[str, Any]:
    manifest = test_render.render_job(test_render.pipelinejob(job_type=job_type.value))
    template = manifest["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pss-{job_type.value}",
            "namespace": namespace,
            **template["metadata"],
        },
        "spec": template["spec"],
    }


def admitted(cluster: clusters.Cluster, pod: dict[str, Any]) -> tuple[bool, str]:
    """Whether the API server would create the pod, and its answer."""
    try:
        cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(pod))
    except RuntimeError as refused:
        return False, str(refused)
    return True, ""


@pytest.mark.parametrize("job_type", RUNNABLE, ids=str)
def test_pod_security_admission(
    cluster: clusters.Cluster, levels: dict[str, str], job_type: model.JobType
) -> None:
    ok, why = admitted(cluster, pod_of(job_type, levels["restricted"]))
    if job_type is not model.JobType.BUILD:
        assert ok, why
        return
    assert not ok
    assert 'violates PodSecurity "restricted' in why
    ok, why = admitted(cluster, pod_of(job_type, levels["baseline"]))
    assert not ok
    assert "seccompProfile" in why
    ok, why = admitted(cluster, pod_of(job_type, levels["privileged"]))
    assert ok, why
