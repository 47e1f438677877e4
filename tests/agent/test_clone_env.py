"""clone_env.plan: what is copied into the new namespace, and how it is rewritten."""

from __future__ import annotations

from typing import Any

from conveyor_agent import clone_env


def obj(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": "staging",
            "uid": "u",
            "resourceVersion": "7",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "managedFields": [{}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        },
        **fields,
    }


def plan(objects: list[dict[str, Any]], **options: Any) -> clone_env.Plan:
    defaults: dict[str, Any] = {
        "existing": [],
        "source": "staging",
        "target": "qa-17",
        "overrides": {},
        "overwrite": False,
    }
    return clone_env.plan(objects, **{**defaults, **options})


def test_server_managed_fields_are_stripped() -> None:
    (copied,) = plan([obj("ConfigMap", "app", data={"a": "1"}, status={})]).copy
    assert copied == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app"},
        "data": {"a": "1"},
    }


def test_what_belongs_to_a_namespace_or_a_controller_is_left_out() -> None:
    objects = [
        obj("ConfigMap", "kube-root-ca.crt"),
        obj("ServiceAccount", "default"),
        obj("Secret", "sa-token", type="kubernetes.io/service-account-token"),
        obj("Secret", "sh.helm.release.v1.api.v3", type="helm.sh/release.v1"),
        {
            **obj("Pod", "api-1"),
            "metadata": {"name": "api-1", "ownerReferences": [{"kind": "ReplicaSet"}]},
        },
        obj("Secret", "db", type="Opaque", data={"password": "c2VjcmV0"}),
    ]
    result = plan(objects)
    assert [clone_env.ident(o) for o in result.copy] == ["Secret/db"]
    assert result.excluded == [
        "ConfigMap/kube-root-ca.crt: made by Kubernetes in every namespace",
        "ServiceAccount/default: made by Kubernetes in every namespace",
        "Secret/sa-token: a service account token",
        "Secret/sh.helm.release.v1.api.v3: a Helm release record",
        "Pod/api-1: owned by another object",
    ]


def test_secrets_may_be_left_for_the_user_to_provide() -> None:
    result = plan([obj("Secret", "db", data={"p": "x"}), obj("ConfigMap", "c")], secrets="skip")
    assert [clone_env.ident(o) for o in result.copy] == ["ConfigMap/c"]
    assert result.secrets_to_provide == ["Secret/db"]


def test_existing_objects_are_skipped_unless_overwrite() -> None:
    objects = [obj("ConfigMap", "a"), obj("ConfigMap", "b")]
    existing = [obj("ConfigMap", "a")]
    kept = plan(objects, existing=existing)
    assert [clone_env.ident(o) for o in kept.copy] == ["ConfigMap/b"]
    assert kept.skipped == ["ConfigMap/a"]
    replaced = plan(objects, existing=existing, overwrite=True)
    assert len(replaced.copy) == 2
    assert replaced.skipped == []


def test_services_lose_their_ips_and_node_ports() -> None:
    service = obj(
        "Service",
        "api",
        spec={
            "type": "NodePort",
            "clusterIP": "10.0.0.7",
            "clusterIPs": ["10.0.0.7"],
            "ports": [{"port": 80, "nodePort": 30080}],
        },
    )
    headless = obj("Service", "db", spec={"clusterIP": "None", "clusterIPs": ["None"]})
    copied = plan([service, headless]).copy
    assert copied[0]["spec"] == {"type": "NodePort", "ports": [{"port": 80}]}
    assert copied[1]["spec"] == {"clusterIP": "None", "clusterIPs": ["None"]}


def test_hosts_and_service_addresses_are_rewritten_for_the_target() -> None:
    ingress = obj(
        "Ingress",
        "api",
        spec={
            "rules": [{"host": "api.staging.example.com"}, {"host": "staging-api.example.com"}],
            "tls": [{"hosts": ["api.staging.example.com"], "secretName": "tls"}],
        },
    )
    config = obj("ConfigMap", "app", data={"DB": "postgres://db.staging.svc:5432/app"})
    copied_ingress, copied_config = plan([ingress, config]).copy
    assert [r["host"] for r in copied_ingress["spec"]["rules"]] == [
        "api.qa-17.example.com",
        "staging-api.example.com",  # not a whole label
    ]
    assert copied_ingress["spec"]["tls"][0]["hosts"] == ["api.qa-17.example.com"]
    assert copied_config["data"]["DB"] == "postgres://db.qa-17.svc:5432/app"


def test_overrides_apply_where_the_spec_has_the_field() -> None:
    deployment = obj("Deployment", "api", spec={"replicas": 5, "template": {}})
    service = obj("Service", "api", spec={"ports": []})
    copied = plan([deployment, service], overrides={"replicas": 1}).copy
    assert copied[0]["spec"]["replicas"] == 1
    assert "replicas" not in copied[1]["spec"]
