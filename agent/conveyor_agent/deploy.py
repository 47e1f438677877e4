"""deploy and promote: `helm upgrade --install` of a chart, or a server-side
apply of manifests, then the rollout check; and the explicit rollback of a
Helm release (params `rollback`).

Outputs (chart): {"release", "namespace", "revision", "chartVersion", "images"};
(manifests): {"namespace", "applied", "images"}; promote adds "image"
(image@digest), "fromEnvironment" and "toEnvironment". A rollout that does
not become ready exits 1 with "notReady": [{"workload", "namespace",
"message"}] and, with rollbackOnFailure, "rolledBackTo" (the revision now live).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from conveyor_agent import errors, kube, manifests, params, rollout

VALUES_DIR = "/values"  # valuesFrom: the template mounts each source at /values/NN/values
WORKDIR = "/workspace"  # manifests given as paths are read from here


def deploy(job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> dict[str, Any]:
    if job_params.get("rollback") is not None:
        return _rollback(job_params, environ=environ)
    if job_params.get("chart"):
        return _helm(job_params, promoted=None, environ=environ)
    return _apply(job_params, promoted=None, environ=environ)


def promote(job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> dict[str, Any]:
    image = str(params.required(job_params, "image"))
    reference = f"{image}@{params.required(job_params, 'digest')}"
    extra = {
        "image": reference,
        "fromEnvironment": job_params.get("fromEnvironment"),
        "toEnvironment": job_params.get("toEnvironment"),
    }
    try:
        if job_params.get("chart"):
            values = {"image": {"repository": image, "digest": job_params["digest"]}}
            result = _helm(job_params, promoted=values, environ=environ)
        else:
            result = _apply(job_params, promoted=(image, reference), environ=environ)
    except errors.CheckFailed as failed:
        raise errors.CheckFailed(str(failed), outputs={**failed.outputs, **extra}) from None
    return {**result, **extra}


def _namespace(job_params: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    return str(job_params.get("targetNamespace") or environ.get("NAMESPACE") or "default")


def _timeout(job_params: Mapping[str, Any]) -> str:
    return str(job_params.get("timeout") or "5m")


# -- helm ---------------------------------------------------------------------------


def _helm(
    job_params: Mapping[str, Any], *, promoted: dict[str, Any] | None, environ: Mapping[str, str]
) -> dict[str, Any]:
    release = str(params.required(job_params, "release"))
    namespace = _namespace(job_params, environ)
    chart = job_params["chart"]
    wait = bool(job_params.get("wait", True))
    args = ["upgrade", "--install", release, *_chart_args(chart), "--namespace", namespace]
    args += ["--timeout", _timeout(job_params)] + (["--wait"] if wait else [])
    values_dir = environ.get("CONVEYOR_VALUES_DIR", VALUES_DIR)
    with tempfile.TemporaryDirectory() as scratch:
        # Later values win: valuesFrom in order, then values, then the promoted image.
        for index in range(len(job_params.get("valuesFrom") or [])):
            path = os.path.join(values_dir, f"{index:02d}", "values")
            if os.path.isfile(path):
                args += ["--values", path]
        for name, values in (("values", job_params.get("values") or {}), ("promote", promoted)):
            if values:
                path = os.path.join(scratch, f"{name}.json")
                with open(path, "w", encoding="utf-8") as file:
                    json.dump(values, file)
                args += ["--values", path]
        try:
            kube.run("helm", args, environ=environ)
            failure = None
        except kube.ToolFailed as exc:
            failure = exc
    objects = _release_objects(release, namespace=namespace, environ=environ)
    outputs = {"release": release, "namespace": namespace, **_metadata(release, namespace, environ)}
    outputs["images"] = rollout.images_of(objects)
    workloads = rollout.workloads_of(objects, namespace=namespace)
    not_ready = (
        [s for s in rollout.check(workloads, environ=environ) if not s.ready] if wait else []
    )
    if failure is None and not not_ready:
        return outputs
    if failure is not None and not not_ready:
        raise failure  # not a rollout: the chart, a hook or the cluster refused it
    outputs["notReady"] = [s.as_output() for s in not_ready]
    if job_params.get("rollbackOnFailure"):
        kube.run(
            "helm",
            [
                "rollback",
                release,
                "--namespace",
                namespace,
                "--wait",
                "--timeout",
                _timeout(job_params),
            ],
            environ=environ,
        )
        outputs["rolledBackTo"] = _metadata(release, namespace, environ).get("revision")
    why = "; ".join(f"{s.workload}: {s.message}" for s in not_ready)
    raise errors.CheckFailed(f"release {release} did not become ready: {why}", outputs=outputs)


def _chart_args(chart: Mapping[str, Any]) -> list[str]:
    name, repository = str(chart["name"]), chart.get("repository") or ""
    if repository.startswith("oci://"):
        args = [repository.rstrip("/") + "/" + name]
    elif repository:
        args = [name, "--repo", repository]
    else:
        args = [name]
    return args + (["--version", str(chart["version"])] if chart.get("version") else [])


def _metadata(release: str, namespace: str, environ: Mapping[str, str]) -> dict[str, Any]:
    try:
        text = kube.run(
            "helm",
            ["get", "metadata", release, "--namespace", namespace, "--output", "json"],
            environ=environ,
        )
    except kube.ToolFailed:
        return {}
    data = json.loads(text)
    return {"revision": data.get("revision"), "chartVersion": data.get("version")}


def _release_objects(
    release: str, *, namespace: str, environ: Mapping[str, str]
) -> list[dict[str, Any]]:
    try:
        text = kube.run(
            "helm", ["get", "manifest", release, "--namespace", namespace], environ=environ
        )
    except kube.ToolFailed:
        return []
    return manifests.parse(text, source=f"release {release}")


def _rollback(job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> dict[str, Any]:
    """helm rollback to `rollback.revision`, or to the previous revision."""
    release = str(params.required(job_params, "release"))
    namespace = _namespace(job_params, environ)
    revision = (job_params.get("rollback") or {}).get("revision")
    args = ["rollback", release, *([str(revision)] if revision else [])]
    args += ["--namespace", namespace, "--timeout", _timeout(job_params)]
    args += ["--wait"] if job_params.get("wait", True) else []
    kube.run("helm", args, environ=environ)
    objects = _release_objects(release, namespace=namespace, environ=environ)
    return {
        "release": release,
        "namespace": namespace,
        **_metadata(release, namespace, environ),
        "rolledBackTo": revision or "previous",
        "images": rollout.images_of(objects),
    }


# -- manifests ----------------------------------------------------------------------------


def _apply(
    job_params: Mapping[str, Any],
    *,
    promoted: tuple[str, str] | None,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    namespace = _namespace(job_params, environ)
    workdir = environ.get("CONVEYOR_WORKDIR", WORKDIR)
    objects = manifests.read(params.required(job_params, "manifests"), workdir=workdir)
    if promoted is not None:
        objects = manifests.pin(objects, image=promoted[0], reference=promoted[1])
    listing = {"apiVersion": "v1", "kind": "List", "items": objects}
    applied = kube.items(
        kube.kubectl_json(
            [
                "apply",
                "--server-side",
                "--field-manager=conveyor",
                "--force-conflicts",
                "--namespace",
                namespace,
                "--filename",
                "-",
            ],
            environ=environ,
            stdin=json.dumps(listing),
        )
    )
    outputs: dict[str, Any] = {
        "namespace": namespace,
        "applied": len(applied),
        "images": rollout.images_of(applied),
    }
    if not job_params.get("wait", True):
        return outputs
    workloads = rollout.workloads_of(applied, namespace=namespace)
    timeout = params.seconds(_timeout(job_params))
    not_ready = [
        s for s in rollout.wait(workloads, timeout=timeout, environ=environ) if not s.ready
    ]
    if not not_ready:
        return outputs
    outputs["notReady"] = [s.as_output() for s in not_ready]
    if job_params.get("rollbackOnFailure"):
        for status in not_ready:
            kind, _, name = status.workload.partition("/")
            kube.run(
                "kubectl",
                ["rollout", "undo", f"{kind.lower()}.apps/{name}", "--namespace", status.namespace],
                environ=environ,
            )
        outputs["rolledBack"] = [s.workload for s in not_ready]
    why = "; ".join(f"{s.workload}: {s.message}" for s in not_ready)
    raise errors.CheckFailed(f"rollout did not become ready: {why}", outputs=outputs)
