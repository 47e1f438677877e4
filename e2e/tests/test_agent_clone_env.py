"""clone-env on the real local control plane: the rendered Job's main
container run as a local process (e2e/tests/agent_pod.py) copies a namespace
into a new one, and its outputs parse as the operator parses them."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from conveyor.core import model, params, render
from e2e.tests import agent_pod
from e2e.tests import cluster as clusters

pytestmark = pytest.mark.e2e


def clone_env_job(source: str, target: str, **extra: Any) -> dict[str, Any]:
    """The Job the operator would create for a clone-env PipelineJob with these params."""
    raw = {"source": source, "target": target, **extra}
    parsed = params.validate(job_type=model.JobType.CLONE_ENV, params=raw)
    assert not isinstance(parsed, model.SpecError), parsed
    job = model.parse_pipelinejob(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineJob",
            "metadata": {"name": "clone", "namespace": source, "uid": "u"},
            "spec": {"type": "clone-env", "params": raw},
        }
    )
    worker = model.parse_worker(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "Worker",
            "metadata": {"name": "clone-env", "namespace": source},
            "spec": {"type": "clone-env"},
        }
    )
    dumped = parsed.model_dump(by_alias=True, mode="json", exclude_none=True)
    return render.render_job(job=job, worker=worker, attempt=1, params=dumped)


SOURCE_OBJECTS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: app, labels: {app: api}}
data: {DATABASE_URL: "postgres://db.NS.svc:5432/app"}
---
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: registry.example/api:1}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api}
spec:
  rules:
  - host: api.NS.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
"""


@pytest.fixture
def target(cluster: clusters.Cluster, namespace: str) -> Iterator[str]:
    name = f"{namespace}-copy"
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def get(cluster: clusters.Cluster, namespace: str, what: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", what, "-n", namespace, "-o", "json"))  # type: ignore[no-any-return]


def test_clone_env_copies_a_namespace_into_a_new_one(
    cluster: clusters.Cluster, namespace: str, target: str, tmp_path: pathlib.Path
) -> None:
    cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=SOURCE_OBJECTS.replace("NS", namespace)
    )
    job = clone_env_job(namespace, target, overrides={"replicas": 1})

    run = agent_pod.run_main_container(job, cluster=cluster, tmp_path=tmp_path)

    assert run.code == 0, run.stderr
    assert run.outputs["copied"] == 5
    assert sorted(run.outputs["objects"]) == [
        "ConfigMap/app",
        "Deployment/api",
        "Ingress/api",
        "Secret/db",
        "Service/api",
    ]
    assert (
        "ConfigMap/kube-root-ca.crt: made by Kubernetes in every namespace"
        in run.outputs["excluded"]
    )
    config = get(cluster, target, "configmap/app")
    assert config["data"]["DATABASE_URL"] == f"postgres://db.{target}.svc:5432/app"
    secret = get(cluster, target, "secret/db")
    assert secret["data"]["password"] == "czNjcmV0"
    source_ip = get(cluster, namespace, "service/api")["spec"]["clusterIP"]
    assert get(cluster, target, "service/api")["spec"]["clusterIP"] != source_ip
    assert get(cluster, target, "deployment/api")["spec"]["replicas"] == 1
    ingress = get(cluster, target, "ingress/api")
    assert ingress["spec"]["rules"][0]["host"] == f"api.{target}.example.com"

    again = agent_pod.run_main_container(job, cluster=cluster, tmp_path=tmp_path)

    assert again.code == 0, again.stderr
    assert again.outputs["copied"] == 0
    assert again.outputs["skipped"] == run.outputs["copied"]


def test_a_dry_run_writes_nothing(
    cluster: clusters.Cluster, namespace: str, target: str, tmp_path: pathlib.Path
) -> None:
    cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=SOURCE_OBJECTS.replace("NS", namespace)
    )
    job = clone_env_job(
        namespace, target, include=["ConfigMap", "Secret"], dryRun=True, secrets="skip"
    )

    run = agent_pod.run_main_container(job, cluster=cluster, tmp_path=tmp_path)

    assert run.code == 0, run.stderr
    assert run.outputs["dryRun"] is True
    assert run.outputs["objects"] == ["ConfigMap/app"]
    assert run.outputs["secretsToProvide"] == ["Secret/db"]
    assert not cluster.kubectl("get", "namespace", target, "--ignore-not-found", "-o", "name")
