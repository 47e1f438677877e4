"""PipelineCronJob.spec.pipelineRunTemplate: parsed and checked as a PipelineRun spec;
scheduled once the pipeline controller lands (until then parse says so, naming the field)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from conveyor.core import cron, model
from tests.builders import clock

RUN_TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"team": "a"}},
    "spec": {"pipelineRef": {"name": "api-ci"}, "params": {"revision": "main"}},
}
JOB_TEMPLATE: dict[str, Any] = {"spec": {"type": "delay", "params": {"duration": "1s"}}}


def test_a_run_template_makes_pipelineruns() -> None:
    spec = cron.CronSpec.model_validate(
        {"schedule": "* * * * *", "pipelineRunTemplate": RUN_TEMPLATE}
    )
    assert spec.child_kind == "PipelineRun"
    meta = model.Meta(
        namespace="team-a",
        name="nightly",
        uid="u",
        resource_version="1",
        generation=1,
        created_at=clock.T0,
    )
    manifest = cron.child_manifest(cron=meta, spec=spec, name="nightly-1", scheduled_at=clock.T0)
    assert manifest["kind"] == "PipelineRun"
    assert manifest["spec"] == RUN_TEMPLATE["spec"]
    assert manifest["metadata"]["labels"] == {"team": "a", cron.CRONJOB_LABEL: "nightly"}


@pytest.mark.parametrize(
    ("templates", "message"),
    [
        ({}, "exactly one"),
        ({"jobTemplate": JOB_TEMPLATE, "pipelineRunTemplate": RUN_TEMPLATE}, "exactly one"),
        ({"pipelineRunTemplate": {"spec": {}}}, "pipelineRef or steps"),
    ],
)
def test_exactly_one_valid_template(templates: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        cron.CronSpec.model_validate({"schedule": "* * * * *", **templates})


def test_parse_names_the_field_until_runs_are_scheduled() -> None:
    body = {
        "metadata": {"name": "n"},
        "spec": {"schedule": "* * * * *", "pipelineRunTemplate": RUN_TEMPLATE},
    }
    _, spec, _ = cron.parse(body)
    assert isinstance(spec, model.SpecError)
    assert spec.field == "spec.pipelineRunTemplate"
