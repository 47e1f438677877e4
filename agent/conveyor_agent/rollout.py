"""The rollout check: every Deployment, StatefulSet and DaemonSet deployed
becomes ready, or the job says which did not and why.

`status` is pure (kubectl's `rollout status` rules, plus the reasons found on
the workload's pods); `wait` polls the cluster until all are ready or the
timeout passes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from conveyor_agent import kube

KINDS = ("Deployment", "StatefulSet", "DaemonSet")
POLL_SECONDS = 2.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class Status:
    workload: str  # Kind/name
    namespace: str
    ready: bool
    message: str

    def as_output(self) -> dict[str, Any]:
        return {"workload": self.workload, "namespace": self.namespace, "message": self.message}


def status(workload: Mapping[str, Any], *, pods: Sequence[Mapping[str, Any]] = ()) -> Status:
    kind, meta = workload.get("kind", ""), workload.get("metadata") or {}
    waiting = _progress(workload)
    why = _pod_reasons(pods) if waiting else ""
    return Status(
        workload=f"{kind}/{meta.get('name')}",
        namespace=meta.get("namespace") or "",
        ready=not waiting,
        message="ready" if not waiting else f"{waiting}{'; ' + why if why else ''}",
    )


def _progress(workload: Mapping[str, Any]) -> str:
    """What the rollout still waits for ("" when done), as kubectl rollout status says it."""
    spec, st = workload.get("spec") or {}, workload.get("status") or {}
    meta = workload.get("metadata") or {}
    if st.get("observedGeneration", 0) < meta.get("generation", 0):
        return "the controller has not seen the new spec yet"
    kind = workload.get("kind")
    if kind == "Deployment":
        for condition in st.get("conditions") or []:
            if condition.get("reason") == "ProgressDeadlineExceeded":
                return f"progress deadline exceeded: {condition.get('message', '')}"
        want = spec.get("replicas", 1)
        updated, total = st.get("updatedReplicas", 0), st.get("replicas", 0)
        available = st.get("availableReplicas", 0)
        if updated < want:
            return f"{updated} of {want} replicas updated"
        if total > updated:
            return f"{total - updated} old replicas pending termination"
        if available < updated:
            return f"{available} of {updated} updated replicas available"
        return ""
    if kind == "StatefulSet":
        want = spec.get("replicas", 1)
        if st.get("readyReplicas", 0) < want:
            return f"{st.get('readyReplicas', 0)} of {want} replicas ready"
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return ""
        partition = (strategy.get("rollingUpdate") or {}).get("partition", 0)
        if st.get("updatedReplicas", 0) < want - partition:
            return f"{st.get('updatedReplicas', 0)} of {want - partition} replicas updated"
        if partition == 0 and st.get("updateRevision") != st.get("currentRevision"):
            return "the update revision is not current yet"
        return ""
    if kind == "DaemonSet":
        want = st.get("desiredNumberScheduled", 0)
        if st.get("updatedNumberScheduled", 0) < want:
            return f"{st.get('updatedNumberScheduled', 0)} of {want} pods updated"
        if st.get("numberAvailable", 0) < want:
            return f"{st.get('numberAvailable', 0)} of {want} updated pods available"
        return ""
    return ""


def _pod_reasons(pods: Sequence[Mapping[str, Any]]) -> str:
    """Why pods are not ready: container waiting/terminated reasons, scheduling."""
    found: list[str] = []
    for pod in pods:
        name = (pod.get("metadata") or {}).get("name")
        st = pod.get("status") or {}
        reasons = []
        for condition in st.get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                reasons.append(f"{condition.get('reason')}: {condition.get('message', '')}")
        containers = [
            *(st.get("initContainerStatuses") or []),
            *(st.get("containerStatuses") or []),
        ]
        for container in containers:
            state = container.get("state") or {}
            last = (container.get("lastState") or {}).get("terminated") or {}
            waiting = state.get("waiting") or {}
            if waiting.get("reason") and waiting["reason"] != "PodInitializing":
                detail = waiting.get("message") or last.get("reason") or ""
                reasons.append(f"{container.get('name')}: {waiting['reason']} {detail}".strip())
            elif not container.get("ready") and state.get("running"):
                reasons.append(f"{container.get('name')}: running, not ready")
        if reasons:
            found.append(f"pod {name}: {', '.join(reasons)}")
    return "; ".join(found[:3])


def check(workloads: Sequence[tuple[str, str, str]], *, environ: Mapping[str, str]) -> list[Status]:
    """The status of each (kind, namespace, name), read from the cluster now."""
    result = []
    for kind, namespace, name in workloads:
        target = f"{kind.lower()}.apps/{name}"
        workload = kube.kubectl_json(["get", target, "--namespace", namespace], environ=environ)
        pods: list[dict[str, Any]] = []
        if _progress(workload):
            labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            if selector:
                listing = kube.kubectl_json(
                    ["get", "pods", "--namespace", namespace, "--selector", selector],
                    environ=environ,
                )
                pods = kube.items(listing)
        result.append(status(workload, pods=pods))
    return result


def wait(
    workloads: Sequence[tuple[str, str, str]],
    *,
    timeout: float,
    environ: Mapping[str, str],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Status]:
    """Poll until every workload is ready or `timeout` seconds pass; the last statuses."""
    deadline = clock() + timeout
    while True:
        statuses = check(workloads, environ=environ)
        if all(s.ready for s in statuses) or clock() >= deadline:
            return statuses
        sleep(min(POLL_SECONDS, max(0.0, deadline - clock())))


def workloads_of(
    objects: Sequence[Mapping[str, Any]], *, namespace: str
) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of the objects the rollout check watches."""
    return [
        (o["kind"], (o.get("metadata") or {}).get("namespace") or namespace, o["metadata"]["name"])
        for o in objects
        if o.get("kind") in KINDS and (o.get("apiVersion") or "").startswith("apps/")
    ]


def images_of(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """The container images of the objects' pod templates (and pods), sorted, unique."""
    found: set[str] = set()
    for obj in objects:
        spec = obj.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or (
            ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        ).get("spec")
        if obj.get("kind") == "Pod":
            pod = spec
        for container in [
            *((pod or {}).get("initContainers") or []),
            *((pod or {}).get("containers") or []),
        ]:
            if isinstance(container.get("image"), str):
                found.add(container["image"])
    return sorted(found)
