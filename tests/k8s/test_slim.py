"""slim: the store keeps the fields the operator reads, not whole bodies.
Whatever is dropped, the core must see the same objects: a PipelineJob
parses to the same model, a Job and its pods summarize to the same
observation."""

from __future__ import annotations

import copy
from typing import Any

from conveyor.core import cron, model, observe
from conveyor.k8s import slim, store
from tests import builders as b

MANAGED = [{"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {}}}]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def rich_pipelinejob() -> dict[str, Any]:
    """A PipelineJob with every field the core reads set, and the usual extras."""
    body = (
        b.pipelinejob("j")
        .type("custom")
        .worker("build")
        .priority(7)
        .retry_limit(2)
        .backoff({"delay": "1s", "factor": 3, "maxDelay": "1m"})
        .timeout("10m")
        .start_at(b.at(60))
        .ttl("1h")
        .labels({cron.CRONJOB_LABEL: "nightly", "team": "a"})
        .annotations({cron.SCHEDULED_AT_ANNOTATION: b.ts(b.T0), LAST_APPLIED: "{...}"})
        .sim(run_time="5s")
        .state("RUNNING")
        .reason("Running")
        .message("running on build")
        .assigned("build")
        .attempt(2)
        .attempts([b.attempt_entry(1, result="FAILED", exit_code=3, finish=b.at(5))])
        .queued_at(b.T0)
        .started_at(b.at(10))
        .outputs({"digest": "sha256:1"})
        .served()
    )
    md = body["metadata"]
    md.update(
        managedFields=MANAGED,
        finalizers=["example.com/keep"],
        ownerReferences=[{"kind": "PipelineCronJob", "name": "nightly", "uid": "u"}],
        deletionTimestamp=b.ts(b.at(99)),
        generation=3,
    )
    body["status"]["observedGeneration"] = 3
    body["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    return body


def test_a_pipelinejob_keeps_metadata_spec_and_status_and_drops_the_rest() -> None:
    body = rich_pipelinejob()
    kept = slim.pipelinejob(slim.lean(copy.deepcopy(body)))
    assert set(kept) == {"metadata", "spec", "status"}
    assert kept["spec"] == body["spec"]  # the Job renderer reads it whole
    assert kept["status"] == body["status"]  # a status patch is made against it
    md = kept["metadata"]
    assert set(md) == set(slim.METADATA) | {"annotations"}
    assert md["annotations"] == {cron.SCHEDULED_AT_ANNOTATION: b.ts(b.T0)}  # ours only


def test_the_core_reads_the_same_pipelinejob_from_the_slim_body() -> None:
    body = rich_pipelinejob()
    kept = slim.pipelinejob(slim.lean(copy.deepcopy(body)))
    assert model.parse_pipelinejob(kept) == model.parse_pipelinejob(body)
    assert cron.parse_child(kept) == cron.parse_child(body)


def test_a_job_and_its_pods_keep_metadata_and_status_only() -> None:
    job = b.batch_job("j-1", conditions=b.complete())
    job["spec"] = {"template": {"spec": {"containers": [{"name": "main", "image": "x"}]}}}
    job["metadata"]["ownerReferences"] = [{"kind": "PipelineJob", "uid": "u"}]
    pod = b.pod_terminated("j-1", exit_code=3, message="boom")
    pod["spec"] = {"containers": [{"name": "main", "image": "x", "env": [{"name": "A"}]}]}
    slim_job, slim_pod = slim.owned(slim.lean(job)), slim.owned(slim.lean(pod))
    assert set(slim_job) == set(slim_pod) == {"metadata", "status"}
    assert slim_job["metadata"]["ownerReferences"] == job["metadata"]["ownerReferences"]
    assert observe.summarize(job=slim_job, pods=[slim_pod]) == observe.summarize(
        job=job, pods=[pod]
    )


def test_bodies_read_from_the_store_are_fresh_copies() -> None:
    s = store.Store()
    s.put_pipelinejob(rich_pipelinejob())
    key = (b.NAMESPACE, "j")
    s.pipelinejob_bodies[key]["spec"]["priority"] = 99
    assert s.pipelinejob_bodies[key]["spec"]["priority"] == 7
    assert "managedFields" not in s.pipelinejob_bodies[key]["metadata"]
    assert list(s.pipelinejob_bodies) == [key]
    assert len(s.pipelinejob_bodies) == 1


def test_a_status_change_reuses_the_parsed_spec_and_a_spec_change_parses_again() -> None:
    s = store.Store()
    key = (b.NAMESPACE, "j")
    body = rich_pipelinejob()
    s.put_pipelinejob(body)
    spec = s.pipelinejobs[key].spec
    body["metadata"]["resourceVersion"] = "2"
    body["status"] = {**body["status"], "state": "SUCCESS", "reason": "Succeeded"}
    s.put_pipelinejob(copy.deepcopy(body))
    assert s.pipelinejobs[key].spec is spec
    assert s.pipelinejobs[key].status.state is model.State.SUCCESS
    assert s.pipelinejobs[key] == model.parse_pipelinejob(body)
    body["metadata"]["resourceVersion"] = "3"
    body["spec"]["priority"] = 1
    s.put_pipelinejob(copy.deepcopy(body))
    assert s.pipelinejobs[key].spec is not spec
    assert s.pipelinejobs[key] == model.parse_pipelinejob(body)


def test_text_that_is_not_utf_8_safe_is_kept() -> None:
    """A lone surrogate is valid JSON text (an escape) but not UTF-8."""
    value = {"message": "\ud800 half a pair", "name": "caf\u00e9"}
    assert slim.decode(slim.encode(value)) == value
