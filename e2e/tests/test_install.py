"""End to end: Conveyor installed the ways a platform team installs it.

- the chart, rendered, passes the API server's validation (server-side dry
  run, warnings are errors: Pod Security, deprecations);
- manifests/install.yaml applies as is and its operator pod runs;
- `helm install` in both RBAC modes; then the operator runs out of cluster
  authenticated as the release's ServiceAccount only (a TokenRequest token,
  no client certificate) and drives a scenario through queue, admission,
  success, retry, revocation, ttlAfterFinished and a cron schedule: the
  chart's RBAC is enough. And no more than needed: no wildcards, and in
  namespaced mode nothing in a namespace not watched.

The Deployment's pod is played by kwok and does nothing; the operator under
test is the out-of-cluster process. It watches only `inst-*` namespaces it
is given, apart from the session's operator (`e2e-*`).
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import secrets
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import yaml
from tests.deploy import kstatus, tools

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from tests import builders

pytestmark = pytest.mark.e2e

PJ = kube.PJ
PCJ = kube.PCJ
RELEASE = "conveyor"  # the release's objects are named "conveyor" (fullname)
INSTALL_YAML = tools.ROOT / "manifests" / "install.yaml"


# --- helpers ----------------------------------------------------------------


def helm(cluster: clusters.Cluster, *args: str) -> str:
    result = subprocess.run(
        [tools.require(tools.HELM), "--kubeconfig", str(cluster.kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def new_namespace(cluster: clusters.Cluster, prefix: str, *, restricted: bool = False) -> str:
    name = f"inst-{prefix}-{secrets.token_hex(3)}"
    cluster.kubectl("create", "namespace", name)
    if restricted:
        cluster.kubectl(
            "label",
            "namespace",
            name,
            "pod-security.kubernetes.io/enforce=restricted",
            "pod-security.kubernetes.io/warn=restricted",
        )
    deadline = time.monotonic() + 30
    while not cluster.kubectl("get", "serviceaccount", "default", "-n", name, check=False):
        assert time.monotonic() < deadline, f"no default ServiceAccount in {name}"
        time.sleep(0.2)
    return name


@contextlib.contextmanager
def namespaces(cluster: clusters.Cluster, *names: str) -> Iterator[None]:
    try:
        yield
    finally:
        for name in names:
            cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@contextlib.contextmanager
def release(cluster: clusters.Cluster, namespace: str, *values: str) -> Iterator[str]:
    """`helm install`; yields its output (with NOTES); uninstalls after."""
    wait = ["--wait", "--timeout", "120s"] if cluster.local else []
    out = helm(cluster, "install", RELEASE, str(tools.CHART), "-n", namespace, *wait, *values)
    try:
        yield out
    finally:
        subprocess.run(
            [
                *(str(tools.HELM), "--kubeconfig", str(cluster.kubeconfig)),
                *("uninstall", RELEASE, "-n", namespace, "--wait", "--timeout", "60s"),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )


def service_account_kubeconfig(
    cluster: clusters.Cluster, *, namespace: str, name: str, path: pathlib.Path
) -> pathlib.Path:
    """A kubeconfig with the API server, its CA and a TokenRequest token of
    the ServiceAccount: nothing of the admin's credentials."""
    token = cluster.kubectl("create", "token", name, "-n", namespace, "--duration=1h").strip()
    admin = yaml.safe_load(cluster.kubectl("config", "view", "--raw", "--minify", "--flatten"))
    server = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "cluster",
                "cluster": {
                    k: v
                    for k, v in server.items()
                    if k in ("server", "certificate-authority-data", "tls-server-name")
                },
            }
        ],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": "cluster", "user": name}}],
        "current-context": name,
    }
    path.write_text(yaml.safe_dump(config))
    text = path.read_text()
    assert "client-certificate" not in text
    assert "client-key" not in text
    whoami = cluster.kubectl("--kubeconfig", str(path), "auth", "whoami", "-o", "json")
    username = json.loads(whoami)["status"]["userInfo"]["username"]
    assert username == f"system:serviceaccount:{namespace}:{name}"
    return path


def can_i(cluster: clusters.Cluster, sa: str, verb: str, resource: str, *where: str) -> bool:
    result = subprocess.run(
        [
            *_kubectl(cluster),
            "auth",
            "can-i",
            verb,
            resource,
            f"--as={sa}",
            *where,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), result.stderr
    return answer == "yes"


def _kubectl(cluster: clusters.Cluster) -> list[str]:
    return [str(clusters.CLUSTER_BIN), "kubectl", "--kubeconfig", str(cluster.kubeconfig)]


def no_wildcards(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule.get(field, []), rule
        assert "nonResourceURLs" not in rule


def forbidden_lines(log: pathlib.Path) -> list[str]:
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "forbidden" in line.lower() or " 403 " in line
    ]


@contextlib.asynccontextmanager
async def operator_as(
    *, kubeconfig: pathlib.Path, namespaces: list[str], log: pathlib.Path, extra: tuple[str, ...]
) -> AsyncIterator[conftest.OperatorProcess]:
    proc = conftest.OperatorProcess(
        kubeconfig=kubeconfig, namespaces=namespaces, log=log, extra_args=extra
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


async def state_of(k: kube.Kube, name: str) -> dict[str, Any]:
    body = await k.pj(name)
    status: dict[str, Any] = body.get("status") or {}
    return status


# --- the scenario -------------------------------------------------------------


async def run_scenario(k: kube.Kube) -> None:
    """Queue, admit, revoke while queued and while running, succeed, retry,
    ttlAfterFinished: every write the operator makes to jobs, on one Worker
    with one slot."""
    await k.create(builders.worker("build").concurrency(1).obj())
    await k.create(builders.pipelinejob("blocker").sim(run_time="60s").obj())
    await k.wait_state("blocker", "RUNNING")
    await k.create(builders.pipelinejob("waiting").obj())
    await k.wait_state("waiting", "IN-QUEUE", reason="ConcurrencyLimit")

    await k.patch(PJ, "waiting", {"spec": {"revoke": True}})
    await k.wait_state("waiting", "REVOKED")
    await k.patch(PJ, "blocker", {"spec": {"revoke": True}})
    await k.wait_state("blocker", "REVOKED")

    await k.create(builders.pipelinejob("first").sim(message='{"digest": "sha256:1"}').obj())
    flaky = builders.pipelinejob("flaky").retry_limit(1).backoff({"delay": "1s"}).obj()
    flaky["spec"]["podTemplate"] = {
        "metadata": {"annotations": {"sim.conveyor.dev/fail-attempts": "1"}}
    }
    await k.create(flaky)
    await k.create(builders.pipelinejob("ephemeral").ttl("2s").obj())

    first = await k.wait_state("first", "SUCCESS", timeout=60)
    assert first["status"]["outputs"] == {"digest": "sha256:1"}
    retried = await k.wait_state("flaky", "SUCCESS", timeout=90)
    assert [a["result"] for a in retried["status"]["attempts"]] == ["FAILED", "SUCCESS"]

    async def gone() -> bool:
        try:
            await k.pj("ephemeral")
        except api.ApiError as exc:
            return exc.not_found
        return False

    await k.wait_for("ephemeral deleted after ttlAfterFinished", gone, timeout=90)

    async def blocker_job_gone() -> bool:
        try:
            await k.get(api.JOBS, "blocker-1")
        except api.ApiError as exc:
            return exc.not_found
        return False

    await k.wait_for("the revoked Job blocker-1 deleted", blocker_job_gone)
    await k.wait_events("first", "Succeeded")


def health_of(script: pathlib.Path, bodies: list[dict[str, Any]]) -> list[str]:
    result = subprocess.run(
        [tools.require(tools.ARGOCD_LUA), str(script)],
        input=json.dumps(bodies),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [answer.get("status") or answer["error"] for answer in json.loads(result.stdout)]


# --- fixtures -------------------------------------------------------------------


@pytest.fixture
async def admin(cluster: clusters.Cluster) -> AsyncIterator[api.Client]:
    async with api.Client(login=kube.connection(str(cluster.kubeconfig))) as c:
        yield c


# --- tests ----------------------------------------------------------------------


def test_the_rendered_chart_passes_server_side_validation(
    cluster: clusters.Cluster, crds: None
) -> None:
    tools.require(tools.HELM)
    rel = new_namespace(cluster, "dry", restricted=True)
    watched = new_namespace(cluster, "dry-a")
    with namespaces(cluster, rel, watched):
        for values in (
            (),
            (
                "--set",
                f"watchNamespaces={{{watched}}}",
                "--set-json",
                f'workers=[{{"name":"build","namespace":"{watched}","type":"build",'
                '"concurrency":2}]',
                "--set",
                "metrics.serviceMonitor.enabled=false",
            ),
        ):
            rendered = helm(
                cluster,
                "template",
                RELEASE,
                str(tools.CHART),
                "-n",
                rel,
                "--include-crds",
                *values,
            )
            out = cluster.kubectl(
                "apply", "--dry-run=server", "--warnings-as-errors", "-f", "-", input=rendered
            )
            assert "deployment.apps/conveyor created (server dry run)" in out
            assert "Warning" not in out


def test_install_yaml_applies_and_its_operator_pod_runs(
    cluster: clusters.Cluster, crds: None
) -> None:
    if cluster.kubectl("get", "namespace", "conveyor-system", check=False):
        pytest.skip("this cluster already has a conveyor-system namespace: not touching it")
    docs = [d for d in yaml.safe_load_all(INSTALL_YAML.read_text()) if d]
    crds = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    rest = [d for d in docs if d["kind"] != "CustomResourceDefinition"]
    assert [d["metadata"]["name"] for d in crds] == sorted(
        p.name.removesuffix(".yaml") for p in (tools.ROOT / "crds").glob("*.yaml")
    )
    try:
        # The CRDs validated only: the session's were applied from crds/, and
        # an out-of-date install.yaml (test_generated says so) must not
        # change them under the other tests.
        cluster.kubectl(
            "apply",
            "--server-side",
            "--dry-run=server",
            "--warnings-as-errors",
            "-f",
            "-",
            input=yaml.safe_dump_all(crds),
        )
        cluster.kubectl(
            "apply",
            "--server-side",
            "--warnings-as-errors",
            "-f",
            "-",
            input=yaml.safe_dump_all(rest),
        )
        if cluster.local:  # kwok plays the pod; a real cluster would pull the image
            cluster.kubectl(
                "-n",
                "conveyor-system",
                "rollout",
                "status",
                "deployment/conveyor",
                "--timeout=120s",
            )
        role = json.loads(
            cluster.kubectl("get", "clusterrole", "conveyor-conveyor-system", "-o", "json")
        )
        no_wildcards(role["rules"])
    finally:
        # Everything but the CRDs: deleting those would delete every test's objects.
        cluster.kubectl(
            "delete",
            "--ignore-not-found",
            "--wait=false",
            "-f",
            "-",
            input=yaml.safe_dump_all(rest),
            check=False,
        )


async def test_cluster_wide_release_is_enough_for_the_operator(
    cluster: clusters.Cluster, crds: None, admin: api.Client, tmp_path: pathlib.Path
) -> None:
    tools.require(tools.HELM)
    rel = new_namespace(cluster, "cw", restricted=True)
    work = new_namespace(cluster, "cw-jobs")
    sa = f"system:serviceaccount:{rel}:{RELEASE}"
    narrow = f"inst-test-namespaces-{rel}"
    with namespaces(cluster, rel, work), release(cluster, rel) as notes:
        assert "The operator watches every namespace." in notes
        assert "kubectl -n NAMESPACE apply -f manifests/examples/jobs.yaml" in notes
        role = json.loads(cluster.kubectl("get", "clusterrole", f"conveyor-{rel}", "-o", "json"))
        no_wildcards(role["rules"])
        assert cluster.kubectl("get", "roles", "-n", work, "-o", "name") == ""

        # Cluster-wide: every namespace, the kinds it runs, and nothing else.
        assert can_i(cluster, sa, "list", "pipelinejobs.conveyor.dev", "--all-namespaces")
        assert can_i(cluster, sa, "watch", "pods", "--all-namespaces")
        assert can_i(cluster, sa, "create", "jobs.batch", "-n", work)
        assert can_i(cluster, sa, "patch", "pipelinejobs.conveyor.dev", "--subresource=status")
        for verb, resource in [
            ("get", "secrets"),
            ("create", "pods"),
            ("update", "pipelinejobs.conveyor.dev"),
            ("create", "workers.conveyor.dev"),
            ("patch", "workers.conveyor.dev"),
            ("list", "configmaps"),
            ("create", "deployments.apps"),
            ("list", "namespaces"),
            ("create", "customresourcedefinitions.apiextensions.k8s.io"),
        ]:
            assert not can_i(cluster, sa, verb, resource, "-n", work), (verb, resource)

        # The operator runs cluster-wide in the release; here it is narrowed
        # to `work` (the session's operator owns `e2e-*`), and kopf lists
        # namespaces when given some: a test-only grant the chart's
        # cluster-wide operator does not need.
        cluster.kubectl(
            "create", "clusterrole", narrow, "--verb=list,watch", "--resource=namespaces"
        )
        cluster.kubectl(
            "create",
            "clusterrolebinding",
            narrow,
            f"--clusterrole={narrow}",
            f"--serviceaccount={rel}:{RELEASE}",
        )
        kubeconfig = service_account_kubeconfig(
            cluster, namespace=rel, name=RELEASE, path=tmp_path / "sa.kubeconfig"
        )
        log = tmp_path / "operator.log"
        try:
            async with operator_as(kubeconfig=kubeconfig, namespaces=[work], log=log, extra=()):
                k = kube.Kube(client=admin, namespace=work)
                await run_scenario(k)
                # Read by the tools GitOps users run.
                cluster.kubectl(
                    "wait",
                    "--for=condition=Ready",
                    "--timeout=10s",
                    "-n",
                    work,
                    "pipelinejob/first",
                )
                bodies = [await k.pj(n) for n in ("first", "flaky", "waiting", "blocker")]
                assert [kstatus.compute(b).status for b in bodies] == [
                    kstatus.CURRENT,
                    kstatus.CURRENT,
                    kstatus.FAILED,
                    kstatus.FAILED,
                ]
                pj_lua = tools.ROOT / "docs" / "argocd" / "pipelinejob-health.lua"
                assert health_of(pj_lua, bodies) == [
                    "Healthy",
                    "Healthy",
                    "Suspended",
                    "Suspended",
                ]
                worker = await k.get(kube.WK, "build")
                wk_lua = tools.ROOT / "docs" / "argocd" / "worker-health.lua"
                assert health_of(wk_lua, [worker]) == ["Healthy"]
                assert kstatus.compute(worker).status == kstatus.CURRENT
        finally:
            cluster.kubectl("delete", "clusterrolebinding,clusterrole", narrow, check=False)
        assert forbidden_lines(log) == [], "\n".join(forbidden_lines(log))
    assert cluster.kubectl("get", "clusterrole", f"conveyor-{rel}", check=False) == ""
    # Helm never deletes CRDs (nor the PipelineJobs in them).
    assert cluster.kubectl("get", "crd", "pipelinejobs.conveyor.dev", "-o", "name")


async def test_namespaced_release_acts_only_in_its_namespaces(
    cluster: clusters.Cluster, crds: None, admin: api.Client, tmp_path: pathlib.Path
) -> None:
    tools.require(tools.HELM)
    rel = new_namespace(cluster, "ns", restricted=True)
    watched = new_namespace(cluster, "ns-a")
    other = new_namespace(cluster, "ns-b")
    sa = f"system:serviceaccount:{rel}:{RELEASE}"
    workers = json.dumps(
        [{"name": "build", "namespace": watched, "type": "build", "concurrency": 2}]
    )
    values = ("--set", f"watchNamespaces={{{watched}}}", "--set-json", f"workers={workers}")
    with namespaces(cluster, rel, watched, other), release(cluster, rel, *values) as notes:
        assert f"The operator watches only these namespaces: {watched}." in notes
        assert f"kubectl -n {watched} apply -f manifests/examples/jobs.yaml" in notes
        role = json.loads(cluster.kubectl("get", "role", "conveyor", "-n", watched, "-o", "json"))
        no_wildcards(role["rules"])
        assert cluster.kubectl("get", "clusterrole", f"conveyor-{rel}", check=False) == ""

        for verb, resource in [
            ("list", "pipelinejobs.conveyor.dev"),
            ("create", "jobs.batch"),
            ("list", "pods"),
            ("create", "events"),
            ("list", "workers.conveyor.dev"),
        ]:
            assert can_i(cluster, sa, verb, resource, "-n", watched), (verb, resource)
            assert not can_i(cluster, sa, verb, resource, "-n", other), (verb, resource)
            assert not can_i(cluster, sa, verb, resource, "-n", rel), (verb, resource)
        assert not can_i(cluster, sa, "list", "pipelinejobs.conveyor.dev", "--all-namespaces")
        assert not can_i(
            cluster, sa, "patch", "pipelinejobs.conveyor.dev", "-n", other, "--subresource=status"
        )

        ignored = kube.Kube(client=admin, namespace=other)
        await ignored.create(builders.worker("build").obj())
        await ignored.create(builders.pipelinejob("ignored").obj())

        kubeconfig = service_account_kubeconfig(
            cluster, namespace=rel, name=RELEASE, path=tmp_path / "sa.kubeconfig"
        )
        log = tmp_path / "operator.log"
        # A fast clock (one scheduled minute in two seconds) for the cron run.
        extra = ("--time-scale", "30", "--clock-anchor", str(time.time()))
        async with operator_as(kubeconfig=kubeconfig, namespaces=[watched], log=log, extra=extra):
            k = kube.Kube(client=admin, namespace=watched)

            async def worker_online() -> bool:
                body = await k.get(kube.WK, "build")  # the chart's Worker
                return (body.get("status") or {}).get("state") == "ONLINE"

            await k.wait_for("the chart's Worker ONLINE", worker_online)
            await k.create(builders.pipelinejob("hello").obj())
            await k.wait_state("hello", "SUCCESS")

            # A cron schedule with Replace: creates runs, revokes the running one.
            await k.create(
                {
                    "apiVersion": "conveyor.dev/v1alpha1",
                    "kind": "PipelineCronJob",
                    "metadata": {"name": "nightly"},
                    "spec": {
                        "schedule": "* * * * *",
                        "concurrencyPolicy": "Replace",
                        "jobTemplate": {
                            "spec": builders.pipelinejob("x").sim(run_time="60s").obj()["spec"]
                        },
                    },
                }
            )

            async def replaced() -> bool:
                runs = await k.list(PJ, labelSelector="conveyor.dev/cronjob=nightly")
                states = [(r.get("spec") or {}).get("revoke") for r in runs]
                return len(runs) >= 2 and True in states

            await k.wait_for("a cron run replaced by the next", replaced, timeout=60)

            async def cron_status() -> bool:
                return bool(
                    ((await k.get(PCJ, "nightly")).get("status") or {}).get("lastScheduleTime")
                )

            await k.wait_for("the PipelineCronJob's status", cron_status)
            await k.patch(PCJ, "nightly", {"spec": {"suspend": True}})

            # Left alone: no status on anything in a namespace not watched.
            assert "status" not in await ignored.pj("ignored")
            assert "status" not in await ignored.get(kube.WK, "build")
        assert forbidden_lines(log) == [], "\n".join(forbidden_lines(log))
    assert cluster.kubectl("get", "role", "conveyor", "-n", watched, check=False) == ""
