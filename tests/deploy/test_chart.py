"""The Helm chart, rendered without a cluster: lint, values schema, the two
RBAC modes, least privilege, the restricted Pod Security Standard, and the
refusals (replicas without leader election, Workers outside the watched namespaces)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
import yaml

from conveyor.cli import main, operator_cmd
from conveyor.core import images
from tests.deploy import tools

NAMESPACED = ("--set", "watchNamespaces={team-a,team-b}")

# Every verb the operator may hold, per resource: the whole contract of
# docs/security.md. A new right must be added here, and there, on purpose.
OPERATOR_RIGHTS = {
    ("conveyor.dev", "pipelinejobs"): {"get", "list", "watch", "create", "patch", "delete"},
    ("conveyor.dev", "pipelinecronjobs"): {"get", "list", "watch"},
    ("conveyor.dev", "workers"): {"list", "watch"},
    ("conveyor.dev", "pipelines"): {"get", "list", "watch"},
    # A PipelineCronJob's runs (pipelineRunTemplate): created, revoked, pruned.
    ("conveyor.dev", "pipelineruns"): {"get", "list", "watch", "create", "patch", "delete"},
    ("conveyor.dev", "pipelinejobs/status"): {"patch"},
    ("conveyor.dev", "pipelineruns/status"): {"patch"},
    ("conveyor.dev", "pipelinecronjobs/status"): {"patch"},
    ("conveyor.dev", "workers/status"): {"patch"},
    ("conveyor.dev", "pipelinejobs/finalizers"): {"update"},
    ("conveyor.dev", "pipelinecronjobs/finalizers"): {"update"},
    ("conveyor.dev", "pipelineruns/finalizers"): {"update"},
    ("batch", "jobs"): {"get", "list", "watch", "create", "delete"},
    ("", "pods"): {"list", "watch"},
    ("", "events"): {"create", "list"},  # list: a Job's FailedCreate Events
}
OBSERVE_RIGHTS = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"},
    ("", "namespaces"): {"list", "watch"},
}


def objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def by_kind(docs: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def rights(rules: Iterable[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out.setdefault((group, resource), set()).update(rule["verbs"])
    return out


def bound_to_operator(docs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(binding, role) pairs whose subject is the operator's ServiceAccount."""
    [sa] = by_kind(docs, "ServiceAccount")
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs}
    pairs = []
    for binding in by_kind(docs, "ClusterRoleBinding") + by_kind(docs, "RoleBinding"):
        subjects = binding["subjects"]
        if not any(
            s["kind"] == "ServiceAccount" and s["name"] == sa["metadata"]["name"] for s in subjects
        ):
            continue
        ref = binding["roleRef"]
        if ref["name"].endswith("-leader"):
            continue  # leader election's Lease: tested on its own
        namespace = binding["metadata"].get("namespace") if ref["kind"] == "Role" else None
        pairs.append((binding, roles[(ref["kind"], namespace, ref["name"])]))
    return pairs


@pytest.mark.parametrize(
    "args",
    [
        (),
        NAMESPACED,
        ("--set-json", 'workers=[{"name":"build","type":"build","concurrency":2}]'),
        ("--set", "metrics.serviceMonitor.enabled=true", "--set", "rbac.create=false"),
    ],
    ids=["defaults", "namespaced", "workers", "servicemonitor-no-rbac"],
)
def test_helm_lint_strict(args: tuple[str, ...]) -> None:
    result = tools.helm("lint", "--strict", str(tools.CHART), *args, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


def test_cluster_wide_mode_binds_one_cluster_role() -> None:
    docs = objects(tools.template())

    pairs = bound_to_operator(docs)
    kinds = sorted(role["kind"] for _, role in pairs)
    assert kinds == ["ClusterRole", "ClusterRole"]  # the work, and the observation
    granted = rights(r for _, role in pairs for r in role["rules"])
    assert granted == {
        **OPERATOR_RIGHTS,
        ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"},
    }
    assert [r for r in by_kind(docs, "Role") if not r["metadata"]["name"].endswith("-leader")] == []
    [deployment] = by_kind(docs, "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert not any(a.startswith("--namespace") for a in args)


def test_namespaced_mode_grants_only_in_the_listed_namespaces() -> None:
    docs = objects(tools.template(*NAMESPACED))

    pairs = bound_to_operator(docs)
    namespaced = [(b, r) for b, r in pairs if r["kind"] == "Role"]
    assert sorted(r["metadata"]["namespace"] for _, r in namespaced) == ["team-a", "team-b"]
    for binding, role in namespaced:
        assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]
        assert rights(role["rules"]) == OPERATOR_RIGHTS
    cluster = [r for _, r in pairs if r["kind"] == "ClusterRole"]
    # Cluster-wide only the observation of the cluster's shape: no object of
    # any namespace, no Conveyor kind, no Job, no pod.
    assert [rights(r["rules"]) for r in cluster] == [OBSERVE_RIGHTS]
    [deployment] = by_kind(docs, "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert [a for a in args if a.startswith("--namespace")] == [
        "--namespace=team-a",
        "--namespace=team-b",
    ]


def test_namespaced_mode_without_observation_has_no_cluster_rights() -> None:
    docs = objects(tools.template(*NAMESPACED, "--set", "rbac.observeCluster=false"))

    assert [r["kind"] for _, r in bound_to_operator(docs)] == ["Role", "Role"]


@pytest.mark.parametrize("args", [(), NAMESPACED], ids=["cluster-wide", "namespaced"])
def test_no_wildcards_and_no_secrets(args: tuple[str, ...]) -> None:
    docs = objects(tools.template(*args))

    for role in by_kind(docs, "ClusterRole") + by_kind(docs, "Role"):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[field], (role["metadata"]["name"], rule)
            assert "nonResourceURLs" not in rule
            assert "resourceNames" not in rule
            assert "secrets" not in rule["resources"]
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])


def test_user_roles_aggregate_to_the_built_in_roles() -> None:
    docs = objects(tools.template())
    users = {
        d["metadata"]["name"]: d
        for d in by_kind(docs, "ClusterRole")
        if any(
            k.startswith("rbac.authorization.k8s.io/aggregate-to") for k in d["metadata"]["labels"]
        )
    }

    assert sorted(users) == ["conveyor-conveyor-system-edit", "conveyor-conveyor-system-view"]
    view = rights(users["conveyor-conveyor-system-view"]["rules"])
    assert all(verbs == {"get", "list", "watch"} for verbs in view.values())
    without = objects(tools.template("--set", "rbac.aggregateToDefaultRoles=false"))
    assert len(by_kind(without, "ClusterRole")) == len(by_kind(docs, "ClusterRole")) - 2


def test_the_pod_meets_the_restricted_pod_security_standard() -> None:
    [deployment] = by_kind(objects(tools.template()), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    pod_sc, sc = pod["securityContext"], container["securityContext"]

    assert pod_sc["runAsNonRoot"] is True
    assert pod_sc["runAsUser"] == 65532
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(host)
    for volume in pod["volumes"]:
        assert set(volume) <= {"name", "emptyDir", "configMap", "secret", "projected"}
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]["memory"]


def test_one_replica_never_two() -> None:
    [deployment] = by_kind(objects(tools.template()), "Deployment")

    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    stopped = by_kind(objects(tools.template("--set", "replicaCount=0")), "Deployment")
    assert stopped[0]["spec"]["replicas"] == 0


def test_more_than_one_replica_needs_leader_election() -> None:
    result = tools.helm(
        "template",
        "conveyor",
        str(tools.CHART),
        "--set",
        "replicaCount=2",
        "--set",
        "leaderElection.enabled=false",
        check=False,
    )

    assert result.returncode != 0
    assert "only one Conveyor operator may run at a time" in result.stderr
    assert "leaderElection.enabled=true" in result.stderr


def test_replicas_elect_a_leader_on_a_lease_in_the_release_namespace() -> None:
    docs = objects(tools.template("--set", "replicaCount=2"))
    [deployment] = by_kind(docs, "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]

    assert deployment["spec"]["replicas"] == 2
    assert "--leader-elect" in container["args"]
    leader_roles = [r for r in by_kind(docs, "Role") if r["metadata"]["name"].endswith("-leader")]
    assert [rule["resources"] for role in leader_roles for rule in role["rules"]] == [["leases"]]
    assert leader_roles[0]["rules"][0]["verbs"] == ["get", "create", "update"]


def test_probes_and_ports() -> None:
    [deployment] = by_kind(objects(tools.template()), "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}

    assert ports == {"health": 8081, "metrics": 8080}
    assert "--liveness=http://0.0.0.0:8081/healthz" in container["args"]
    assert "--metrics-port=8080" in container["args"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    [service] = by_kind(objects(tools.template()), "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"


def test_metrics_off_means_no_port_and_no_service() -> None:
    docs = objects(tools.template("--set", "metrics.enabled=false"))
    [container] = by_kind(docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"]

    assert "--metrics-port=0" in container["args"]
    assert by_kind(docs, "Service") == []


def test_service_monitor_is_optional() -> None:
    assert by_kind(objects(tools.template()), "ServiceMonitor") == []
    [monitor] = by_kind(
        objects(tools.template("--set", "metrics.serviceMonitor.enabled=true")), "ServiceMonitor"
    )
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


def test_default_workers_from_values() -> None:
    workers = json.dumps(
        [
            {"name": "build", "type": "build", "concurrency": 3},
            {
                "name": "deploy",
                "namespace": "team-a",
                "type": "deploy",
                "concurrency": 1,
                "paused": True,
            },
        ]
    )
    docs = objects(tools.template(f"--set-json=workers={workers}", namespace="ops"))

    rendered = {
        (w["metadata"]["namespace"], w["metadata"]["name"]): w["spec"]
        for w in by_kind(docs, "Worker")
    }
    assert rendered == {
        ("ops", "build"): {"type": "build", "concurrency": 3},
        ("team-a", "deploy"): {"type": "deploy", "concurrency": 1, "paused": True},
    }


def test_a_worker_outside_the_watched_namespaces_is_refused() -> None:
    result = tools.helm(
        "template",
        "conveyor",
        str(tools.CHART),
        *NAMESPACED,
        "--set-json",
        'workers=[{"name":"b","namespace":"team-c","type":"build","concurrency":1}]',
        check=False,
    )

    assert result.returncode != 0
    assert "not in watchNamespaces" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "replicas=1"), "additional properties 'replicas' not allowed"),
        (("--set", "watchNamespaces[0]=team-*"), "does not match pattern"),
        (("--set", "operator.logFormat=xml"), "value must be one of"),
        (
            ("--set-json", 'workers=[{"name":"b","type":"gpu","concurrency":1}]'),
            "value must be one of",
        ),
        (("--set-json", 'workers=[{"name":"b","type":"build"}]'), "missing property 'concurrency'"),
        (("--set", "image.digest=latest"), "does not match pattern"),
        (("--set", "agent.image.digest=latest"), "does not match pattern"),
        (("--set", "agent.image.repository="), "minLength"),
        (("--set", "agent.registry=x"), "additional properties 'registry' not allowed"),
    ],
)
def test_the_schema_refuses_bad_values(args: tuple[str, ...], message: str) -> None:
    result = tools.helm("template", "conveyor", str(tools.CHART), *args, check=False)

    assert result.returncode != 0
    assert message in result.stderr


def test_image_digest_wins_over_tag() -> None:
    digest = "sha256:" + "a" * 64
    [deployment] = by_kind(
        objects(tools.template("--set", f"image.digest={digest}", "--set", "image.tag=9")),
        "Deployment",
    )

    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"conveyor@{digest}"
    [tagged] = by_kind(objects(tools.template("--set", "image.tag=1.5")), "Deployment")
    assert tagged["spec"]["template"]["spec"]["containers"][0]["image"] == "conveyor:1.5"
    [default] = by_kind(objects(tools.template()), "Deployment")
    assert default["spec"]["template"]["spec"]["containers"][0]["image"] == "conveyor:0.1.0"


@pytest.mark.parametrize(
    ("args", "image"),
    [
        ((), images.DEFAULT_AGENT),  # the chart's appVersion is the operator's default
        (
            ("--set", "agent.image.repository=registry.example/platform/conveyor-agent"),
            "registry.example/platform/conveyor-agent:0.1.0",
        ),
        (("--set", "agent.image.tag=0.2.0"), "conveyor-agent:0.2.0"),
        (
            ("--set", "agent.image.tag=0.2.0", "--set", f"agent.image.digest=sha256:{'b' * 64}"),
            f"conveyor-agent@sha256:{'b' * 64}",
        ),
    ],
)
def test_the_agent_image_values_reach_the_operator(args: tuple[str, ...], image: str) -> None:
    [deployment] = by_kind(objects(tools.template(*args)), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]

    assert f"--agent-image={image}" in container["args"]
    # As the operator reads its args: the value it renders every agent Job with.
    parsed = main.build_parser().parse_args(["operator", *container["args"]])
    assert operator_cmd.agent_image(parsed) == image


def test_every_value_is_described_by_the_schema() -> None:
    schema = json.loads((tools.CHART / "values.schema.json").read_text())
    values = yaml.safe_load((tools.CHART / "values.yaml").read_text())

    def walk(node: dict[str, Any], value: Any, path: str) -> None:
        assert node.get("description"), f"{path or 'values'}: no description in the schema"
        if node.get("type") == "object" and "properties" in node:
            assert set(value) == set(node["properties"]), path
            for key, sub in node["properties"].items():
                walk(sub, value[key], f"{path}.{key}".lstrip("."))

    for key, sub in schema["properties"].items():
        walk(sub, values[key], key)
    assert set(values) == set(schema["properties"])
