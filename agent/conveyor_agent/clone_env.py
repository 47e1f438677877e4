"""clone-env: copy the configuration of one namespace into another.

`plan` is pure: which objects are copied, skipped (already in the target,
without `overwrite`) or left out and why, each stripped of what the server
manages and rewritten for the target: `.<source>.svc` in any string becomes
`.<target>.svc`, an Ingress host label equal to the source namespace becomes
the target's, Services lose their cluster IPs and node ports. `main` reads
both namespaces with kubectl, creates the target and applies the plan
(server-side), unless `dryRun`. Secrets are copied, or with `secrets: skip`
left out and listed as `secretsToProvide` (for an external secret store).

Outputs: {"copied", "skipped", "dryRun", "objects", "skippedObjects",
"excluded", "secretsToProvide"}.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor_agent import kube, params

DEFAULT_KINDS = (
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Service",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "Ingress",
)
_SERVER_METADATA = (
    "namespace",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
_SERVER_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Plan:
    copy: list[dict[str, Any]]
    skipped: list[str]  # Kind/name already in the target
    excluded: list[str]  # Kind/name: why
    secrets_to_provide: list[str]


def ident(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _why_not(obj: Mapping[str, Any]) -> str:
    """Why an object belongs to its namespace or a controller ("" when it may be copied)."""
    meta = obj.get("metadata") or {}
    if meta.get("ownerReferences"):
        return "owned by another object"
    if ident(obj) in ("ConfigMap/kube-root-ca.crt", "ServiceAccount/default"):
        return "made by Kubernetes in every namespace"
    if obj.get("type") == "kubernetes.io/service-account-token":
        return "a service account token"
    if obj.get("type") == "helm.sh/release.v1":
        return "a Helm release record"
    return ""


def plan(
    objects: Sequence[Mapping[str, Any]],
    *,
    existing: Sequence[Mapping[str, Any]],
    source: str,
    target: str,
    overrides: Mapping[str, Any],
    overwrite: bool,
    secrets: str = "copy",
) -> Plan:
    taken = {ident(o) for o in existing}
    result = Plan(copy=[], skipped=[], excluded=[], secrets_to_provide=[])
    for obj in objects:
        why = _why_not(obj)
        if why:
            result.excluded.append(f"{ident(obj)}: {why}")
        elif obj.get("kind") == "Secret" and secrets == "skip":
            result.secrets_to_provide.append(ident(obj))
        elif ident(obj) in taken and not overwrite:
            result.skipped.append(ident(obj))
        else:
            result.copy.append(rewrite(obj, source=source, target=target, overrides=overrides))
    return result


def rewrite(
    obj: Mapping[str, Any], *, source: str, target: str, overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """`obj` as it is created in `target`."""
    result: dict[str, Any] = _replace_strings(dict(obj), f".{source}.svc", f".{target}.svc")
    result.pop("status", None)
    meta = result.setdefault("metadata", {})
    for name in _SERVER_METADATA:
        meta.pop(name, None)
    annotations = meta.get("annotations") or {}
    for name in _SERVER_ANNOTATIONS:
        annotations.pop(name, None)
    if not annotations:
        meta.pop("annotations", None)
    spec = result.get("spec")
    if result.get("kind") == "Service" and isinstance(spec, dict):
        if spec.get("clusterIP") != "None":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        spec.pop("healthCheckNodePort", None)
        for port in spec.get("ports") or []:
            port.pop("nodePort", None)
    if result.get("kind") == "Ingress" and isinstance(spec, dict):
        for rule in spec.get("rules") or []:
            if rule.get("host"):
                rule["host"] = _host(rule["host"], source=source, target=target)
        for tls in spec.get("tls") or []:
            tls["hosts"] = [_host(h, source=source, target=target) for h in tls.get("hosts") or []]
    if isinstance(spec, dict):
        for key, value in overrides.items():
            if key in spec:
                spec[key] = copy.deepcopy(value)
    return result


def _host(host: str, *, source: str, target: str) -> str:
    return ".".join(target if label == source else label for label in host.split("."))


def _replace_strings(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace_strings(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, old, new) for k, v in value.items()}
    return value


def main(job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> dict[str, Any]:
    source = str(params.required(job_params, "source"))
    target = str(params.required(job_params, "target"))
    kinds = list(job_params.get("include") or []) or [
        k for k in (environ.get("DEFAULT_KINDS") or ",".join(DEFAULT_KINDS)).split(",") if k
    ]
    dry_run = bool(job_params.get("dryRun", False))
    get = ["get", ",".join(kinds)]
    objects = kube.items(kube.kubectl_json([*get, "--namespace", source], environ=environ))
    exists = _namespace_exists(target, environ=environ)
    existing = (
        kube.items(kube.kubectl_json([*get, "--namespace", target], environ=environ))
        if exists
        else []
    )
    result = plan(
        objects,
        existing=existing,
        source=source,
        target=target,
        overrides=job_params.get("overrides") or {},
        overwrite=bool(job_params.get("overwrite", False)),
        secrets=str(job_params.get("secrets") or "copy"),
    )
    if not dry_run:
        if not exists:
            kube.run("kubectl", ["create", "namespace", target], environ=environ)
        if result.copy:
            listing = {"apiVersion": "v1", "kind": "List", "items": result.copy}
            kube.run(
                "kubectl",
                [
                    "apply",
                    "--server-side",
                    "--force-conflicts",
                    "--field-manager=conveyor",
                    "--namespace",
                    target,
                    "--filename",
                    "-",
                ],
                environ=environ,
                stdin=json.dumps(listing),
            )
    return {
        "copied": len(result.copy),
        "skipped": len(result.skipped),
        "dryRun": dry_run,
        "objects": [ident(o) for o in result.copy],
        "skippedObjects": result.skipped,
        "excluded": result.excluded,
        "secretsToProvide": result.secrets_to_provide,
    }


def _namespace_exists(name: str, *, environ: Mapping[str, str]) -> bool:
    try:
        kube.run("kubectl", ["get", "namespace", name, "--output", "name"], environ=environ)
    except kube.ToolFailed as exc:
        if "NotFound" in exc.stderr or "not found" in exc.stderr:
            return False
        raise
    return True
