"""What a delivery creates: its name (the same for every redelivery), labels, spec."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from conveyor.core import model
from conveyor.triggers import deliveries, objects, spec
from tests.triggers import samples

TRIGGER = model.Meta.from_body(
    {"metadata": {"name": "api", "namespace": "team-a", "uid": "u-1", "generation": 1}}
)
AT = datetime.datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)
JOB = {
    "metadata": {"labels": {"app": "{{ body.repository.name }}"}},
    "spec": {
        "type": "build",
        "params": {
            "repository": "{{ body.repository.clone_url }}",
            "revision": "{{ revision }}",
            "image": "registry.example/api:{{ body.after[:7] }}",
        },
    },
}


def make(sample: str, *, template: dict[str, Any] | None = None, run: bool = False) -> Any:
    key = "pipelineRunTemplate" if run else "jobTemplate"
    trigger_spec = spec.TriggerSpec.model_validate(
        {
            "source": samples.SAMPLES[sample][0],
            "secretRef": {"name": "s", "key": "k"},
            key: template or JOB,
        }
    )
    delivery = samples.delivery(sample)
    headers = deliveries.Headers(samples.SAMPLES[sample][1])
    context = objects.context(
        trigger=TRIGGER, delivery=delivery, body=samples.body(sample), headers=headers
    )
    return objects.manifest(
        trigger=TRIGGER,
        trigger_spec=trigger_spec,
        delivery=delivery,
        context=context,
        received_at=AT,
    )


def test_a_push_makes_a_pipelinejob_from_the_payload() -> None:
    job = make("github-push")
    assert job["kind"] == "PipelineJob"
    assert job["metadata"]["name"] == objects.name(
        trigger="api", delivery=samples.delivery("github-push")
    )
    assert job["spec"]["params"] == {
        "repository": "https://github.com/octo-org/api.git",
        "revision": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        "image": "registry.example/api:0d1a26e",
    }
    assert job["metadata"]["labels"] == {
        "app": "api",
        objects.TRIGGER_LABEL: "api",
        objects.BRANCH_LABEL: "main",
        objects.GROUP_LABEL: "refs-heads-main-"
        + job["metadata"]["labels"][objects.GROUP_LABEL][-10:],
        objects.BODY_LABEL: samples.delivery("github-push").body_sha256[:40],
    }
    assert job["metadata"]["annotations"] == {
        objects.DELIVERY_ANNOTATION: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        objects.EVENT_ANNOTATION: "push",
        objects.REF_ANNOTATION: "refs/heads/main",
        objects.GROUP_ANNOTATION: "refs/heads/main",
        objects.RECEIVED_ANNOTATION: "2026-12-01T12:00:00.123456Z",
    }
    assert job["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineTrigger",
            "name": "api",
            "uid": "u-1",
            "controller": True,
        }
    ]


@pytest.mark.parametrize(
    ("sample", "revision", "branch"),
    [
        ("github-pull-request", "c4f3e8b2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6", "main"),
        ("github-tag", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "v1.4.0"),
        ("gitlab-push", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "main"),
        ("gitlab-merge-request", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "main"),
    ],
)
def test_every_forge_gives_revision_and_branch(sample: str, revision: str, branch: str) -> None:
    template = {"spec": {"type": "custom", "params": {"image": "a", "command": ["{{ revision }}"]}}}
    job = make(sample, template=template)
    assert job["spec"]["params"]["command"] == [revision]
    assert job["metadata"]["labels"][objects.BRANCH_LABEL] == branch


def test_a_pipelinerun_template_renders_only_its_params_and_metadata() -> None:
    steps = [
        {"name": "build", "job": {"type": "build", "params": {"revision": "{{ params.rev }}"}}}
    ]
    run = make(
        "github-push",
        template={"spec": {"params": {"rev": "{{ revision }}"}, "steps": steps}},
        run=True,
    )
    assert run["kind"] == "PipelineRun"
    assert run["spec"] == {
        "params": {"rev": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"},
        "steps": steps,
    }


def test_headers_in_templates_never_carry_the_secret() -> None:
    template = {
        "spec": {
            "type": "custom",
            "params": {"image": "a", "command": ["{{ headers['X-Hub-Signature-256'] }}"]},
        }
    }
    error = make("github-push", template=template)
    assert isinstance(error, model.SpecError)
    assert error.field == "spec.jobTemplate.spec.params.command[0]"


def test_a_template_the_payload_cannot_fill_is_a_spec_error_naming_the_field() -> None:
    template = {
        "spec": {"type": "build", "params": {"revision": "{{ body.pull_request.head.sha }}"}}
    }
    error = make("github-push", template=template)
    assert isinstance(error, model.SpecError)
    assert error.field == "spec.jobTemplate.spec.params.revision"


def test_a_rendered_spec_that_is_no_pipelinejob_spec_is_refused() -> None:
    error = make("github-push", template={"spec": {"type": "build", "priority": "{{ body.ref }}"}})
    assert isinstance(error, model.SpecError)
    assert error.field.startswith("spec.jobTemplate.spec.priority")


def test_names_come_from_the_delivery_id_alone() -> None:
    push = samples.delivery("github-push")
    again = dataclasses.replace(push, body_sha256="0" * 64)
    other = dataclasses.replace(push, id="another")
    assert objects.name(trigger="api", delivery=push) == objects.name(trigger="api", delivery=again)
    assert objects.name(trigger="api", delivery=push) != objects.name(trigger="api", delivery=other)
    longest = objects.name(trigger="a" * objects.MAX_TRIGGER_NAME, delivery=push)
    assert len(longest) <= 59  # the PipelineJob name limit


@pytest.mark.parametrize(
    "text", ["main", "feature/x", "a" * 70, "-x-", "ünïcode", "release/v1.2", "x" * 63]
)
def test_label_values_are_valid_and_distinct(text: str) -> None:
    value = objects.label_value(text)
    assert len(value) <= 63
    assert objects._LABEL_VALUE.match(value)
    assert objects.label_value(text + "/") != value
