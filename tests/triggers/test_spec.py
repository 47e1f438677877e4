"""The trigger spec: what the model refuses that the schema cannot."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core import model
from conveyor.triggers import spec

BASE = {"source": "github", "secretRef": {"name": "hook", "key": "secret"}}
JOB = {"spec": {"type": "build"}}


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({}, "spec", "exactly one"),
        ({"jobTemplate": JOB, "pipelineRunTemplate": {"spec": {}}}, "spec", "exactly one"),
        ({"jobTemplate": JOB, "filters": {"when": "body.(("}}, "spec.filters.when", "compile"),
        (
            {"jobTemplate": {"spec": {"type": "build", "params": {"r": "{{ body. }}"}}}},
            "spec",
            "spec.jobTemplate.spec.params.r: does not compile",
        ),
        ({"jobTemplate": JOB, "concurrencyPolicy": "Sometimes"}, "spec.concurrencyPolicy", ""),
        ({"jobTemplate": JOB, "source": "bitbucket"}, "spec.source", ""),
    ],
)
def test_refused(given: dict[str, Any], field: str, message: str) -> None:
    error = spec.parse({"spec": {**BASE, **given}})
    assert isinstance(error, model.SpecError)
    assert error.field == field
    assert message in error.message


def test_defaults() -> None:
    parsed = spec.parse({"spec": {**BASE, "jobTemplate": JOB}})
    assert isinstance(parsed, spec.TriggerSpec)
    assert parsed.kind == "PipelineJob"
    assert parsed.concurrency_policy is spec.Policy.ALLOW
    assert parsed.filters.events_for(parsed.source) == ("push",)
    assert parsed.generic.signature_header == "X-Signature-256"
