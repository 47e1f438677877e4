"""The chart's webhook receiver (webhooks.enabled): off by default, its own
ServiceAccount with least privilege, the restricted Pod Security Standard,
and selectors that never mix its pods with the operator's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy import tools
from tests.deploy.test_chart import by_kind, objects, rights

ON = ("--set", "webhooks.enabled=true")
RECEIVER_RIGHTS = {
    ("conveyor.dev", "pipelinetriggers"): {"get"},
    ("conveyor.dev", "pipelinetriggers/status"): {"get", "patch"},
    ("", "secrets"): {"get"},
    ("conveyor.dev", "pipelinejobs"): {"get", "list", "create", "patch"},
    ("conveyor.dev", "pipelineruns"): {"get", "list", "create", "patch"},
}


def receiver_docs(*args: str) -> list[dict[str, Any]]:
    return [
        d
        for d in objects(tools.template(*ON, *args))
        if d["metadata"]["labels"].get("app.kubernetes.io/component") == "webhooks"
    ]


@pytest.mark.parametrize("args", [(), ("--set", "watchNamespaces={team-a}")])
def test_helm_lint_strict(args: tuple[str, ...]) -> None:
    result = tools.helm("lint", "--strict", str(tools.CHART), *ON, *args, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_off_by_default() -> None:
    docs = objects(tools.template())
    assert not [d for d in docs if "webhooks" in d["metadata"]["name"]]


def test_rights_are_the_least_the_receiver_needs() -> None:
    docs = receiver_docs()
    [role] = by_kind(docs, "ClusterRole")
    assert rights(role["rules"]) == RECEIVER_RIGHTS
    [binding] = by_kind(docs, "ClusterRoleBinding")
    [sa] = by_kind(docs, "ServiceAccount")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": "conveyor-system"}
    ]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


def test_only_the_kinds_and_secrets_named() -> None:
    docs = receiver_docs(
        "--set", "webhooks.kinds={PipelineJob}", "--set", "webhooks.secretNames={hook}"
    )
    [role] = by_kind(docs, "ClusterRole")
    granted = rights(role["rules"])
    assert ("conveyor.dev", "pipelineruns") not in granted
    [secrets] = [r for r in role["rules"] if r["resources"] == ["secrets"]]
    assert secrets["resourceNames"] == ["hook"]


def test_namespaced_mode_grants_only_in_the_listed_namespaces() -> None:
    docs = receiver_docs("--set", "watchNamespaces={team-a,team-b}")
    assert not by_kind(docs, "ClusterRole")
    assert sorted(r["metadata"]["namespace"] for r in by_kind(docs, "Role")) == ["team-a", "team-b"]
    assert sorted(b["metadata"]["namespace"] for b in by_kind(docs, "RoleBinding")) == [
        "team-a",
        "team-b",
    ]


def test_the_pod_is_restricted_and_listens_where_the_service_points() -> None:
    docs = receiver_docs()
    [deployment] = by_kind(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"] == ["conveyor", "webhooks"]
    assert "--address=0.0.0.0" in container["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]["memory"]
    [service] = by_kind(docs, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "webhooks"
    assert container["ports"][0]["name"] == "webhooks"


@pytest.mark.parametrize("other", ["Deployment", "Service"])
def test_operator_and_receiver_select_only_their_own_pods(other: str) -> None:
    docs = objects(tools.template(*ON))
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in by_kind(docs, "Deployment")
    }
    assert len(pods) == 2
    for doc in by_kind(docs, other):
        selector = doc["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        matched = [n for n, labels in pods.items() if selector.items() <= labels.items()]
        assert len(matched) == 1, (doc["metadata"]["name"], matched)
