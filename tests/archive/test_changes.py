"""Which service, environment, revision and commit time a deploy has."""

from __future__ import annotations

import datetime

from conveyor.archive import changes, record
from conveyor.core import insights
from tests.archive import builders

T0 = builders.T0


def records(*bodies: dict[str, object]) -> list[record.Record]:
    out = []
    for body in bodies:
        kind = str(body["kind"])
        r = record.from_body(kind=kind, body=body)
        assert r is not None
        out.append(r)
    return out


def test_labels_name_the_service_environment_revision_and_commit_time() -> None:
    committed = T0 - datetime.timedelta(hours=3)
    labels = {
        changes.SERVICE: "api",
        changes.ENVIRONMENT: "prod",
        changes.REVISION: "3f2a9c1",
        changes.COMMIT_TIME: str(int(committed.timestamp())),
    }
    [change] = changes.changes(records(builders.job(type_="deploy", labels=labels)))
    assert change == insights.Change(
        service="api",
        environment="prod",
        kind=insights.Kind.DEPLOY,
        finished_at=T0,
        succeeded=True,
        revision="3f2a9c1",
        committed_at=committed,
    )


def test_params_stand_in_for_missing_labels() -> None:
    params = {
        "release": "api",
        "targetNamespace": "staging",
        "chart": {"name": "api", "version": "1.2.0"},
    }
    [change] = changes.changes(records(builders.job(type_="deploy", params=params, state="FAILED")))
    assert (change.service, change.environment, change.revision) == ("api", "staging", "1.2.0")
    assert not change.succeeded


def test_nothing_named_falls_back_to_the_namespace() -> None:
    [change] = changes.changes(records(builders.job(type_="promote", namespace="team-z")))
    assert (change.service, change.environment, change.revision) == ("-", "team-z", None)


def test_a_pipeline_runs_labels_params_and_builds_fill_in() -> None:
    committed = "2025-12-31T20:00:00Z"
    run = builders.run(
        name="api-ci-9",
        labels={changes.SERVICE: "api", changes.ENVIRONMENT: "prod"},
        params={"revision": "abc123"},
    )
    child = {"conveyor.dev/pipelinerun": "api-ci-9"}
    build = builders.job(name="b", type_="build", labels=child, outputs={"commitTime": committed})
    deploy = builders.job(name="d", type_="deploy", labels=child)
    canary = builders.job(name="c", type_="canary-analysis", labels=child, state="FAILED")
    found = changes.changes(records(run, build, deploy, canary))
    by_kind = {c.kind: c for c in found}
    d = by_kind[insights.Kind.DEPLOY]
    assert (d.service, d.environment, d.revision) == ("api", "prod", "abc123")
    assert d.committed_at == datetime.datetime(2025, 12, 31, 20, tzinfo=datetime.UTC)
    assert by_kind[insights.Kind.CANARY].succeeded is False


def test_builds_revoked_and_other_jobs_are_not_changes() -> None:
    found = changes.changes(
        records(
            builders.job(type_="build"),
            builders.job(type_="deploy", state="REVOKED"),
            builders.job(type_="ticket"),
        )
    )
    assert found == []
