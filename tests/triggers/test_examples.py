"""manifests/examples/triggers.yaml: valid triggers that do what its header says
on the sample payloads, starting Pipelines of the same file with every param."""

from __future__ import annotations

import datetime
import pathlib
from typing import Any

import pytest
import yaml

from conveyor.core import model
from conveyor.core.pipeline import spec as pipeline_spec
from conveyor.triggers import deliveries, filters, objects, spec
from tests.triggers import samples

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "manifests" / "examples" / "triggers.yaml"
DOCS = list(yaml.safe_load_all(EXAMPLE.read_text()))
TRIGGERS = {d["metadata"]["name"]: d for d in DOCS if d["kind"] == "PipelineTrigger"}
PIPELINES = {d["metadata"]["name"]: d for d in DOCS if d["kind"] == "Pipeline"}
AT = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def test_every_object_is_valid() -> None:
    assert sorted(TRIGGERS) == ["api-pr", "api-push", "api-release", "docs-gitlab"]
    for name, body in TRIGGERS.items():
        assert isinstance(spec.parse(body), spec.TriggerSpec), name
    for name, body in PIPELINES.items():
        assert isinstance(pipeline_spec.parse_pipeline(body), pipeline_spec.PipelineSpec), name


def deliver(trigger: str, sample: str) -> tuple[filters.Verdict, dict[str, Any] | model.SpecError]:
    body = {**TRIGGERS[trigger], "metadata": {"name": trigger, "namespace": "team-a", "uid": "u"}}
    meta, parsed = model.Meta.from_body(body), spec.parse(body)
    assert isinstance(parsed, spec.TriggerSpec)
    delivery = samples.delivery(sample)
    headers = deliveries.Headers(samples.SAMPLES[sample][1])
    context = objects.context(
        trigger=meta, delivery=delivery, body=samples.body(sample), headers=headers
    )
    verdict = filters.check(filters=parsed.filters, delivery=delivery, context=context)
    made = objects.manifest(
        trigger=meta, trigger_spec=parsed, delivery=delivery, context=context, received_at=AT
    )
    return verdict, made


@pytest.mark.parametrize(
    ("trigger", "sample", "reason"),
    [
        ("api-push", "github-push", ""),
        ("api-push", "github-tag", "RefFiltered"),
        ("api-push", "github-pull-request", "EventFiltered"),
        ("api-push", "github-branch-deleted", "RefDeleted"),
        ("api-pr", "github-pull-request", ""),
        ("api-pr", "github-push", "EventFiltered"),
        ("api-release", "github-tag", ""),
        ("api-release", "github-push", "RefFiltered"),
        ("docs-gitlab", "gitlab-push", "PathsFiltered"),  # it changed no docs/
        ("docs-gitlab", "gitlab-merge-request", "EventFiltered"),
    ],
)
def test_what_each_trigger_starts(trigger: str, sample: str, reason: str) -> None:
    verdict, made = deliver(trigger, sample)
    assert (verdict.accepted, verdict.reason) == (not reason, reason), verdict.message
    if verdict.accepted:  # filtered deliveries are never rendered
        assert not isinstance(made, model.SpecError), made


@pytest.mark.parametrize(
    ("trigger", "sample", "params"),
    [
        (
            "api-push",
            "github-push",
            {
                "revision": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                "repository": "https://github.com/octo-org/api.git",
            },
        ),
        (
            "api-pr",
            "github-pull-request",
            {
                "revision": "c4f3e8b2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6",
                "repository": "https://github.com/octo-org/api.git",
            },
        ),
        (
            "api-release",
            "github-tag",
            {
                "revision": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                "repository": "https://github.com/octo-org/api.git",
                "version": "v1.4.0",
            },
        ),
    ],
)
def test_runs_give_their_pipeline_every_param(
    trigger: str, sample: str, params: dict[str, str]
) -> None:
    _, made = deliver(trigger, sample)
    assert isinstance(made, dict)
    assert made["spec"]["params"] == params
    pipeline = PIPELINES[made["spec"]["pipelineRef"]["name"]]
    assert {p["name"] for p in pipeline["spec"]["params"]} == set(params)


def test_the_gitlab_job_gets_the_payload() -> None:
    sample = samples.body("gitlab-push")
    docs = {
        **sample,
        "commits": [{"added": ["docs/index.md"], "modified": [], "removed": []}],
        "total_commits_count": 1,
    }
    body = {**TRIGGERS["docs-gitlab"], "metadata": {"name": "docs-gitlab", "namespace": "ns"}}
    meta, parsed = model.Meta.from_body(body), spec.parse(body)
    assert isinstance(parsed, spec.TriggerSpec)
    delivery = deliveries.read(
        source=parsed.source, headers=deliveries.Headers({}), body=docs, raw=b"x"
    )
    context = objects.context(
        trigger=meta, delivery=delivery, body=docs, headers=deliveries.Headers({})
    )
    assert filters.check(filters=parsed.filters, delivery=delivery, context=context).accepted
    job = objects.manifest(
        trigger=meta, trigger_spec=parsed, delivery=delivery, context=context, received_at=AT
    )
    assert isinstance(job, dict)
    assert job["spec"]["params"]["env"] == [
        {"name": "REPOSITORY", "value": "http://example.com/mike/diaspora.git"},
        {"name": "REVISION", "value": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"},
        {"name": "PUSHED_BY", "value": "jsmith"},
    ]
