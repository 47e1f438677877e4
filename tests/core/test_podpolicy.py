"""podpolicy: a PipelineJob's podTemplate may set only what a job author needs."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core import model, podpolicy

CONTAINERS = ["main", "sidecar"]
ONLY = "set by the Worker only (docs/security.md: what a PipelineJob may set)"


def spec(**pod: Any) -> dict[str, Any]:
    return {"spec": pod}


def main(**container: Any) -> dict[str, Any]:
    return spec(containers=[{"name": "main", **container}])


@pytest.mark.parametrize(
    "fragment",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"metadata": {"labels": {"a": "b"}, "annotations": {"c": "d"}}}, id="meta"),
        pytest.param(main(env=[{"name": "A", "value": "1"}]), id="env"),
        pytest.param(
            main(env=[{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]),
            id="env from a Secret, by reference",
        ),
        pytest.param(main(envFrom=[{"configMapRef": {"name": "cm"}}]), id="envFrom"),
        pytest.param(main(resources={"limits": {"memory": "1Gi"}}), id="resources"),
        pytest.param(main(env=[{"name": "A", "$patch": "delete"}]), id="env entry deleted"),
        pytest.param(spec(nodeSelector={"pool": "fast"}), id="nodeSelector"),
        pytest.param(spec(tolerations=[{"key": "gpu", "operator": "Exists"}]), id="tolerations"),
        pytest.param(spec(affinity={"nodeAffinity": {}}), id="affinity"),
        pytest.param(spec(topologySpreadConstraints=[]), id="topologySpreadConstraints"),
        pytest.param(spec(resources={"limits": {"cpu": "2"}}), id="pod resources"),
        pytest.param(
            spec(containers=[{"name": "sidecar", "env": []}]), id="another existing container"
        ),
    ],
)
def test_allowed(fragment: dict[str, Any]) -> None:
    assert podpolicy.check(fragment=fragment, containers=CONTAINERS) is None


@pytest.mark.parametrize(
    ("fragment", "field"),
    [
        pytest.param(spec(hostNetwork=True), "spec.hostNetwork", id="hostNetwork"),
        pytest.param(spec(hostPID=True), "spec.hostPID", id="hostPID"),
        pytest.param(spec(hostIPC=True), "spec.hostIPC", id="hostIPC"),
        pytest.param(spec(hostUsers=False), "spec.hostUsers", id="hostUsers"),
        pytest.param(
            spec(volumes=[{"name": "root", "hostPath": {"path": "/"}}]),
            "spec.volumes",
            id="hostPath volume",
        ),
        pytest.param(spec(securityContext={"runAsUser": 0}), "spec.securityContext", id="root"),
        pytest.param(
            spec(securityContext={"runAsNonRoot": False}), "spec.securityContext", id="nonroot"
        ),
        pytest.param(spec(serviceAccountName="admin"), "spec.serviceAccountName", id="sa"),
        pytest.param(spec(serviceAccount="admin"), "spec.serviceAccount", id="sa (old name)"),
        pytest.param(
            spec(automountServiceAccountToken=True),
            "spec.automountServiceAccountToken",
            id="token",
        ),
        pytest.param(spec(nodeName="control-plane"), "spec.nodeName", id="nodeName"),
        pytest.param(spec(priorityClassName="system"), "spec.priorityClassName", id="priority"),
        pytest.param(spec(runtimeClassName="runc"), "spec.runtimeClassName", id="runtimeClass"),
        pytest.param(spec(restartPolicy="Always"), "spec.restartPolicy", id="restartPolicy"),
        pytest.param(spec(initContainers=[]), "spec.initContainers", id="initContainers"),
        pytest.param(
            main(securityContext={"privileged": True}),
            "spec.containers[0].securityContext",
            id="privileged",
        ),
        pytest.param(
            main(securityContext={"allowPrivilegeEscalation": True}),
            "spec.containers[0].securityContext",
            id="allowPrivilegeEscalation",
        ),
        pytest.param(main(image="evil:1"), "spec.containers[0].image", id="image"),
        pytest.param(main(command=["sh"]), "spec.containers[0].command", id="command"),
        pytest.param(main(args=["-c"]), "spec.containers[0].args", id="args"),
        pytest.param(
            main(volumeMounts=[{"name": "root", "mountPath": "/host"}]),
            "spec.containers[0].volumeMounts",
            id="volumeMounts",
        ),
        pytest.param(
            main(**{"$patch": "delete"}), "spec.containers[0].$patch", id="container deleted"
        ),
        pytest.param({"metadata": {"name": "x"}}, "metadata.name", id="metadata.name"),
    ],
)
def test_refused_naming_the_field(fragment: dict[str, Any], field: str) -> None:
    assert podpolicy.check(fragment=fragment, containers=CONTAINERS) == model.SpecError(
        field=f"spec.podTemplate.{field}", message=ONLY
    )


def test_a_new_container_is_refused() -> None:
    error = podpolicy.check(fragment=spec(containers=[{"name": "miner"}]), containers=CONTAINERS)
    assert error is not None
    assert error.field == "spec.podTemplate.spec.containers[0].name"
    assert "no container 'miner' in the Worker's pod (it has: main, sidecar)" in error.message


@pytest.mark.parametrize(
    ("containers", "field"),
    [
        pytest.param({"name": "main"}, "spec.podTemplate.spec.containers", id="not a list"),
        pytest.param(["main"], "spec.podTemplate.spec.containers[0]", id="item not an object"),
        pytest.param([{"env": []}], "spec.podTemplate.spec.containers[0]", id="no name"),
    ],
)
def test_malformed_containers(containers: Any, field: str) -> None:
    error = podpolicy.check(fragment=spec(containers=containers), containers=CONTAINERS)
    assert error is not None
    assert error.field == field
