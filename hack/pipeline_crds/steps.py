"""The schema of a step (spec.steps[], spec.finally[]) and of its status entry."""

from __future__ import annotations

from typing import Any

from . import envelope, source


def step_schema(phase: str) -> dict[str, Any]:
    where = f"spec.{phase}"
    return {
        "type": "object",
        "required": ["name", "job"],
        "properties": {
            "name": {
                "type": "string",
                "description": (
                    "The step's name: a DNS label, unique in the run (steps and finally together)."
                ),
                "maxLength": 63,
                "pattern": envelope.DNS_LABEL,
            },
            "dependsOn": {
                "type": "array",
                "description": (
                    "Steps (of the same list) this one runs after: it runs when all of them "
                    "succeeded or were skipped, and is skipped when one failed."
                ),
                "maxItems": envelope.MAX_DEPENDS_ON,
                "x-kubernetes-list-type": "set",
                "items": {"type": "string", "maxLength": 63},
            },
            "when": {
                "type": "string",
                "description": (
                    "A Jinja2 expression (no braces), e.g. steps.test.state == 'SUCCESS'; "
                    "false: the step is Skipped."
                ),
                "maxLength": envelope.MAX_EXPRESSION,
            },
            **_fan_out(),
            "job": {
                **source.job_schema(f"{where}.job"),
                "description": (
                    "A PipelineJob spec; its strings (in params and podTemplate) are Jinja2 "
                    "templates over params, steps, run, item and index."
                ),
            },
        },
    }


def _fan_out() -> dict[str, Any]:
    return {
        "forEach": {
            "description": (
                'Fan-out: a template rendering to a list (e.g. "{{ params.platforms }}") or '
                "a list; one PipelineJob per item (at most 256), with item and index in its "
                "templates."
            ),
            "x-kubernetes-preserve-unknown-fields": True,
        },
        "maxParallel": {
            "type": "integer",
            "format": "int32",
            "description": (
                "At most this many of the step's items at once; 0: no limit of its own."
            ),
            "minimum": 0,
            "maximum": 256,
        },
    }


def steps_properties() -> dict[str, Any]:
    return {
        "steps": {
            "type": "array",
            "description": "The steps, each a PipelineJob (one per item for a fan-out).",
            "maxItems": envelope.MAX_STEPS,
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": step_schema("steps"),
        },
        "finally": {
            "type": "array",
            "description": (
                "Steps run after all steps have finished, whatever happened; run.state is known."
            ),
            "maxItems": envelope.MAX_FINALLY,
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": step_schema("finally"),
        },
    }


def status_steps() -> dict[str, Any]:
    """status.steps: one compact entry per step."""
    entry = {
        "name": ("string", "The step's name."),
        "state": ("string", "Pending, IN-QUEUE, RUNNING, SUCCESS, FAILED, REVOKED or Skipped."),
        "reason": (
            "string",
            "CamelCase, why the entry says what it says: Succeeded, Reused, DependencyFailed, "
            "WhenFalse, RunStopped, InvalidSpec (the run is InvalidSpec too), RenderFailed, "
            "JobFailed, Revoked.",
        ),
        "message": ("string", "One human sentence: why it failed or was skipped."),
        "reusedFrom": ("string", "The earlier run (resumeFrom) whose result this step reuses."),
    }
    props: dict[str, Any] = {k: {"type": t, "description": d} for k, (t, d) in entry.items()}
    props["jobs"] = {
        "type": "array",
        "description": "The step's child PipelineJobs, in item order.",
        "items": {"type": "string"},
    }
    props["outputs"] = {
        "description": (
            "The step's outputs; for a fan-out a list in item order (null: not succeeded yet)."
        ),
        "x-kubernetes-preserve-unknown-fields": True,
    }
    props["items"] = {"type": "integer", "description": "A fan-out step's number of items."}
    props["failedItems"] = {
        "type": "array",
        "description": "Indexes of a fan-out step's items that failed or were revoked.",
        "items": {"type": "integer"},
    }
    props["finally"] = {"type": "boolean", "description": "A finally step."}
    return {
        "type": "array",
        "description": (
            "Compact: one entry per step (finally steps last), never a child's whole status."
        ),
        "x-kubernetes-list-type": "atomic",
        "items": {"type": "object", "properties": props},
    }
