"""The receiver on a fake cluster: every answer, what it creates, revokes and counts."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import pytest

from conveyor.k8s import api
from conveyor.triggers import objects, signatures
from conveyor.webhooks import receiver, tallies
from tests.triggers import samples

NS = "team-a"
T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
JOB = {"spec": {"type": "custom", "params": {"image": "a", "command": ["{{ revision }}"]}}}


class FakeCluster:
    """The receiver's API calls on dicts; `conflicts` status writes fail with 409 first."""

    def __init__(self) -> None:
        self.triggers: dict[str, dict[str, Any]] = {}
        self.secrets: dict[tuple[str, str], bytes] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.revoked: list[str] = []
        self.conflicts = 0

    async def trigger(self, *, namespace: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.triggers.get(name))

    async def secret_value(self, *, namespace: str, name: str, key: str) -> bytes | None:
        return self.secrets.get((name, key))

    async def runs(self, *, kind: str, namespace: str, labels: dict[str, str]) -> list[Any]:
        return [
            copy.deepcopy(o)
            for o in self.objects.values()
            if labels.items() <= o["metadata"]["labels"].items()
        ]

    async def create(self, *, manifest: dict[str, Any]) -> dict[str, Any] | None:
        name = manifest["metadata"]["name"]
        if name in self.objects:
            return None
        self.objects[name] = copy.deepcopy(manifest)
        return manifest

    async def get(self, *, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.objects[name])

    async def revoke(self, *, kind: str, namespace: str, name: str) -> None:
        self.revoked.append(name)
        self.objects[name]["spec"]["revoke"] = True

    async def patch_status(
        self, *, namespace: str, name: str, resource_version: str, status: dict[str, Any]
    ) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise api.ApiError(status=409, reason="Conflict", message="changed")
        self.triggers[name]["status"] = status


@pytest.fixture
def fake() -> FakeCluster:
    fake = FakeCluster()
    fake.secrets[("hook", "secret")] = samples.SECRET
    add_trigger(fake, "api", jobTemplate=JOB)
    return fake


def add_trigger(fake: FakeCluster, name: str, **spec: Any) -> None:
    spec = {"source": "github", "secretRef": {"name": "hook", "key": "secret"}, **spec}
    fake.triggers[name] = {
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "generation": 1},
        "spec": spec,
    }


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        self.now += datetime.timedelta(milliseconds=1)
        return self.now


def make(fake: FakeCluster) -> tuple[receiver.Receiver, tallies.Tallies]:
    clock = Clock()
    counts = tallies.Tallies(cluster=fake, clock=clock)  # type: ignore[arg-type]
    return receiver.Receiver(
        cluster=fake, tallies=counts, clock=clock, max_body=1024 * 1024
    ), counts  # type: ignore[arg-type]


def request(
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    signed: bool = True,
    length: int | None = None,
) -> receiver.Request:
    sent = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1"}
    if signed:
        sent |= signatures.sign(source=signatures.Source.GITHUB, secret=samples.SECRET, body=body)
    sent |= headers or {}

    async def read() -> bytes:
        return body

    return receiver.Request(
        headers=sent, content_type="application/json", content_length=length, read=read
    )


def push(*, after: str, ref: str = "refs/heads/main") -> bytes:
    return json.dumps(samples.body("github-push") | {"after": after, "ref": ref}).encode()


async def deliver(rc: receiver.Receiver, req: receiver.Request, trigger: str = "api") -> Any:
    return await rc.deliver(namespace=NS, name=trigger, request=req)


async def test_created_once_per_delivery_and_counted(fake: FakeCluster) -> None:
    rc, counts = make(fake)
    body = push(after="a" * 40)
    first = await deliver(rc, request(body))
    again = await deliver(rc, request(body))
    assert (first.status, first.result) == (201, "Created")
    assert (again.status, again.result, again.object) == (200, "Redelivered", first.object)
    assert list(fake.objects) == [first.object]
    assert fake.objects[first.object]["spec"]["params"]["command"] == ["a" * 40]
    await counts.flush()
    status = fake.triggers["api"]["status"]
    assert (status["accepted"], status["refused"], status["lastDelivery"]["result"]) == (
        2,
        0,
        "Redelivered",
    )


@pytest.mark.parametrize(
    ("req", "status", "reason"),
    [
        (request(push(after="b" * 40), signed=False), 401, "Unauthorized"),
        (
            request(push(after="b" * 40), headers={"X-Hub-Signature-256": "sha256=00"}),
            401,
            "Unauthorized",
        ),
        (request(push(after="b" * 40), length=2 * 1024 * 1024), 413, "TooLarge"),
        (request(b'{"a":' + b"[" * 1000 + b"]" * 1000 + b"}"), 400, "BadPayload"),
        (request(b"[]"), 400, "BadPayload"),
        (request(push(after="b" * 40), headers={"X-GitHub-Event": "ping"}), 200, "EventFiltered"),
    ],
)
async def test_refused_and_filtered(
    fake: FakeCluster, req: receiver.Request, status: int, reason: str
) -> None:
    rc, _ = make(fake)
    answer = await deliver(rc, req)
    assert (answer.status, answer.reason) == (status, reason), answer.message
    assert fake.objects == {}


async def test_a_replayed_body_under_another_delivery_id_is_refused(fake: FakeCluster) -> None:
    rc, _ = make(fake)
    body = push(after="c" * 40)
    assert (await deliver(rc, request(body))).status == 201
    replay = await deliver(rc, request(body, headers={"X-GitHub-Delivery": "d-2"}))
    assert (replay.status, replay.reason) == (409, "Replayed")
    assert len(fake.objects) == 1


async def test_unknown_trigger_missing_secret_and_invalid_spec(fake: FakeCluster) -> None:
    rc, counts = make(fake)
    add_trigger(fake, "nosecret", jobTemplate=JOB, secretRef={"name": "gone", "key": "k"})
    add_trigger(fake, "invalid", jobTemplate=JOB, filters={"when": "body.(("})
    add_trigger(fake, "badjob", jobTemplate={"spec": {"type": "nope"}})
    body = push(after="d" * 40)
    assert (await deliver(rc, request(body), "nobody")).status == 404
    missing = await deliver(rc, request(body), "nosecret")
    assert (missing.status, missing.reason) == (503, "SecretNotFound")
    invalid = await deliver(rc, request(body), "invalid")
    assert (invalid.status, invalid.reason) == (422, "InvalidSpec")
    badjob = await deliver(rc, request(body), "badjob")  # judged once rendered
    assert (badjob.status, badjob.reason) == (422, "TemplateFailed")
    assert "spec.jobTemplate.spec.type" in badjob.message
    await counts.flush()
    ready = fake.triggers["nosecret"]["status"]["conditions"][0]
    assert (ready["status"], ready["reason"]) == ("False", "SecretNotFound")
    assert "nobody" not in fake.triggers


async def test_replace_revokes_the_earlier_run_of_the_branch_only(fake: FakeCluster) -> None:
    add_trigger(fake, "rep", jobTemplate=JOB, concurrencyPolicy="Replace")
    rc, _ = make(fake)
    old = await deliver(
        rc, request(push(after="1" * 40), headers={"X-GitHub-Delivery": "1"}), "rep"
    )
    dev = await deliver(
        rc,
        request(push(after="2" * 40, ref="refs/heads/dev"), headers={"X-GitHub-Delivery": "2"}),
        "rep",
    )
    new = await deliver(
        rc, request(push(after="3" * 40), headers={"X-GitHub-Delivery": "3"}), "rep"
    )
    assert [a.status for a in (old, dev, new)] == [201, 201, 201]
    assert fake.revoked == [old.object]
    # The old delivery again: it exists, and revokes nothing newer.
    again = await deliver(
        rc, request(push(after="1" * 40), headers={"X-GitHub-Delivery": "1"}), "rep"
    )
    assert (again.result, fake.revoked) == ("Redelivered", [old.object])


async def test_forbid_skips_while_the_branch_has_an_unfinished_run(fake: FakeCluster) -> None:
    add_trigger(fake, "fb", jobTemplate=JOB, concurrencyPolicy="Forbid")
    rc, _ = make(fake)
    first = await deliver(
        rc, request(push(after="1" * 40), headers={"X-GitHub-Delivery": "1"}), "fb"
    )
    second = await deliver(
        rc, request(push(after="2" * 40), headers={"X-GitHub-Delivery": "2"}), "fb"
    )
    assert (second.status, second.result, second.object) == (200, "Skipped", first.object)
    fake.objects[first.object]["status"] = {"state": "SUCCESS"}
    third = await deliver(
        rc, request(push(after="3" * 40), headers={"X-GitHub-Delivery": "3"}), "fb"
    )
    assert third.status == 201


async def test_status_counts_survive_a_write_conflict(fake: FakeCluster) -> None:
    rc, counts = make(fake)
    await deliver(rc, request(push(after="e" * 40)))
    fake.conflicts = 1
    await counts.flush()
    assert "status" not in fake.triggers["api"]
    await counts.flush()
    assert fake.triggers["api"]["status"]["accepted"] == 1


async def test_labels_let_the_receiver_find_its_own_runs(fake: FakeCluster) -> None:
    rc, _ = make(fake)
    answer = await deliver(rc, request(push(after="f" * 40)))
    labels = fake.objects[answer.object]["metadata"]["labels"]
    assert labels[objects.TRIGGER_LABEL] == "api"
    assert labels[objects.BRANCH_LABEL] == "main"


async def test_a_failure_of_its_own_costs_one_delivery_not_the_receiver(fake: FakeCluster) -> None:
    rc, counts = make(fake)

    async def broken(**_: object) -> None:
        raise KeyError("a bug")

    fake.runs = broken  # type: ignore[assignment,method-assign]
    answer = await deliver(rc, request(push(after="9" * 40)))
    assert (answer.status, answer.reason) == (500, "InternalError")
    await counts.flush()
    assert fake.triggers["api"]["status"]["refused"] == 1
