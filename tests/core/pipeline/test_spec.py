"""Parsing and judging Pipeline and PipelineRun specs: InvalidSpec names the field."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core import model
from conveyor.core.pipeline import spec
from tests.core.pipeline import builders


def run_error(body: dict[str, Any]) -> model.SpecError:
    parsed = spec.parse_run(body)
    if isinstance(parsed, model.SpecError):
        return parsed
    error = spec.check(steps=parsed.steps, finally_=parsed.finally_, prefix="spec")
    assert error is not None, "expected an InvalidSpec"
    return error


R = builders.pipelinerun


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (R().obj(), "spec", "exactly one of the two"),
        (R().ref("p").step("a").obj(), "spec", "exactly one of the two"),
        (R().step("Build").obj(), "spec.steps[0].name", "not a DNS label"),
        (R().step("a").step("a").obj(), "spec.steps[1].name", "used twice"),
        (R().step("a").final("a").obj(), "spec.finally[0].name", "used twice"),
        (R().step("a").step("b", depends_on=["a", "c"]).obj(), "spec.steps[1].dependsOn[1]", "'c'"),
        (
            R().step("a").final("n", depends_on=["a"]).obj(),
            "spec.finally[0].dependsOn[0]",
            "in finally",
        ),
        (
            R()
            .step("a", depends_on=["c"])
            .step("b", depends_on=["a"])
            .step("c", depends_on=["b"])
            .obj(),
            "spec.steps",
            "cycle: a -> c -> b -> a",
        ),
        (R().step("a", when="x ==").obj(), "spec.steps[0].when", "does not compile"),
        (R().step("a", for_each="{{ x").obj(), "spec.steps[0].forEach", "does not compile"),
        (
            R().step("a", params={"image": "{{ x }", "command": []}).obj(),
            "spec.steps[0].job.params.image",
            "does not compile",
        ),
        (R().step("a", type="nope").obj(), "spec.steps[0].job.type", "not a job type"),
        (
            R().step("a", ttlAfterFinished="1h").obj(),
            "spec.steps[0].job.ttlAfterFinished",
            "not allowed",
        ),
        (
            R().step("a", max_parallel=-1).obj(),
            "spec.steps[0].maxParallel",
            "greater than or equal",
        ),
        (R().step("a").set(parallelism=-1).obj(), "spec.parallelism", "greater than or equal"),
        (R().step("a").set(timeout="soon").obj(), "spec.timeout", "duration"),
    ],
)
def test_invalid_specs_name_the_field(body: dict[str, Any], field: str, message: str) -> None:
    error = run_error(body)
    assert (error.field, message in error.message) == (field, True), error


def test_a_valid_run_parses_into_frozen_models() -> None:
    body = (
        R()
        .step("build", for_each=["a", "b"], max_parallel=1)
        .step("test", depends_on=["build"])
        .obj()
    )
    parsed = spec.parse_run(body)
    assert isinstance(parsed, spec.PipelineRunSpec)
    assert spec.check(steps=parsed.steps, finally_=parsed.finally_, prefix="spec") is None
    assert [s.name for s in parsed.steps] == ["build", "test"]
    assert (parsed.steps[0].fan_out, parsed.steps[1].fan_out) == (True, False)
    with pytest.raises(ValueError, match="frozen"):
        parsed.steps[0].name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        ({"revision": "a"}, {"revision": "a", "platforms": ["linux/amd64"]}),
        ({"revision": "a", "platforms": []}, {"revision": "a", "platforms": []}),
        ({"revision": None}, {"revision": None, "platforms": ["linux/amd64"]}),
    ],
)
def test_params_are_the_given_over_the_defaults(
    given: dict[str, Any], resolved: dict[str, Any]
) -> None:
    declared = (spec.Param(name="revision"), spec.Param(name="platforms", default=["linux/amd64"]))
    assert spec.resolve_params(declared=declared, given=given, pipeline="p") == resolved


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({}, "spec.params.revision", "required by Pipeline p"),
        ({"revision": "a", "typo": 1}, "spec.params.typo", "declares no such param"),
    ],
)
def test_param_errors_name_the_param(given: dict[str, Any], field: str, message: str) -> None:
    declared = (spec.Param(name="revision"),)
    error = spec.resolve_params(declared=declared, given=given, pipeline="p")
    assert isinstance(error, model.SpecError)
    assert (error.field, message in error.message) == (field, True)


def test_a_pipeline_error_names_the_pipeline() -> None:
    body = builders.pipeline("api-ci").step("a").step("a").obj()
    body["spec"]["steps"][0]["name"] = "A"
    error = spec.parse_pipeline(body)
    assert isinstance(error, model.SpecError)
    assert error.field == "Pipeline api-ci spec.steps[0].name"


def test_too_many_steps_are_refused() -> None:
    body = R()
    for i in range(spec.MAX_STEPS + 1):
        body.step(f"s{i}")
    error = spec.parse_run(body.obj())
    assert isinstance(error, model.SpecError)
    assert error.field == "spec.steps"
