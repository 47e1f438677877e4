"""`when` and templates in the Job templates' sandbox: values, errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core.pipeline import expressions

CONTEXT: dict[str, Any] = {
    "params": {"revision": "3f2a", "platforms": ["linux/amd64", "linux/arm64"], "n": 2},
    "steps": {"build": {"state": "SUCCESS", "outputs": [{"digest": "sha256:a"}]}},
    "run": {"name": "r", "namespace": "ns", "state": "RUNNING"},
    "item": "linux/arm64",
    "index": 1,
}


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("plain text", "plain text"),
        ("{{ params.revision }}", "3f2a"),
        (
            "{{ params.platforms }}",
            ["linux/amd64", "linux/arm64"],
        ),  # a whole expression keeps its type
        ("{{ params.n }}", 2),
        ("v-{{ params.n }}", "v-2"),  # text around it: a string
        ("img:{{ item | replace('/', '-') }}", "img:linux-arm64"),
        ("{{ steps.build.outputs[0].digest }}", "sha256:a"),
        ({"a": ["{{ index }}", "{{ run.state }}"]}, {"a": [1, "RUNNING"]}),
        ("{% for p in params.platforms %}{{ p }} {% endfor %}", "linux/amd64 linux/arm64 "),
    ],
)
def test_render_value(value: Any, rendered: Any) -> None:
    assert expressions.render_value(value=value, context=CONTEXT, field="f") == rendered


@pytest.mark.parametrize(
    ("text", "truth"),
    [
        ("params.revision != '' and steps.build.state == 'SUCCESS'", True),
        ("{{ steps.build.state == 'FAILED' }}", False),
        ("params.n > 1", True),
        ("params.platforms | length == 0", False),
    ],
)
def test_when(text: str, truth: bool) -> None:
    assert expressions.evaluate_when(text=text, context=CONTEXT, field="w") is truth


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        (
            {"image": "{{ steps.build.outputs[0].nope }}"},
            "steps[deploy].job.params.image",
            "has no attribute 'nope'",
        ),
        ({"x": ["{{ params.missing }}"]}, "steps[deploy].job.params.x[0]", "'missing'"),
        ({"x": "{{ 1 // 0 }}"}, "steps[deploy].job.params.x", "ZeroDivisionError"),
        ({"x": "{{ params.__class__ }}"}, "steps[deploy].job.params.x", ""),
        ({"x": "{{ 'a' * 10000000 }}"}, "steps[deploy].job.params.x", "too long"),
    ],
)
def test_a_failing_template_names_the_field(value: Any, field: str, message: str) -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.render_value(value=value, context=CONTEXT, field="steps[deploy].job.params")
    assert caught.value.field == field
    assert message in caught.value.message


def test_a_rendered_value_is_size_bounded() -> None:
    big = {"x": "{{ 'a' * 90000 }}", "y": "{{ 'b' * 90000 }}", "z": "{{ 'c' * 90000 }}"}
    with pytest.raises(expressions.ExpressionError, match="more than"):
        expressions.render_value(value=big, context=CONTEXT, field="f")


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (expressions.check_when, "steps.build.state =="),
        (expressions.check_when, "a b"),
        (expressions.check_template, "{{ params.x "),
        (expressions.check_template, "{% if %}"),
        (expressions.check_template, "{{ ) }}"),
    ],
)
def test_expressions_that_do_not_compile_are_found_up_front(check: Any, text: str) -> None:
    with pytest.raises(expressions.ExpressionError, match="does not compile") as caught:
        check(text=text, field="spec.steps[0].when")
    assert caught.value.field == "spec.steps[0].when"


def test_check_value_names_the_nested_field() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.check_value(value={"params": {"a": ["ok", "{{ x"]}}, field="spec.steps[1].job")
    assert caught.value.field == "spec.steps[1].job.params.a[1]"
