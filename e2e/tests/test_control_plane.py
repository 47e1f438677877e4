"""The test cluster itself: what Conveyor's end-to-end tests rely on.

These run without the operator. Each test is a small specification of one
behaviour of the local control plane (kube-apiserver, kube-controller-manager,
kube-scheduler and kwok, see docs/local-cluster.md), checked through the API
the way the operator will see it.

Tests that script a pod with the `sim.conveyor.dev/*` annotations need kwok
and are skipped on a cluster whose nodes are real (`CONVEYOR_TEST_CLUSTER=existing`
against kind, k3d or a real cluster). The rest hold on any cluster: an image
under `unpullable.invalid/` cannot be pulled anywhere (`.invalid` never resolves).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import json
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

import pytest

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import kube

pytestmark = pytest.mark.e2e

T = TypeVar("T")

CONFIGMAPS = api.Resource(group="", version="v1", plural="configmaps")
WIDGETS = api.Resource(group="test.conveyor.dev", version="v1", plural="widgets")

# A real image, so the Job tests that need no simulation also pass on a real cluster.
IMAGE = "busybox:1.36"
SIM = "sim.conveyor.dev"

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.test.conveyor.dev
spec:
  group: test.conveyor.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
          status:
            type: object
            properties:
              phase: {type: string}
              observedGeneration: {type: integer}
"""


# ---------------------------------------------------------------- helpers


async def until(
    what: str,
    fetch: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    *,
    timeout: float = 60,
    interval: float = 0.2,
) -> T:
    """Poll `fetch` until `ok` holds for what it returns, at most `timeout`
    seconds; then fail naming what was awaited and the last state seen."""
    deadline = time.monotonic() + timeout
    last: T | api.ApiError | None = None
    while True:
        try:
            last = await fetch()
            if ok(last):
                return last
        except api.ApiError as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {what}; last seen:\n{_show(last)}"
            )
        await asyncio.sleep(interval)


def _show(value: object) -> str:
    try:
        return json.dumps(_trim(value), indent=1, default=str)[:4000]
    except TypeError:
        return repr(value)


def _trim(value: object) -> object:
    """An object's name, annotations and status: what a failed wait needs to say."""
    if isinstance(value, list):
        return [_trim(item) for item in value]
    if isinstance(value, dict) and "metadata" in value:
        md = value["metadata"]
        return {
            "metadata": {key: md.get(key) for key in ("name", "annotations") if key in md},
            "status": value.get("status"),
        }
    return value


def job_manifest(
    name: str,
    *,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    owner: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A one-pod Job that does not retry; its pod is scripted by `annotations`."""
    metadata: dict[str, Any] = {"name": name}
    if owner is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"annotations": dict(annotations or {}), "labels": dict(labels or {})},
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "main", "image": IMAGE, "command": ["true"]}],
                },
            },
        },
    }


def pod_manifest(
    name: str,
    *,
    image: str = IMAGE,
    annotations: Mapping[str, str] | None = None,
    cpu: str = "10m",
) -> dict[str, Any]:
    """A bare pod (no owner)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": dict(annotations or {})},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "main",
                    "image": image,
                    "command": ["true"],
                    "resources": {"requests": {"cpu": cpu, "memory": "16Mi"}},
                }
            ],
        },
    }


def condition(obj: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == kind:
            return dict(c)
    return None


def has_condition(obj: Mapping[str, Any], kind: str, status: str = "True") -> bool:
    c = condition(obj, kind)
    return c is not None and c.get("status") == status


def phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase", ""))


def container_state(pod: Mapping[str, Any]) -> dict[str, Any]:
    """The state of the pod's (only) container: {"running": …}, {"terminated": …}, …"""
    statuses = (pod.get("status") or {}).get("containerStatuses") or [{}]
    return dict(statuses[0].get("state") or {})


def waiting_reason(pod: Mapping[str, Any]) -> str | None:
    waiting = container_state(pod).get("waiting") or {}
    return waiting.get("reason")


async def job_pods(k: kube.Kube, job: str) -> list[dict[str, Any]]:
    return await k.list(api.PODS, labelSelector=f"batch.kubernetes.io/job-name={job}")


async def the_job_pod(k: kube.Kube, job: str) -> dict[str, Any]:
    pods = await job_pods(k, job)
    assert len(pods) == 1, f"expected one pod for Job {job}, found {len(pods)}"
    return pods[0]


async def gone(fetch: Callable[[], Awaitable[object]]) -> bool:
    try:
        await fetch()
    except api.ApiError as exc:
        if exc.not_found:
            return True
        raise
    return False


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def simulated(cluster: clusters.Cluster) -> None:
    """Skip unless the cluster's pods are played by kwok (the local control plane)."""
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    if not any(
        (n["metadata"].get("annotations") or {}).get("kwok.x-k8s.io/node") == "fake" for n in nodes
    ):
        pytest.skip("needs simulated pods (kwok); this cluster runs real ones")


@pytest.fixture(scope="module")
def widget_crd(cluster: clusters.Cluster) -> Iterator[None]:
    """A tiny CRD with a status subresource, the shape of Conveyor's own."""
    cluster.kubectl("apply", "-f", "-", input=WIDGET_CRD)
    cluster.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/widgets.test.conveyor.dev",
    )
    yield
    cluster.kubectl("delete", "crd", "widgets.test.conveyor.dev", "--wait=false", check=False)


# ---------------------------------------------------------------- Jobs and pods


async def test_a_one_pod_job_reaches_complete(k: kube.Kube) -> None:
    await k.create(job_manifest("ok"))

    job = await until(
        "Job ok to be Complete",
        lambda: k.get(api.JOBS, "ok"),
        lambda j: has_condition(j, "Complete") or has_condition(j, "Failed"),
    )

    assert has_condition(job, "Complete"), _show(job)
    assert job["status"]["succeeded"] == 1
    pod = await the_job_pod(k, "ok")
    assert phase(pod) == "Succeeded"
    assert container_state(pod)["terminated"]["exitCode"] == 0


@pytest.mark.usefixtures("simulated")
async def test_a_pod_annotated_with_an_exit_code_fails_with_it_and_the_job_fails(
    k: kube.Kube,
) -> None:
    await k.create(
        job_manifest(
            "exit3",
            annotations={
                f"{SIM}/exit-code": "3",
                f"{SIM}/termination-message": "disk full",
            },
        )
    )

    job = await until(
        "Job exit3 to be Failed",
        lambda: k.get(api.JOBS, "exit3"),
        lambda j: has_condition(j, "Failed") or has_condition(j, "Complete"),
    )

    failed = condition(job, "Failed")
    assert failed is not None, _show(job)
    assert (failed["status"], failed["reason"]) == ("True", "BackoffLimitExceeded")
    pod = await the_job_pod(k, "exit3")
    assert phase(pod) == "Failed"
    terminated = container_state(pod)["terminated"]
    assert terminated["exitCode"] == 3
    assert terminated["reason"] == "Error"
    assert terminated["message"] == "disk full"


@pytest.mark.usefixtures("simulated")
async def test_a_termination_message_set_by_annotation_is_in_the_pod_status(
    k: kube.Kube,
) -> None:
    message = '{"digest": "sha256:abc", "note": "multi\\nline"}'
    await k.create(job_manifest("msg", annotations={f"{SIM}/termination-message": message}))

    pods = await until(
        "the pod of Job msg to finish",
        lambda: job_pods(k, "msg"),
        lambda pods: len(pods) == 1 and phase(pods[0]) in ("Succeeded", "Failed"),
    )

    pod = pods[0]
    assert phase(pod) == "Succeeded"
    terminated = container_state(pod)["terminated"]
    assert terminated["message"] == message
    assert json.loads(terminated["message"])["digest"] == "sha256:abc"


@pytest.mark.usefixtures("simulated")
async def test_fail_attempts_fails_the_first_attempts_and_lets_later_ones_succeed(
    k: kube.Kube,
) -> None:
    # Retry tests: Conveyor labels each attempt's pod with its number.
    for attempt in ("1", "2", "3"):
        await k.create(
            job_manifest(
                f"attempt-{attempt}",
                annotations={f"{SIM}/fail-attempts": "2"},
                labels={"conveyor.dev/attempt": attempt},
            )
        )

    outcomes = {}
    for attempt in ("1", "2", "3"):
        pods = await until(
            f"the pod of attempt {attempt} to finish",
            functools.partial(job_pods, k, f"attempt-{attempt}"),
            lambda pods: len(pods) == 1 and phase(pods[0]) in ("Succeeded", "Failed"),
        )
        outcomes[attempt] = (phase(pods[0]), container_state(pods[0])["terminated"]["exitCode"])

    assert outcomes == {"1": ("Failed", 1), "2": ("Failed", 1), "3": ("Succeeded", 0)}


@pytest.mark.usefixtures("simulated")
async def test_a_run_time_annotation_keeps_the_pod_running_that_long(k: kube.Kube) -> None:
    created = time.monotonic()
    await k.create(pod_manifest("slow", annotations={f"{SIM}/run-time": "4s"}))

    await until(
        "pod slow to be Running",
        lambda: k.get(api.PODS, "slow"),
        lambda p: phase(p) != "Pending",
    )
    await asyncio.sleep(1)
    pod = await k.get(api.PODS, "slow")
    assert phase(pod) == "Running", "a 4s pod ended within about a second of starting"
    assert "running" in container_state(pod)

    pod = await until(
        "pod slow to be Succeeded",
        lambda: k.get(api.PODS, "slow"),
        lambda p: phase(p) in ("Succeeded", "Failed"),
    )
    assert phase(pod) == "Succeeded"
    # Only a lower bound: a busy machine makes everything later, never earlier.
    assert time.monotonic() - created >= 3.5


async def test_an_unpullable_image_backs_off_and_the_pod_stays_pending(k: kube.Kube) -> None:
    await k.create(pod_manifest("nopull", image="unpullable.invalid/conveyor/nothing:1"))

    first = await until(
        "pod nopull to report an image pull error",
        lambda: k.get(api.PODS, "nopull"),
        lambda p: waiting_reason(p) is not None,
    )
    assert waiting_reason(first) in ("ErrImagePull", "ImagePullBackOff")
    pod = await until(
        "pod nopull to be in ImagePullBackOff",
        lambda: k.get(api.PODS, "nopull"),
        lambda p: waiting_reason(p) == "ImagePullBackOff",
    )

    assert phase(pod) == "Pending"
    assert "unpullable.invalid/conveyor/nothing:1" in pod["status"]["containerStatuses"][0][
        "state"
    ]["waiting"].get("message", "")
    await asyncio.sleep(2)
    pod = await k.get(api.PODS, "nopull")
    assert phase(pod) == "Pending"
    assert waiting_reason(pod) == "ImagePullBackOff"


async def test_a_pod_no_node_can_host_stays_pending_and_unschedulable(k: kube.Kube) -> None:
    await k.create(pod_manifest("huge", cpu="100000"))

    pod = await until(
        "pod huge to be marked unschedulable",
        lambda: k.get(api.PODS, "huge"),
        lambda p: condition(p, "PodScheduled") is not None,
    )

    scheduled = condition(pod, "PodScheduled")
    assert scheduled is not None
    assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")
    assert "Insufficient cpu" in scheduled.get("message", "")
    await asyncio.sleep(1)
    pod = await k.get(api.PODS, "huge")
    assert phase(pod) == "Pending"
    assert not pod["spec"].get("nodeName")


# ---------------------------------------------------------------- API machinery


@pytest.mark.usefixtures("widget_crd")
async def test_a_status_subresource_takes_status_only_through_slash_status(
    client: api.Client, namespace: str
) -> None:
    path = WIDGETS.path(namespace=namespace, name="w")

    created = await client.create(
        WIDGETS,
        namespace=namespace,
        body={
            "apiVersion": "test.conveyor.dev/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": 1},
            "status": {"phase": "Forged"},
        },
    )
    assert not created.get("status"), "status must be dropped on create"
    assert created["metadata"]["generation"] == 1

    # /status takes status, and nothing else.
    patched = await client.request(
        "PATCH",
        path + "/status",
        body={"spec": {"size": 99}, "status": {"phase": "Ready", "observedGeneration": 1}},
        content_type=api.MERGE_PATCH,
    )
    assert patched["status"] == {"phase": "Ready", "observedGeneration": 1}
    assert patched["spec"] == {"size": 1}
    assert patched["metadata"]["generation"] == 1, "a status write must not bump generation"

    # An update of the main resource takes spec and ignores status.
    body = await client.get(WIDGETS, namespace=namespace, name="w")
    body["spec"]["size"] = 2
    body["status"] = {"phase": "Hacked"}
    updated = await client.request("PUT", path, body=body)
    assert updated["spec"] == {"size": 2}
    assert updated["status"] == {"phase": "Ready", "observedGeneration": 1}
    assert updated["metadata"]["generation"] == 2

    # So does a patch of the main resource.
    merged = await client.request(
        "PATCH",
        path,
        body={"spec": {"size": 3}, "status": {"phase": "Hacked"}},
        content_type=api.MERGE_PATCH,
    )
    assert merged["spec"] == {"size": 3}
    assert merged["status"] == {"phase": "Ready", "observedGeneration": 1}

    stored = await client.get(WIDGETS, namespace=namespace, name="w")
    assert stored["status"]["phase"] == "Ready"


@pytest.mark.parametrize("owner_kind", ["ConfigMap", "Widget"])
@pytest.mark.usefixtures("widget_crd")
async def test_deleting_an_owner_garbage_collects_its_job_and_pods(
    k: kube.Kube, client: api.Client, namespace: str, owner_kind: str
) -> None:
    if owner_kind == "ConfigMap":
        resource = CONFIGMAPS
        owner = await client.create(
            CONFIGMAPS,
            namespace=namespace,
            body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}},
        )
    else:
        resource = WIDGETS
        owner = await client.create(
            WIDGETS,
            namespace=namespace,
            body={
                "apiVersion": "test.conveyor.dev/v1",
                "kind": "Widget",
                "metadata": {"name": "owner"},
                "spec": {"size": 1},
            },
        )
    # A pod that keeps running, so the collector has to delete a live one
    # (on a real cluster it sleeps; the annotation is for kwok).
    manifest = job_manifest("owned", owner=owner, annotations={f"{SIM}/run-time": "10m"})
    manifest["spec"]["template"]["spec"]["containers"][0]["command"] = ["sleep", "600"]
    await k.create(manifest)
    await until(
        "the pod of Job owned to be Running",
        lambda: job_pods(k, "owned"),
        lambda pods: len(pods) == 1 and phase(pods[0]) == "Running",
    )

    await client.delete(resource, namespace=namespace, name="owner")

    await until(
        "Job owned to be garbage-collected",
        lambda: gone(lambda: k.get(api.JOBS, "owned")),
        bool,
    )
    await until("the Job's pods to be deleted", lambda: job_pods(k, "owned"), lambda p: not p)


def test_a_service_account_without_rbac_is_forbidden(
    cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    cluster.kubectl("create", "serviceaccount", "robot", "-n", namespace)
    user = f"system:serviceaccount:{namespace}:robot"

    # What RBAC says…
    for verb, what in [("list", "pods"), ("create", "jobs.batch"), ("get", "configmaps")]:
        answer = cluster.kubectl(
            "auth", "can-i", verb, what, "-n", namespace, f"--as={user}", check=False
        )
        assert answer.strip() == "no", f"{user} can {verb} {what}"

    # …and what a real request with the account's own token gets.
    token = cluster.kubectl("create", "token", "robot", "-n", namespace, "--duration=10m")
    token = token.strip()
    as_robot = dataclasses.replace(
        cluster, kubeconfig=_token_kubeconfig(cluster, token, tmp_path / "robot.kubeconfig")
    )
    with pytest.raises(RuntimeError, match=r"Forbidden.*cannot list resource \"pods\""):
        as_robot.kubectl("get", "pods", "-n", namespace)

    status, body = _get_with_token(cluster, token, f"/api/v1/namespaces/{namespace}/pods")
    assert status == 403
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "Forbidden", 403)
    assert user in body["message"]

    # The token itself is good: with a Role bound, the same request passes.
    cluster.kubectl(
        "create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", namespace
    )
    cluster.kubectl(
        "create",
        "rolebinding",
        "robot-reads-pods",
        "--role=pod-reader",
        f"--serviceaccount={namespace}:robot",
        "-n",
        namespace,
    )
    deadline = time.monotonic() + 30
    while (
        status := _get_with_token(cluster, token, f"/api/v1/namespaces/{namespace}/pods")[0]
    ) != 200:
        assert time.monotonic() < deadline, f"still {status} 30s after binding the Role"
        time.sleep(0.2)
    as_robot.kubectl("get", "pods", "-n", namespace)


def _cluster_access(cluster: clusters.Cluster) -> tuple[str, str | None]:
    """The API server's address and CA (PEM) from the cluster's kubeconfig."""
    config = json.loads(cluster.kubectl("config", "view", "--raw", "--minify", "-o", "json"))
    entry = config["clusters"][0]["cluster"]
    ca: str | None = None
    if entry.get("certificate-authority-data"):
        ca = base64.b64decode(entry["certificate-authority-data"]).decode()
    elif entry.get("certificate-authority"):
        ca = pathlib.Path(entry["certificate-authority"]).read_text()
    return entry["server"], ca


def _token_kubeconfig(cluster: clusters.Cluster, token: str, path: pathlib.Path) -> pathlib.Path:
    """A kubeconfig with only the token as credentials. (`kubectl --token`
    over the admin kubeconfig would still present the admin's client
    certificate, which the API server authenticates first.)"""
    server, ca = _cluster_access(cluster)
    entry: dict[str, Any] = {"server": server}
    if ca is not None:
        entry["certificate-authority-data"] = base64.b64encode(ca.encode()).decode()
    else:
        entry["insecure-skip-tls-verify"] = True
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": entry}],
        "users": [{"name": "robot", "user": {"token": token}}],
        "contexts": [{"name": "robot", "context": {"cluster": "c", "user": "robot"}}],
        "current-context": "robot",
    }
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


def _get_with_token(cluster: clusters.Cluster, token: str, path: str) -> tuple[int, dict[str, Any]]:
    server, ca = _cluster_access(cluster)
    context = ssl.create_default_context(cadata=ca) if ca else ssl.create_default_context()
    request = urllib.request.Request(
        server.rstrip("/") + path, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_bundled_kubectl_shows_the_node_ready(cluster: clusters.Cluster) -> None:
    table = cluster.kubectl("get", "nodes")
    rows = [line.split() for line in table.splitlines()[1:]]
    assert rows, f"no nodes:\n{table}"
    assert any(row[1] == "Ready" for row in rows), table

    if cluster.local:
        # Client and server are the same Kubernetes release.
        versions = json.loads(cluster.kubectl("version", "-o", "json"))
        wanted = (clusters.ROOT / "e2e" / "cluster" / "KUBE_VERSION").read_text().strip()
        assert versions["clientVersion"]["gitVersion"] == wanted
        assert versions["serverVersion"]["gitVersion"] == wanted


# ---------------------------------------------------------------- up and down


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(clusters.CLUSTER_BIN), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that mention `text` (like `pgrep -af`)."""
    found = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{proc.name}: {cmdline.strip()}")
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.mark.skipif(not clusters.CLUSTER_BIN.exists(), reason="control plane binary not built")
def test_up_is_idempotent_and_down_leaves_no_process_behind(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "own-cluster"
    first = _run("up", "--dir", str(state))
    try:
        assert first.returncode == 0, first.stdout + first.stderr
        assert "ready" in first.stdout
        pid = int((state / "supervisor.pid").read_text())
        kubeconfig = (state / "kubeconfig").read_text()
        assert _processes_mentioning(str(state)), "up started nothing"

        started = time.monotonic()
        again = _run("up", "--dir", str(state))
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already running" in again.stdout
        assert time.monotonic() - started < 15, "a second `up` must not start another cluster"
        assert int((state / "supervisor.pid").read_text()) == pid
        assert (state / "kubeconfig").read_text() == kubeconfig
        assert _run("status", "--dir", str(state)).returncode == 0

        own = clusters.Cluster(kubeconfig=state / "kubeconfig", local=True, state_dir=state)
        assert " Ready " in own.kubectl("get", "nodes")
    finally:
        down = _run("down", "--dir", str(state), timeout=120)

    assert down.returncode == 0, down.stdout + down.stderr
    assert not _group_alive(pid), f"the supervisor's process group {pid} is still alive"
    assert not _processes_mentioning(str(state)), "\n".join(_processes_mentioning(str(state)))
    if shutil.which("pgrep"):
        pgrep = subprocess.run(["pgrep", "-af", str(state)], capture_output=True, text=True)
        assert pgrep.returncode == 1, pgrep.stdout
    assert not (state / "supervisor.pid").exists()
    assert _run("status", "--dir", str(state)).returncode != 0
    assert "not running" in _run("down", "--dir", str(state)).stdout
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.skipif(not clusters.CLUSTER_BIN.exists(), reason="control plane binary not built")
def test_one_component_restarts_pauses_and_stops_while_the_rest_run_and_down_up_keeps_the_cluster(
    tmp_path: pathlib.Path,
) -> None:
    state = tmp_path / "faulty"
    assert _run("up", "--dir", str(state)).returncode == 0
    own = clusters.Cluster(kubeconfig=state / "kubeconfig", local=True, state_dir=state)
    old_kubeconfig = (state / "kubeconfig").read_text()
    try:
        own.kubectl("create", "namespace", "kept")
        supervisor = int((state / "supervisor.pid").read_text())

        assert "restart kube-apiserver: done" in own.restart("kube-apiserver")
        assert "namespace/kept" in own.kubectl("get", "namespace", "kept", "-o", "name")
        assert int((state / "supervisor.pid").read_text()) == supervisor  # nothing else stopped

        own.pause("etcd", seconds=3)
        assert "etcd paused" in _run("components", "--dir", str(state)).stdout
        started = time.monotonic()
        own.kubectl("create", "namespace", "after-pause")  # waits for etcd, then works
        assert time.monotonic() - started > 1
        assert "etcd running" in _run("components", "--dir", str(state)).stdout

        own.stop_component("kube-controller-manager")
        assert "kube-controller-manager stopped" in _run("components", "--dir", str(state)).stdout
        time.sleep(2)  # not restarted behind our back
        assert "kube-controller-manager stopped" in _run("components", "--dir", str(state)).stdout
        own.start_component("kube-controller-manager")

        # A component that dies on its own is started again.
        line = _run("components", "--dir", str(state)).stdout
        scheduler = int(line.split("kube-scheduler running (pid ")[1].split(")")[0])
        os.kill(scheduler, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _run("components", "--dir", str(state)).stdout
            if "kube-scheduler running" in now and f"(pid {scheduler})" not in now:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the scheduler was not restarted: {now}")

        assert _run("down", "--dir", str(state), timeout=120).returncode == 0
        assert _run("up", "--dir", str(state)).returncode == 0
        assert (state / "kubeconfig").read_text() == old_kubeconfig  # same CA, port, keys
        assert "namespace/kept" in own.kubectl("get", "namespace", "kept", "-o", "name")
    finally:
        _run("down", "--dir", str(state), "--wipe", timeout=120)
    assert not state.exists()
