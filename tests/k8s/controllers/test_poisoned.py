"""Poisoned bodies: weird types in unexpected places reach every controller
through its watch feed. Each ends as that object's InvalidSpec (or is left
alone), never an exception out of a feed or a round, and the rest of the
namespace goes on."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import pytest

from conveyor.core import names
from tests import builders as b
from tests.k8s import fakes

Poison = Callable[[dict[str, Any]], None]


def setting(*path: str, value: Any) -> Poison:
    def poison(body: dict[str, Any]) -> None:
        node = body
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = value

    poison.__name__ = ".".join(path) + "=" + repr(value)[:20]
    return poison


POISONS = [
    setting("status", "attempts", value="many"),
    setting("status", value="a string"),
    setting("status", value=[1, 2]),
    setting("status", "state", value={"x": 1}),
    setting("status", "conditions", value="none"),
    setting("status", "attempt", value=-(10**30)),
    setting("metadata", "labels", value=["a", "b"]),
    setting("metadata", "annotations", value=7),
    setting("metadata", "generation", value="one"),
    setting("metadata", "creationTimestamp", value="not a time"),
    setting("spec", value=["a list"]),
    setting("spec", "params", value="a string"),
    setting("spec", "worker", value={"deep": []}),
    setting("spec", "podTemplate", value=[{}]),
    setting("spec", "retry", value="forever"),
    setting("spec", "startAt", value=10**20),
    setting("spec", "type", value=None),
]


def served_pipelinejob(name: str) -> dict[str, Any]:
    body = b.pipelinejob(name).type("build").spec({"worker": "build"}).served()
    body.pop("status", None)
    return body


async def ends_well(h: fakes.Harness, caplog: pytest.LogCaptureFixture) -> None:
    """The namespace goes on: a healthy job beside the poisoned one starts."""
    h.pipelinejob("fine")
    await h.settle()
    assert (fakes.NS, "fine-1") in h.api.objects["jobs"]
    assert not [r for r in caplog.records if "round failed" in r.getMessage()]


@pytest.mark.parametrize("poison", POISONS, ids=lambda p: p.__name__)
async def test_a_poisoned_pipelinejob_harms_only_itself(
    poison: Poison, caplog: pytest.LogCaptureFixture
) -> None:
    h = fakes.Harness()
    h.worker("build", concurrency=5)
    body = served_pipelinejob("bad")
    poison(body)
    h.api.put("pipelinejobs", body)
    await h.start()
    await ends_well(h, caplog)
    decided = h.ctl.store.pipelinejobs[(fakes.NS, "bad")].status
    assert decided.state is not None, "the poisoned job is decided, not skipped"
    if decided.reason == "InvalidSpec":
        assert (decided.message or "").startswith(("spec", "metadata")), decided.message


@pytest.mark.parametrize("poison", POISONS, ids=lambda p: p.__name__)
async def test_a_poisoned_worker_harms_only_itself(
    poison: Poison, caplog: pytest.LogCaptureFixture
) -> None:
    h = fakes.Harness()
    h.worker("build", concurrency=5)
    body = b.worker("other").served()
    poison(body)
    h.api.put("workers", body)
    h.pipelinejob("for-other", spec_worker="other")
    await h.start()
    await ends_well(h, caplog)


@pytest.mark.parametrize("poison", POISONS, ids=lambda p: p.__name__)
async def test_a_poisoned_cronjob_harms_only_itself(
    poison: Poison, caplog: pytest.LogCaptureFixture
) -> None:
    h = fakes.Harness()
    h.worker("build", concurrency=5)
    body: dict[str, Any] = {
        "apiVersion": names.GROUP_VERSION,
        "kind": "PipelineCronJob",
        "metadata": {"name": "nightly", "namespace": fakes.NS, "generation": 1},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"type": "custom"}}},
    }
    poison(body)
    h.api.put("pipelinecronjobs", body)
    await h.start()
    await h.tick(61)
    await ends_well(h, caplog)


@pytest.mark.parametrize("poison", POISONS, ids=lambda p: p.__name__)
async def test_poisoned_jobs_and_pods_of_ours_harm_no_one(
    poison: Poison, caplog: pytest.LogCaptureFixture
) -> None:
    h = fakes.Harness()
    h.worker("build", concurrency=5)
    h.pipelinejob("j")
    await h.start()
    job = copy.deepcopy(h.api.objects["jobs"][(fakes.NS, "j-1")])
    poison(job)
    h.api.put("jobs", job)
    pod = b.pod_pending("j-1")
    pod["metadata"]["labels"][names.LABEL_PIPELINEJOB] = "j"
    poison(pod)
    h.api.put("pods", pod)
    with caplog.at_level(logging.ERROR):
        await h.settle()
    await ends_well(h, caplog)
