"""android-build end to end: the rendered Job's three containers run the way
its pod would (the agent's checkout from a private forge speaking git's smart
HTTP, the Gradle step's own command, the agent collecting the artifact), and
the operator, on the real API server with kwok playing the pod with that
termination message, puts the same outputs in status.outputs. And an
operator started with --agent-image creates Jobs whose agent containers run
that image: the setting reaches its renderer processes."""

from __future__ import annotations

import hashlib
import json
import pathlib
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from tests.agent import gitrepos

from conveyor.k8s import api
from e2e.tests import agent_pod, conftest, kube
from e2e.tests import cluster as clusters
from e2e.tests import test_agent_outputs as outputs_test
from tests import builders

pytestmark = pytest.mark.e2e

TOKEN = "ghp_e2e-token"
PINNED = "registry.example/platform/conveyor-agent@sha256:" + "5" * 64


@pytest.fixture
def forge(tmp_path: pathlib.Path) -> Iterator[gitrepos.Forge]:
    gitrepos.android_project(tmp_path / "repos" / "app.git")
    served = gitrepos.Forge(root=tmp_path / "repos", username="x-access-token", password=TOKEN)
    yield served
    served.close()


def run_the_pod(
    manifest: dict[str, Any], *, cluster: clusters.Cluster, tmp_path: pathlib.Path
) -> tuple[agent_pod.Run, agent_pod.Run]:
    """checkout, gradle, main, as the kubelet runs them: the checkout's and main's runs."""
    pod = manifest["spec"]["template"]["spec"]
    workspace, artifacts = tmp_path / "workspace", tmp_path / "artifacts"
    workspace.mkdir()
    artifacts.mkdir()
    # The volumes, where the pod mounts them; the Secret's key, as the kubelet gives it.
    volumes = {"CONVEYOR_WORKSPACE": str(workspace), "CONVEYOR_ARTIFACTS": str(artifacts)}
    checkout = agent_pod.run_main_container(
        manifest,
        cluster=cluster,
        tmp_path=tmp_path,
        container="checkout",
        env={**volumes, "GIT_TOKEN": TOKEN},
    )
    assert checkout.code == 0, checkout.stderr
    [gradle] = [c for c in pod["initContainers"] if c["name"] == "gradle"]
    assert gradle["workingDir"] == "/workspace/src"
    subprocess.run(gradle["command"], cwd=workspace / "src", check=True, timeout=60)
    run = agent_pod.run_main_container(manifest, cluster=cluster, tmp_path=tmp_path, env=volumes)
    assert run.code == 0, run.stderr
    return checkout, run


@pytest.mark.usefixtures("operator")
async def test_android_build_outputs(
    k: kube.Kube,
    cluster: clusters.Cluster,
    namespace: str,
    tmp_path: pathlib.Path,
    forge: gitrepos.Forge,
) -> None:
    raw = {
        "repository": forge.url("app.git"),
        "output": "apk",
        "gitSecret": {"name": "git", "key": "token"},
    }
    manifest = outputs_test.rendered("android-build", namespace, raw)
    checkout, run = run_the_pod(manifest, cluster=cluster, tmp_path=tmp_path)
    message = (tmp_path / "termination-log").read_text()

    outputs = await outputs_test.outputs_through_the_operator(
        k, job_type="android-build", worker_type="android-build", raw=raw, message=message
    )

    assert outputs == json.loads(message) == run.outputs
    kept = tmp_path / "artifacts" / "agent" / "app-release.apk"
    assert outputs == {
        "artifact": "agent/app-release.apk",
        "sha256": hashlib.sha256(kept.read_bytes()).hexdigest(),
        "commit": checkout.outputs["commit"],
    }
    assert kept.read_text() == "built by assembleRelease from 2\n"
    assert "/app.git/git-upload-pack" in forge.authorized


@pytest.fixture(scope="module")
def pinned_operator(
    cluster: clusters.Cluster, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[conftest.OperatorProcess]:
    proc = conftest.OperatorProcess(
        kubeconfig=cluster.kubeconfig,
        namespaces=["agentimg-*"],
        log=tmp_path_factory.mktemp("agentimg") / "operator.log",
        extra_args=("--agent-image", PINNED),
    )
    proc.start()
    proc.wait_ready()
    yield proc
    proc.stop()


@pytest.fixture
async def pk(
    cluster: clusters.Cluster, pinned_operator: conftest.OperatorProcess, client: api.Client
) -> AsyncIterator[kube.Kube]:
    name = f"agentimg-{secrets.token_hex(4)}"
    cluster.kubectl("create", "namespace", name)
    k = kube.Kube(client=client, namespace=name)
    sa = api.Resource(group="", version="v1", plural="serviceaccounts")
    await k.wait_for("default ServiceAccount", lambda: k.get(sa, "default"))
    yield k
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.mark.parametrize(
    ("job_type", "worker_type", "params"),
    [
        ("android-build", "android-build", {"repository": "https://github.com/acme/app.git"}),
        ("clone-env", "clone-env", {"source": "staging", "target": "qa-1"}),
    ],
)
async def test_the_operators_agent_image_is_in_the_jobs_it_creates(
    pk: kube.Kube, job_type: str, worker_type: str, params: dict[str, str]
) -> None:
    await pk.create(builders.worker(worker_type).type(worker_type).concurrency(1).obj())
    await pk.create(builders.pipelinejob("pinned").type(job_type).params(params).obj())

    job = await pk.wait_for("the Job", lambda: pk.get(api.JOBS, "pinned-1"))

    pod = job["spec"]["template"]["spec"]
    agents = [
        c
        for c in [*pod.get("initContainers", []), *pod["containers"]]
        if c["command"][0] == "conveyor-agent"
    ]
    assert [c["image"] for c in agents] == [PINNED] * len(agents)
    assert "main" in {c["name"] for c in agents}
