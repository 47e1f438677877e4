"""deploy and promote on the real local control plane, run as their pods
would (e2e/tests/agent_pod.py): manifests applied and rolled out, a chart
installed with the project's helm, the rollout check naming the workload that
did not become ready and why, and rollbacks. kwok plays the pods: those of a
pullable image become Ready, `unpullable.invalid/` ones stay ImagePullBackOff."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from tests.deploy import tools

from conveyor.core import model, params, render
from e2e.tests import agent_pod
from e2e.tests import cluster as clusters

pytestmark = pytest.mark.e2e

CHART = pathlib.Path(__file__).parent / "data" / "charts" / "hello"
DIGEST = "sha256:" + "1" * 64


def job_of(job_type: str, namespace: str, raw: dict[str, Any]) -> dict[str, Any]:
    parsed = params.validate(job_type=model.JobType(job_type), params=raw)
    assert not isinstance(parsed, model.SpecError), parsed
    job = model.parse_pipelinejob(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineJob",
            "metadata": {"name": "deploy", "namespace": namespace, "uid": "u"},
            "spec": {"type": job_type, "params": raw},
        }
    )
    worker = model.parse_worker(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "Worker",
            "metadata": {"name": "deploy", "namespace": namespace},
            "spec": {"type": "deploy"},
        }
    )
    dumped = parsed.model_dump(by_alias=True, mode="json", exclude_none=True)
    return render.render_job(job=job, worker=worker, attempt=1, params=dumped)


def deployment(name: str, image: str, replicas: int = 2) -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: main, image: "{image}"}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}-config}}
data: {{a: "1"}}
"""


def test_manifests_are_applied_and_rolled_out(
    cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "api.yaml").write_text(deployment("api", "registry.example/api:1"))
    job = job_of("deploy", namespace, {"manifests": ["k8s/"], "targetNamespace": namespace})

    run = agent_pod.run_main_container(
        job, cluster=cluster, tmp_path=tmp_path, env={"CONVEYOR_WORKDIR": str(tmp_path)}
    )

    assert run.code == 0, run.stderr
    assert run.outputs == {
        "namespace": namespace,
        "applied": 2,
        "images": ["registry.example/api:1"],
    }
    ready = json.loads(cluster.kubectl("get", "deployment/api", "-n", namespace, "-o", "json"))
    assert ready["status"]["readyReplicas"] == 2


def test_a_rollout_that_does_not_become_ready_says_why_and_can_roll_back(
    cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "k8s").mkdir()
    manifest = tmp_path / "k8s" / "api.yaml"
    manifest.write_text(deployment("api", "registry.example/api:1", replicas=1))
    env = {"CONVEYOR_WORKDIR": str(tmp_path)}
    good = job_of("deploy", namespace, {"manifests": ["k8s/"], "targetNamespace": namespace})
    assert agent_pod.run_main_container(good, cluster=cluster, tmp_path=tmp_path, env=env).code == 0
    manifest.write_text(deployment("api", "unpullable.invalid/api:2", replicas=1))
    bad = job_of(
        "deploy",
        namespace,
        {
            "manifests": ["k8s/"],
            "targetNamespace": namespace,
            "timeout": "15s",
            "rollbackOnFailure": True,
        },
    )

    run = agent_pod.run_main_container(bad, cluster=cluster, tmp_path=tmp_path, env=env)

    assert run.code == 1, run.stderr
    (not_ready,) = run.outputs["notReady"]
    assert not_ready["workload"] == "Deployment/api"
    assert not_ready["namespace"] == namespace
    # kubectl rollout status' words (a surge pod is up, the old one stays), then the pod's reason.
    assert not_ready["message"].startswith("1 old replicas pending termination; pod api-")
    assert "ErrImagePull" in not_ready["message"] or "ImagePullBackOff" in not_ready["message"]
    assert run.outputs["rolledBack"] == ["Deployment/api"]
    live = json.loads(cluster.kubectl("get", "deployment/api", "-n", namespace, "-o", "json"))
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/api:1"


def test_promote_pins_the_image_to_its_digest(
    cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "api.yaml").write_text(deployment("api", "registry.example/api:1"))
    job = job_of(
        "promote",
        namespace,
        {
            "manifests": ["api.yaml"],
            "targetNamespace": namespace,
            "image": "registry.example/api",
            "digest": DIGEST,
            "fromEnvironment": "staging",
            "toEnvironment": "production",
        },
    )

    run = agent_pod.run_main_container(
        job, cluster=cluster, tmp_path=tmp_path, env={"CONVEYOR_WORKDIR": str(tmp_path)}
    )

    assert run.code == 0, run.stderr
    assert run.outputs["images"] == [f"registry.example/api@{DIGEST}"]
    assert run.outputs["image"] == f"registry.example/api@{DIGEST}"
    assert run.outputs["toEnvironment"] == "production"


def test_a_chart_is_installed_upgraded_and_rolled_back_with_helm(
    cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    tools.require(tools.HELM)  # the project's helm (make deploy-tools; make test builds it)
    base = {"chart": {"name": str(CHART)}, "release": "hello", "targetNamespace": namespace}

    first = agent_pod.run_main_container(
        job_of("deploy", namespace, base), cluster=cluster, tmp_path=tmp_path
    )

    assert first.code == 0, first.stderr
    assert first.outputs == {
        "release": "hello",
        "namespace": namespace,
        "revision": 1,
        "chartVersion": "0.1.0",
        "images": ["registry.example/hello:1"],
    }

    broken = {
        **base,
        "values": {"image": {"repository": "unpullable.invalid/hello"}, "replicas": 1},
        "timeout": "15s",
        "rollbackOnFailure": True,
    }
    failed = agent_pod.run_main_container(
        job_of("deploy", namespace, broken), cluster=cluster, tmp_path=tmp_path
    )

    assert failed.code == 1, failed.stderr
    assert failed.outputs["revision"] == 2
    (not_ready,) = failed.outputs["notReady"]
    assert not_ready["workload"] == "Deployment/hello"
    assert "ImagePull" in not_ready["message"] or "ErrImagePull" in not_ready["message"]
    assert failed.outputs["rolledBackTo"] == 3  # a new revision, a copy of 1

    rollback = agent_pod.run_main_container(
        job_of(
            "deploy",
            namespace,
            {"release": "hello", "targetNamespace": namespace, "rollback": {"revision": 1}},
        ),
        cluster=cluster,
        tmp_path=tmp_path,
    )

    assert rollback.code == 0, rollback.stderr
    assert rollback.outputs["rolledBackTo"] == 1
    assert rollback.outputs["revision"] == 4
    assert rollback.outputs["images"] == ["registry.example/hello:1"]
