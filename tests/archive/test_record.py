"""What a record keeps of a finished object, and what it never keeps."""

from __future__ import annotations

import datetime
import json

import pytest

from conveyor.archive import record
from tests.archive import builders


def test_a_finished_job_is_recorded_with_its_times_and_outcome() -> None:
    body = builders.job(
        name="api-deploy-7",
        type_="deploy",
        state="FAILED",
        labels={"conveyor.dev/pipelinerun": "api-ci-7", "team": "a"},
        outputs={"digest": "sha256:abc"},
    )
    r = record.from_body(kind=record.PIPELINEJOB, body=body)
    assert r is not None
    assert (r.kind, r.namespace, r.name, r.type, r.state) == (
        "PipelineJob", "team-a", "api-deploy-7", "deploy", "FAILED"
    )  # fmt: skip
    assert r.finished_at == builders.T0
    assert r.duration == 120.0
    assert r.attempts == 1
    assert r.pipelinerun == "api-ci-7"
    assert r.labels == {"conveyor.dev/pipelinerun": "api-ci-7", "team": "a"}
    assert r.summary["status"]["outputs"] == {"digest": "sha256:abc"}
    assert "conditions" not in r.summary["status"]


@pytest.mark.parametrize("state", ["IN-QUEUE", "RUNNING", None])
def test_an_unfinished_job_is_not_recorded(state: str | None) -> None:
    body = builders.job(state=state or "RUNNING")
    if state is None:
        body["status"] = {}
    assert record.from_body(kind=record.PIPELINEJOB, body=body) is None


def test_a_revoked_job_that_never_started_ends_when_it_was_made() -> None:
    body = builders.job(state="REVOKED")
    del body["status"]["finishedAt"], body["status"]["startedAt"]
    r = record.from_body(kind=record.PIPELINEJOB, body=body)
    assert r is not None
    assert r.finished_at == r.created_at
    assert r.duration == 0.0


def test_no_secret_values_annotations_or_env_values_are_kept() -> None:
    body = builders.job(
        type_="custom",
        params={
            "image": "busybox",
            "env": [{"name": "TOKEN", "value": "s3cr3t-env"}],
            "apiToken": "s3cr3t-param",
            "password": "s3cr3t-password",
            "credentialsSecret": "vault-creds",  # a reference by name: kept
            "pushSecret": {"name": "regcred", "key": ".dockerconfigjson"},
        },
        spec={
            "podTemplate": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {
                    "containers": [{"name": "main", "env": [{"name": "DB", "value": "s3cr3t-pod"}]}]
                },
            }
        },
    )
    r = record.from_body(kind=record.PIPELINEJOB, body=body)
    assert r is not None
    text = json.dumps(r.summary) + json.dumps(dict(r.labels))
    assert "s3cr3t" not in text
    assert "last-applied" not in text
    params = r.summary["spec"]["params"]
    assert params["env"] == [{"name": "TOKEN"}]
    assert params["apiToken"] == record.REDACTED
    assert params["credentialsSecret"] == "vault-creds"
    assert params["pushSecret"] == {"name": "regcred", "key": ".dockerconfigjson"}
    container = r.summary["spec"]["podTemplate"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "DB"}]


def test_a_run_keeps_its_steps_shape_and_compact_status() -> None:
    r = record.from_body(kind=record.PIPELINERUN, body=builders.run(params={"revision": "3f2a"}))
    assert r is not None
    assert (r.kind, r.type, r.state) == ("PipelineRun", "", "SUCCESS")
    assert r.summary["spec"]["steps"] == [{"name": "build", "type": "build", "dependsOn": []}]
    assert r.summary["spec"]["params"] == {"revision": "3f2a"}
    assert r.summary["status"]["steps"] == [{"name": "build", "state": "SUCCESS"}]
    assert r.duration == datetime.timedelta(minutes=9).total_seconds()


def test_other_kinds_and_broken_bodies_are_not_recorded() -> None:
    assert record.from_body(kind="Worker", body=builders.job()) is None
    assert record.from_body(kind=record.PIPELINEJOB, body={"status": {"state": "SUCCESS"}}) is None
