"""End to end: PipelineTriggers and the webhook receiver (`conveyor webhooks`).

The receiver runs as users run it, in its own process, against the local
control plane; deliveries are signed as GitHub signs them. The session's
operator runs the PipelineJobs the triggers create.
"""

from __future__ import annotations

import asyncio
import base64
import collections.abc
import copy
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import Any

import aiohttp
import pytest

from conveyor.k8s import api
from conveyor.triggers import objects, signatures
from conveyor.webhooks import cluster as hooks_cluster
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from tests import builders

pytestmark = pytest.mark.e2e

DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "triggers" / "data"
SECRET = b"It's a Secret to Everybody"
PT = hooks_cluster.PIPELINETRIGGERS
PR = hooks_cluster.PIPELINERUNS
SECRETS = hooks_cluster.SECRETS


class ReceiverProcess:
    """`conveyor webhooks` in its own process."""

    def __init__(self, *, kubeconfig: pathlib.Path, log: pathlib.Path) -> None:
        self.kubeconfig = kubeconfig
        self.log = log
        self.port = conftest._free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [sys.executable, "-m", "conveyor.cli.main", "webhooks", "--port", str(self.port)]
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return
            except OSError:
                assert self.alive(), f"the receiver exited; log: {self.log}"
                time.sleep(0.2)
        raise RuntimeError(f"the receiver did not come up; log: {self.log}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def receiver(
    cluster: clusters.Cluster, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> collections.abc.Iterator[ReceiverProcess]:
    proc = ReceiverProcess(
        kubeconfig=cluster.kubeconfig, log=tmp_path_factory.mktemp("webhooks") / "webhooks.log"
    )
    proc.start()
    yield proc
    proc.stop()
    log = proc.log.read_text()
    assert SECRET.decode() not in log  # never a secret in the log


@pytest.fixture
async def hooks(k: kube.Kube, receiver: ReceiverProcess) -> collections.abc.AsyncIterator[Hooks]:
    await k.client.create(
        SECRETS,
        namespace=k.namespace,
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "webhook"},
            "data": {"secret": base64.b64encode(SECRET).decode()},
        },
    )
    async with aiohttp.ClientSession() as session:
        yield Hooks(k=k, session=session, url=receiver.url)


class Hooks:
    def __init__(self, *, k: kube.Kube, session: aiohttp.ClientSession, url: str) -> None:
        self.k = k
        self.session = session
        self.url = url

    async def trigger(self, name: str, **spec: Any) -> dict[str, Any]:
        body = {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineTrigger",
            "metadata": {"name": name},
            "spec": {"source": "github", "secretRef": {"name": "webhook", "key": "secret"}, **spec},
        }
        return await self.k.client.create(PT, namespace=self.k.namespace, body=body)

    async def post(
        self,
        trigger: str,
        body: bytes,
        *,
        event: str = "push",
        delivery: str | None = None,
        headers: dict[str, str] | None = None,
        signed: bool = True,
    ) -> tuple[int, dict[str, Any]]:
        sent = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        }
        if signed:
            sent |= signatures.sign(source=signatures.Source.GITHUB, secret=SECRET, body=body)
        sent |= headers or {}
        path = f"{self.url}/hooks/{self.k.namespace}/{trigger}"
        async with self.session.post(path, data=body, headers=sent) as response:
            return response.status, await response.json(content_type=None)

    async def created_by(self, trigger: str, resource: api.Resource = kube.PJ) -> list[str]:
        items = await self.k.list(resource, labelSelector=f"{objects.TRIGGER_LABEL}={trigger}")
        return sorted(i["metadata"]["name"] for i in items)

    async def status(self, trigger: str) -> dict[str, Any]:
        status: dict[str, Any] = (await self.k.get(PT, trigger)).get("status") or {}
        return status


def push(*, ref: str = "refs/heads/main", after: str | None = None, **fields: Any) -> bytes:
    body = json.loads((DATA / "github-push.json").read_text())
    body["ref"] = ref
    body["after"] = after or uuid.uuid4().hex + uuid.uuid4().hex[:8]
    body.update(fields)
    return json.dumps(body).encode()


def job_template(*, run_time: str | None = None) -> dict[str, Any]:
    params = {
        "image": "alpine:3.20",
        "command": ["sh", "-c", "echo {{ body.after }}"],
        "env": [
            {"name": "REPO", "value": "{{ body.repository.clone_url }}"},
            {"name": "EVENT", "value": "{{ event }}"},
        ],
    }
    job = builders.pipelinejob("unused").type("custom").params(params).sim(run_time=run_time)
    return {"metadata": {"labels": {"app": "api"}}, "spec": job.obj()["spec"]}


async def test_a_signed_push_creates_a_job_that_succeeds_once_per_delivery(
    hooks: Hooks, operator: conftest.OperatorProcess
) -> None:
    await hooks.k.create(builders.worker("build").concurrency(2).obj())
    await hooks.trigger("api", jobTemplate=job_template())
    body = push()
    delivery = str(uuid.uuid4())

    status, answer = await hooks.post("api", body, delivery=delivery)
    assert (status, answer["result"]) == (201, "Created"), answer
    name = answer["object"]["name"]
    job = await hooks.k.wait_state(name, "SUCCESS", timeout=90)
    sent = json.loads(body)
    assert job["spec"]["params"]["command"] == ["sh", "-c", f"echo {sent['after']}"]
    assert job["spec"]["params"]["env"] == [
        {"name": "REPO", "value": sent["repository"]["clone_url"]},
        {"name": "EVENT", "value": "push"},
    ]
    labels = job["metadata"]["labels"]
    assert labels["app"] == "api"
    assert labels[objects.TRIGGER_LABEL] == "api"
    assert labels[objects.BRANCH_LABEL] == "main"
    assert job["metadata"]["annotations"][objects.DELIVERY_ANNOTATION] == delivery

    # GitHub's retry, or "Redeliver": the same id, the same body.
    status, again = await hooks.post("api", body, delivery=delivery)
    assert (status, again["result"], again["object"]["name"]) == (200, "Redelivered", name)
    assert await hooks.created_by("api") == [name]

    async def counted() -> dict[str, Any] | None:
        st = await hooks.status("api")
        return st if st.get("accepted") == 2 else None

    st = await hooks.k.wait_for("the trigger's status", counted, timeout=20)
    assert st["lastDelivery"]["id"] == delivery
    assert st["lastDelivery"]["result"] == "Redelivered"
    assert {c["type"]: c["status"] for c in st["conditions"]} == {"Ready": "True"}


async def test_hostile_deliveries_are_refused_and_the_receiver_carries_on(
    hooks: Hooks, receiver: ReceiverProcess
) -> None:
    await hooks.trigger("api", jobTemplate=job_template())
    body = push()
    status, first = await hooks.post("api", body)
    assert status == 201, first
    deep = b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    big = b'{"a": "' + b"x" * (30 * 1024 * 1024) + b'"}'
    refused = [
        await hooks.post("api", push(), headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}),
        await hooks.post("api", push(), signed=False),
        await hooks.post("api", body),  # the same signed body, another delivery id: a replay
        await hooks.post("api", big),
        await hooks.post("api", deep),
    ]
    assert [(s, a["reason"]) for s, a in refused] == [
        (401, "Unauthorized"),
        (401, "Unauthorized"),
        (409, "Replayed"),
        (413, "TooLarge"),
        (400, "BadPayload"),
    ]
    status, unknown = await hooks.post("nobody", push())
    assert status == 404, unknown
    assert receiver.alive()
    status, later = await hooks.post("api", push())
    assert status == 201, later
    assert await hooks.created_by("api") == sorted(
        [first["object"]["name"], later["object"]["name"]]
    )

    async def counted() -> dict[str, Any] | None:
        st = await hooks.status("api")
        return st if st.get("refused") == 5 and st.get("accepted") == 2 else None

    await hooks.k.wait_for("the refusals counted", counted, timeout=20)


async def test_replace_revokes_the_older_run_of_the_same_branch(
    hooks: Hooks, operator: conftest.OperatorProcess
) -> None:
    await hooks.k.create(builders.worker("build").concurrency(5).obj())
    await hooks.trigger(
        "api", jobTemplate=job_template(run_time="60s"), concurrencyPolicy="Replace"
    )
    status, older = await hooks.post("api", push())
    assert status == 201, older
    status, other = await hooks.post("api", push(ref="refs/heads/feature/x"))
    assert status == 201, other
    await hooks.k.wait_state(older["object"]["name"], "RUNNING", timeout=60)
    status, newer = await hooks.post("api", push())
    assert status == 201, newer

    await hooks.k.wait_state(older["object"]["name"], "REVOKED", timeout=60)
    for name in (newer["object"]["name"], other["object"]["name"]):
        job = await hooks.k.pj(name)
        assert job["spec"].get("revoke") is not True, name


async def test_forbid_skips_a_push_while_the_branch_runs(
    hooks: Hooks, operator: conftest.OperatorProcess
) -> None:
    await hooks.k.create(builders.worker("build").concurrency(5).obj())
    await hooks.trigger("api", jobTemplate=job_template(run_time="60s"), concurrencyPolicy="Forbid")
    status, first = await hooks.post("api", push())
    assert status == 201, first
    status, second = await hooks.post("api", push())
    assert (status, second["result"], second["object"]["name"]) == (
        200,
        "Skipped",
        first["object"]["name"],
    )
    assert await hooks.created_by("api") == [first["object"]["name"]]


# The PipelineRun controller (branch pipelines-ctl) runs what a pipelineRunTemplate
# creates; until it is merged, the run's creation is asserted above and this waits.
PIPELINE_CONTROLLER = importlib.util.find_spec("conveyor.k8s.controllers.pipelineruns") is not None


@pytest.mark.skipif(not PIPELINE_CONTROLLER, reason="no PipelineRun controller in this tree yet")
async def test_a_pushed_pipeline_run_succeeds(
    hooks: Hooks, operator: conftest.OperatorProcess
) -> None:
    await hooks.k.create(builders.worker("build").concurrency(3).obj())
    run = {
        "params": {"revision": "{{ revision }}"},
        "steps": [
            {
                "name": "build",
                "job": {
                    "type": "custom",
                    "params": {
                        "image": "alpine:3.20",
                        "command": ["echo", "{{ params.revision }}"],
                    },
                },
            },
            {
                "name": "test",
                "dependsOn": ["build"],
                "job": {
                    "type": "custom",
                    "params": {"image": "alpine:3.20", "command": ["make", "test"]},
                },
            },
        ],
    }
    await hooks.trigger("ci", pipelineRunTemplate={"spec": run})
    status, answer = await hooks.post("ci", push())
    assert status == 201, answer

    async def succeeded() -> dict[str, Any] | None:
        body = await hooks.k.get(PR, answer["object"]["name"])
        return body if (body.get("status") or {}).get("state") == "SUCCESS" else None

    await hooks.k.wait_for("the run's SUCCESS", succeeded, timeout=120)


async def test_a_pipeline_run_template_creates_the_run_with_the_payload_as_params(
    hooks: Hooks,
) -> None:
    run = {
        "params": {"revision": "{{ revision }}", "repository": "{{ body.repository.clone_url }}"},
        "steps": [
            {
                "name": "build",
                "job": {
                    "type": "custom",
                    "params": {
                        "image": "alpine:3.20",
                        "command": ["echo", "{{ params.revision }}"],
                    },
                },
            }
        ],
    }
    await hooks.trigger("ci", pipelineRunTemplate={"spec": run})
    body = push()
    status, answer = await hooks.post("ci", body)
    assert (status, answer["object"]["kind"]) == (201, "PipelineRun"), answer
    created = await hooks.k.get(PR, answer["object"]["name"])
    expected = copy.deepcopy(run)
    expected["params"] = {
        "revision": json.loads(body)["after"],
        "repository": "https://github.com/octo-org/api.git",
    }
    # The steps stay the run's own templates (params.revision), for the pipeline controller.
    assert {k: created["spec"][k] for k in expected} == expected


async def test_200_deliveries_in_10_seconds_are_all_accounted_for(hooks: Hooks) -> None:
    await hooks.trigger(
        "load",
        jobTemplate=job_template(),
        filters={"branches": ["main"]},
    )
    # No Worker: the jobs wait IN-QUEUE; what is measured is the receiver.
    bodies = [push(ref="refs/heads/main" if i % 2 else "refs/heads/other") for i in range(200)]
    limit = asyncio.Semaphore(20)

    async def send(body: bytes) -> tuple[int, dict[str, Any], float]:
        async with limit:
            started = time.monotonic()
            status, answer = await hooks.post("load", body)
            return status, answer, time.monotonic() - started

    started = time.monotonic()
    answers = await asyncio.gather(*(send(b) for b in bodies))
    elapsed = time.monotonic() - started
    results = collections.Counter((s, a["result"]) for s, a, _ in answers)
    assert results == {(201, "Created"): 100, (200, "Filtered"): 100}
    created = [a["object"]["name"] for s, a, _ in answers if s == 201]
    assert len(set(created)) == 100
    assert await hooks.created_by("load") == sorted(created)
    assert max(t for _, _, t in answers) < 10  # each answered within GitHub's limit
    assert elapsed < 10, f"200 deliveries took {elapsed:.1f}s"

    async def counted() -> dict[str, Any] | None:
        st = await hooks.status("load")
        return st if (st.get("accepted"), st.get("filtered")) == (100, 100) else None

    await hooks.k.wait_for("every delivery counted once", counted, timeout=20)


async def test_the_cli_sends_a_signed_test_delivery_and_lists_the_trigger(
    hooks: Hooks, cluster: clusters.Cluster, receiver: ReceiverProcess, tmp_path: pathlib.Path
) -> None:
    await hooks.trigger("api", jobTemplate=job_template())
    payload = tmp_path / "push.json"
    payload.write_bytes(push())

    def conveyor(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "conveyor.cli.main",
                *args,
                "-n",
                hooks.k.namespace,
                "--kubeconfig",
                str(cluster.kubeconfig),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    sent = conveyor("trigger", "test", "api", "--payload", str(payload), "--url", receiver.url)
    assert sent.returncode == 0, sent.stderr
    assert '"result": "Created"' in sent.stdout
    delivery = sent.stdout.split()[1].rstrip(":")
    again = conveyor(
        "trigger",
        "test",
        "api",
        "--payload",
        str(payload),
        "--url",
        receiver.url,
        "--delivery",
        delivery,
    )
    assert '"result": "Redelivered"' in again.stdout, again.stdout

    async def listed() -> str | None:
        out = conveyor("triggers").stdout
        return out if " Redelivered" in out else None

    table = await hooks.k.wait_for("conveyor triggers", listed, timeout=20)
    header, line = table.splitlines()
    assert header.split() == [
        "NAME",
        "SOURCE",
        "CREATES",
        "POLICY",
        "ACCEPTED",
        "FILTERED",
        "REFUSED",
        "LAST",
        "RESULT",
    ]
    assert line.split()[:7] == ["api", "github", "PipelineJob", "Allow", "2", "0", "0"]


async def test_the_examples_apply_and_the_schema_refuses_bad_triggers(
    cluster: clusters.Cluster, crds: None, namespace: str
) -> None:
    example = clusters.ROOT / "manifests" / "examples" / "triggers.yaml"
    cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", str(example))
    base = {
        "source": "github",
        "secretRef": {"name": "s", "key": "k"},
        "jobTemplate": {"spec": {"type": "build"}},
    }
    refused = {
        "x" * 49: (base, "at most 48 characters"),
        "both": (
            {**base, "pipelineRunTemplate": {"spec": {"pipelineRef": {"name": "p"}}}},
            "exactly one of the two",
        ),
        "generic": ({**base, "generic": {"signatureHeader": "X-Sig"}}, "for source generic only"),
        "source": ({**base, "source": "bitbucket"}, "Unsupported value"),
        "jobtype": ({**base, "jobTemplate": {"spec": {"type": "nope"}}}, "Unsupported value"),
    }
    for name, (spec, message) in refused.items():
        body = {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineTrigger",
            "metadata": {"name": name},
            "spec": spec,
        }
        with pytest.raises(RuntimeError, match=message):
            cluster.kubectl(
                "apply", "--dry-run=server", "-n", namespace, "-f", "-", input=json.dumps(body)
            )


async def test_gitlab_tokens_and_generic_signatures(hooks: Hooks) -> None:
    lab_job = builders.pipelinejob("unused").params(
        {"image": "alpine:3.20", "command": ["git", "clone", "{{ body.project.git_http_url }}"]}
    )
    await hooks.trigger("lab", source="gitlab", jobTemplate={"spec": lab_job.obj()["spec"]})
    await hooks.trigger("any", source="generic", jobTemplate=job_template())
    lab = (DATA / "gitlab-push.json").read_bytes()
    lab_headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": str(uuid.uuid4())}
    status, answer = await hooks.post(
        "lab", lab, signed=False, headers={**lab_headers, "X-Gitlab-Token": SECRET.decode()}
    )
    assert (status, answer["result"]) == (201, "Created"), answer
    status, wrong = await hooks.post(
        "lab", lab, signed=False, headers={**lab_headers, "X-Gitlab-Token": "guess"}
    )
    assert (status, wrong["reason"]) == (401, "Unauthorized")

    body = json.dumps(
        {"ref": "refs/heads/main", "after": "abc123", "repository": {"clone_url": "x"}}
    )
    signed = signatures.sign(source=signatures.Source.GENERIC, secret=SECRET, body=body.encode())
    status, first = await hooks.post("any", body.encode(), signed=False, headers=signed)
    assert status == 201, first
    # No delivery id: the body's hash is one, so the same body again is a redelivery.
    status, again = await hooks.post("any", body.encode(), signed=False, headers=signed)
    assert (status, again["object"]["name"]) == (200, first["object"]["name"])
