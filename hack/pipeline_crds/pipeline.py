"""The Pipeline CRD: a reusable template of steps and declared params."""

from __future__ import annotations

from typing import Any

from . import envelope, rules, steps


def _params() -> dict[str, Any]:
    return {
        "type": "array",
        "description": "Declared inputs; a run must give those without a default.",
        "maxItems": envelope.MAX_PARAMS,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        "items": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {
                    "type": "string",
                    "description": "The param's name, params.<name> in templates.",
                    "maxLength": 63,
                    "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$",
                },
                "default": {
                    "description": "Its value when a run gives none (any JSON value).",
                    "x-kubernetes-preserve-unknown-fields": True,
                },
                "description": {
                    "type": "string",
                    "description": "What the param is for.",
                    "maxLength": 1024,
                },
            },
        },
    }


def pipeline_crd() -> dict[str, Any]:
    spec = {
        "type": "object",
        "description": "A reusable template of steps and declared params.",
        "required": ["steps"],
        "x-kubernetes-validations": rules.name_rules([]),
        "properties": {"params": _params(), **steps.steps_properties()},
    }
    spec["properties"]["steps"]["minItems"] = 1
    schema = {
        "type": "object",
        "description": "Pipeline is a reusable definition of steps for PipelineRuns.",
        "required": ["spec"],
        "properties": {**envelope.META, "spec": spec},
    }
    columns = [
        {
            "name": "Steps",
            "type": "string",
            "jsonPath": ".spec.steps[*].name",
            "description": "The steps' names.",
        },
        envelope.AGE,
    ]
    return envelope.crd(
        kind="Pipeline", plural="pipelines", short="pl", columns=columns, schema=schema
    )
