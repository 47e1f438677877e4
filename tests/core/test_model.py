"""model: parsing a user's object never raises; what cannot be accepted is a SpecError."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core import bounds, cron, model, safejson

META = {"name": "j", "namespace": "ns", "uid": "u", "resourceVersion": "1"}


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def job(**spec: Any) -> dict[str, Any]:
    return {"metadata": META, "spec": {"type": "custom", **spec}}


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        pytest.param(
            {"params": {"x": nested(1_000)}},
            "spec.params.x.k.k.k.k.k.k.k… (24 more levels)",
            "nested deeper than 32 levels",
            id="params 1000 deep",
        ),
        pytest.param(
            {"params": {"x": nested(300)}}, "spec.params.x.k", "nested deeper", id="params 300"
        ),
        pytest.param(
            {"podTemplate": {"spec": nested(700)}},
            "spec.podTemplate.spec.k",
            "nested deeper",
            id="podTemplate 700 deep",
        ),
        pytest.param(
            {"startAt": "9999-12-31T23:59:59-12:00"},
            "spec.startAt",
            "must be before 9000-01-01T00:00:00Z",
            id="startAt past the year 9999",
        ),
        pytest.param(
            {"ttlAfterFinished": "99999999h"},
            "spec.ttlAfterFinished",
            "too long a duration (at most 87600h)",
            id="ttlAfterFinished",
        ),
        pytest.param(
            {"timeout": 5},
            "spec.timeout",
            "5 is not a duration such as 30s",
            id="no Value error prefix",
        ),
    ],
)
def test_a_spec_that_cannot_be_accepted_is_a_spec_error(
    spec: dict[str, Any], field: str, message: str
) -> None:
    parsed = model.parse_pipelinejob(job(**spec))
    assert parsed.spec is None
    assert parsed.spec_error is not None
    assert parsed.spec_error.field.startswith(field)
    assert message in parsed.spec_error.message
    assert not parsed.spec_error.message.startswith("Value error")
    assert parsed.meta.name == "j"


def test_a_poisoned_watch_event_decodes_to_an_invalid_spec() -> None:
    text = '{"metadata": {"name": "j", "namespace": "ns"}, "spec": {"type": "custom", '
    text += '"params": {"x": ' + '{"k":' * 5_000 + "1" + "}" * 5_000 + "}}}"
    parsed = model.parse_pipelinejob(safejson.loads(text))
    assert parsed.meta.key == ("ns", "j")
    assert parsed.spec_error is not None
    assert parsed.spec_error.field.startswith("spec.params.x.k")


def test_a_worker_template_nested_too_deep_is_a_spec_error() -> None:
    body = {"metadata": META, "spec": {"type": "build", "template": {"spec": nested(900)}}}
    parsed = model.parse_worker(body)
    assert parsed.spec is None
    assert parsed.spec_error is not None
    assert parsed.spec_error.field.startswith("spec.template.spec.k")


@pytest.mark.parametrize("spec", [[], "text", 5], ids=["list", "string", "number"])
def test_a_spec_that_is_not_an_object(spec: Any) -> None:
    parsed = model.parse_pipelinejob({"metadata": META, "spec": spec})
    assert parsed.spec_error == model.SpecError(field="spec", message="must be an object")


def test_spec_errors_fit_a_status() -> None:
    error = model.SpecError(field="spec." + "x" * 100_000, message="y" * 1_048_576)
    assert len(error.field) <= bounds.MAX_FIELD
    assert len(str(error)) < bounds.MAX_MESSAGE
    assert error.message.endswith(bounds.TRUNCATED)


def test_start_at_is_kept_in_utc() -> None:
    parsed = model.parse_pipelinejob(job(startAt="2026-01-02T15:04:05+02:00"))
    assert parsed.spec is not None
    assert model.format_time(parsed.spec.start_at or model.EPOCH) == "2026-01-02T13:04:05Z"


def test_a_cron_job_template_nested_too_deep_is_a_spec_error() -> None:
    body = {
        "metadata": META,
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {"spec": {"type": "custom", "params": {"x": nested(3_000)}}},
        },
    }
    _, spec, _ = cron.parse(body)
    assert isinstance(spec, model.SpecError)
    assert spec.field == "spec.jobTemplate"
    assert spec.message.startswith("spec.jobTemplate.spec.params.x.k")
    assert "nested deeper than 32 levels" in spec.message
