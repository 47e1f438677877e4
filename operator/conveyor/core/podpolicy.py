"""What a PipelineJob's `podTemplate` may set: only what a job author needs.

Pure: no I/O. The trust model (docs/security.md): whoever may create Workers
chooses the pod (image, security context, volumes, service account, host
access); whoever may create PipelineJobs adds labels, annotations, env and
resources to it, and steers scheduling. A podTemplate that sets anything
else is refused (the job ends InvalidSpec naming the field), never merged and
never silently dropped. The allowlist is the rule: a field not named here is
the Worker's, including fields Kubernetes adds later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model

FIELD = "spec.podTemplate"

METADATA = frozenset({"labels", "annotations"})
# Scheduling and sizing; no priorityClassName (it can preempt other teams'
# pods) and no nodeName (it skips the scheduler and its taint checks).
POD = frozenset(
    {
        "containers",
        "nodeSelector",
        "tolerations",
        "affinity",
        "topologySpreadConstraints",
        "resources",
    }
)
# Per existing container, by name; not image, command or args: a build pod
# runs as root with capabilities, for the image the Worker chose.
CONTAINER = frozenset({"name", "env", "envFrom", "resources"})

_WORKER_ONLY = "set by the Worker only (docs/security.md: what a PipelineJob may set)"


def check(*, fragment: Mapping[str, Any], containers: Sequence[str]) -> model.SpecError | None:
    """Why `fragment` (a PipelineJob's podTemplate) may not be merged, or None.

    `containers` are the names of the containers of the pod rendered from the
    Worker; the fragment may adjust those, not add others.
    """
    metadata = fragment.get("metadata")
    if isinstance(metadata, Mapping):
        for key in metadata:
            if key not in METADATA:
                return _refused(f"metadata.{key}")
    spec = fragment.get("spec")
    if not isinstance(spec, Mapping):
        return None  # render's fragment check says what is wrong with its shape
    for key in spec:
        if key not in POD:
            return _refused(f"spec.{key}")
    items = spec.get("containers")
    if items is None:
        return None
    if not isinstance(items, list):
        return model.SpecError(field=f"{FIELD}.spec.containers", message="must be a list")
    for index, item in enumerate(items):
        error = _container(index=index, item=item, containers=containers)
        if error is not None:
            return error
    return None


def _container(*, index: int, item: Any, containers: Sequence[str]) -> model.SpecError | None:
    where = f"spec.containers[{index}]"
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
        return model.SpecError(field=f"{FIELD}.{where}", message="must be an object with a name")
    for key in item:
        if key not in CONTAINER:
            return _refused(f"{where}.{key}")
    if item["name"] not in containers:
        known = ", ".join(containers)
        return model.SpecError(
            field=f"{FIELD}.{where}.name",
            message=f"no container {item['name']!r} in the Worker's pod (it has: {known}); "
            "a PipelineJob can adjust containers, not add them",
        )
    return None


def _refused(path: str) -> model.SpecError:
    return model.SpecError(field=f"{FIELD}.{path}", message=_WORKER_ONLY)
