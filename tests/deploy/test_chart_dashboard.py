"""The chart's optional dashboard: off by default; when on, its own pod
under the restricted Pod Security Standard, a ServiceAccount that can only
read (get/list/watch, pods/log get), no Secrets, and a Service that selects
the dashboard's pod and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy import tools
from tests.deploy.test_chart import by_kind, objects, rights

ON = ("--set", "dashboard.enabled=true")
READ = {"get", "list", "watch"}
DASHBOARD_RIGHTS = {
    ("conveyor.dev", "pipelinejobs"): READ,
    ("conveyor.dev", "workers"): READ,
    ("conveyor.dev", "pipelineruns"): READ,
    ("conveyor.dev", "pipelines"): READ,
    ("conveyor.dev", "pipelinecronjobs"): READ,
    ("", "pods"): READ,
    ("", "events"): READ,
    ("", "pods/log"): {"get"},
}


def dashboard_objects(*args: str) -> list[dict[str, Any]]:
    return [
        d
        for d in objects(tools.template(*ON, *args))
        if (d["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "dashboard"
    ]


def test_off_by_default() -> None:
    docs = objects(tools.template())
    assert not [d for d in docs if "dashboard" in d["metadata"]["name"]]


@pytest.mark.parametrize(
    ("args", "role_kind"),
    [((), "ClusterRole"), (("--set", "watchNamespaces={team-a}"), "Role")],
)
def test_its_rights_are_read_only(args: tuple[str, ...], role_kind: str) -> None:
    docs = dashboard_objects(*args)
    [sa] = by_kind(docs, "ServiceAccount")
    [role] = by_kind(docs, role_kind)
    [binding] = by_kind(docs, f"{role_kind}Binding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": role_kind,
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"][0]["name"] == sa["metadata"]["name"]
    granted = rights(role["rules"])
    assert granted == DASHBOARD_RIGHTS
    writes = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind"}
    assert not any(verbs & writes for verbs in granted.values())
    assert not any("secrets" in r for _, r in granted)
    if role_kind == "Role":
        assert role["metadata"]["namespace"] == "team-a"


def test_it_watches_what_its_role_allows() -> None:
    def args(*extra: str) -> list[str]:
        [deployment] = by_kind(dashboard_objects(*extra), "Deployment")
        return list(deployment["spec"]["template"]["spec"]["containers"][0]["args"])

    assert "--all-namespaces" in args()
    assert "--namespace=team-a" in args("--set", "watchNamespaces={team-a}")
    refused = tools.helm(
        "template",
        "conveyor",
        str(tools.CHART),
        *ON,
        "--set",
        "watchNamespaces={a,b}",
        check=False,
    )
    assert refused.returncode != 0
    assert "the dashboard watches one namespace or all" in refused.stderr


def test_its_pod_meets_the_restricted_pod_security_standard() -> None:
    [deployment] = by_kind(dashboard_objects(), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert container["command"] == ["conveyor", "dashboard"]
    assert container["resources"]["limits"]["memory"]
    assert pod["serviceAccountName"].endswith("-dashboard")


def test_services_select_their_own_pods() -> None:
    docs = objects(tools.template(*ON))
    deployments = {d["metadata"]["name"]: d for d in by_kind(docs, "Deployment")}
    for service in by_kind(docs, "Service"):
        selector = service["spec"]["selector"].items()
        chosen = [
            name
            for name, d in deployments.items()
            if selector <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(chosen) == 1, (service["metadata"]["name"], chosen)
