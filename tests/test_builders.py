"""The shared test builders: `.obj()` is the manifest a user applies (e2e and
bench create it), `.served()` the object as the API returns it, `.model()` the
operator's parse of it."""

from __future__ import annotations

from conveyor.core import model
from tests import builders as b


def test_a_manifest_holds_only_what_was_set() -> None:
    body = b.pipelinejob("a", "ns").type("custom").priority(3).sim(run_time="5s").obj()
    assert body == {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineJob",
        "metadata": {"name": "a", "namespace": "ns"},
        "spec": {
            "type": "custom",
            "priority": 3,
            "params": b.CUSTOM_PARAMS,
            "podTemplate": {"metadata": {"annotations": {b.SIM_RUN_TIME: "5s"}}},
        },
    }


def test_served_fills_in_the_defaults_and_the_status() -> None:
    body = b.pipelinejob("a").state("IN-QUEUE").attempt(1).assigned("build").served()
    assert body["metadata"]["namespace"] == b.NAMESPACE
    assert body["spec"]["retry"] == {"limit": 0, "backoff": {}}
    assert body["status"]["job"] == "a-1"
    assert body["status"]["worker"] == "build"


def test_none_leaves_a_field_unset() -> None:
    job = b.pipelinejob("a").state("IN-QUEUE").assigned("build").assigned(None).timeout(None)
    body = job.served()
    assert "worker" not in body["status"]
    assert "timeout" not in body["spec"]


def test_model_parses_what_was_served() -> None:
    job = b.pipelinejob("a").type("delay").params({"duration": "1s"}).state("RUNNING").model()
    assert job.spec is not None
    assert (job.spec.type, job.status.state) == (model.JobType.DELAY, model.State.RUNNING)


def test_a_worker_manifest_and_model() -> None:
    assert b.worker("w").concurrency(3).template({"spec": {}}).obj() == {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "Worker",
        "metadata": {"name": "w"},
        "spec": {"type": "build", "concurrency": 3, "template": {"spec": {}}},
    }
    worker = b.worker("w").paused().model()
    assert worker.spec is not None
    assert worker.spec.paused
