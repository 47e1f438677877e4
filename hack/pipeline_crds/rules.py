"""The CEL rules (x-kubernetes-validations) on a spec's steps and finally."""

from __future__ import annotations

from typing import Any


def steps_rules() -> list[dict[str, Any]]:
    """A PipelineRun's: a Pipeline by name or inline steps, not both."""
    return [
        {
            "rule": "!has(self.pipelineRef) != !(has(self.steps) && size(self.steps) > 0)",
            "message": "spec.pipelineRef or spec.steps must be given, exactly one of the two",
            "reason": "FieldValueInvalid",
        },
        {
            "rule": "!has(self.pipelineRef) || !has(self.finally) || size(self.finally) == 0",
            "message": "spec.finally comes with the Pipeline when spec.pipelineRef is given",
            "fieldPath": ".finally",
            "reason": "FieldValueForbidden",
        },
    ]


def name_rules(kind_rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`kind_rules`, then: dependsOn names a step of its list; names unique across both."""
    return [
        *kind_rules,
        {
            "rule": (
                "!has(self.steps) || self.steps.all(s, !has(s.dependsOn) || "
                "s.dependsOn.all(d, self.steps.exists(t, t.name == d)))"
            ),
            "message": "spec.steps: every dependsOn must name a step in spec.steps",
            "fieldPath": ".steps",
            "reason": "FieldValueInvalid",
        },
        {
            "rule": (
                "!has(self.finally) || self.finally.all(s, !has(s.dependsOn) || "
                "s.dependsOn.all(d, self.finally.exists(t, t.name == d)))"
            ),
            "message": "spec.finally: every dependsOn must name a step in spec.finally",
            "fieldPath": ".finally",
            "reason": "FieldValueInvalid",
        },
        {
            "rule": (
                "!has(self.steps) || !has(self.finally) || "
                "!self.finally.exists(f, self.steps.exists(s, s.name == f.name))"
            ),
            "message": "spec.finally: step names must be unique across spec.steps and spec.finally",
            "fieldPath": ".finally",
            "reason": "FieldValueInvalid",
        },
    ]
