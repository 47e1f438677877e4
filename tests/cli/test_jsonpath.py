"""kubectl's JSONPath templates: what each prints for a small List."""

from __future__ import annotations

import pytest

from conveyor.cli import jsonpath

DOC = {
    "kind": "List",
    "items": [
        {"metadata": {"name": "a"}, "status": {"state": "SUCCESS", "outputs": {"digest": "x"}}},
        {"metadata": {"name": "b"}, "status": {"state": "FAILED", "attempt": 2}},
    ],
}


@pytest.mark.parametrize(
    ("template", "printed"),
    [
        ("{.items[*].metadata.name}", "a b"),
        (".kind", "List"),  # a bare expression is one {...}
        ("kind", "List"),
        ("{$.kind}", "List"),
        ("{@.kind}", "List"),
        ("{.items[0].status.outputs}", '{"digest":"x"}'),  # maps as compact JSON
        ("{.items[1].status.attempt}", "2"),
        ("{.items[-1:].metadata.name}", "b"),
        ('{.items[?(@.status.state=="FAILED")].metadata.name}', "b"),
        (
            '{range .items[*]}{.metadata.name}{"\\t"}{.status.state}{"\\n"}{end}',
            "a\tSUCCESS\nb\tFAILED\n",
        ),
        ("{range .items}{.metadata.name},{end}", "a,b,"),
        ("name: {.items[0].metadata.name}!", "name: a!"),
        ("{.nope}", ""),  # missing keys print nothing, as kubectl get allows them
        ("x{.items[5].metadata.name}y", "xy"),
    ],
)
def test_renders_as_kubectl(template: str, printed: str) -> None:
    assert jsonpath.parse(template).render(DOC) == printed


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{range .items[*]}{.metadata.name}", "{range} without {end}"),
        ("{.a}{end}", "{end} without {range}"),
        ("{.items[", "unclosed {"),
        ('{"x}', "unclosed {"),
        ("{.items[?(@.a==]}", "bad expression"),
    ],
)
def test_refuses_a_template_that_does_not_parse(template: str, error: str) -> None:
    with pytest.raises(jsonpath.TemplateError, match=error.replace("{", r"\{").replace("[", r"\[")):
        jsonpath.parse(template)
