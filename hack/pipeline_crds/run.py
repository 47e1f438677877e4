"""The PipelineRun CRD: its spec (also a cron's and a trigger's template), status
and printer columns."""

from __future__ import annotations

from typing import Any

from . import envelope, rules, source, steps


def run_spec() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "What to run: a Pipeline by name or inline steps, with param values.",
        "x-kubernetes-validations": rules.name_rules(rules.steps_rules()),
        "properties": {
            "pipelineRef": {
                "type": "object",
                "description": (
                    "The Pipeline (in this namespace) whose steps to run; resolved once."
                ),
                "required": ["name"],
                "properties": {
                    "name": {
                        "type": "string",
                        "description": "The Pipeline's name.",
                        "maxLength": 253,
                    }
                },
            },
            "params": {
                "type": "object",
                "description": "Param values, params.<name> in templates.",
                "maxProperties": envelope.MAX_PARAMS,
                "x-kubernetes-preserve-unknown-fields": True,
            },
            **_controls(),
            **steps.steps_properties(),
        },
    }


def _controls() -> dict[str, Any]:
    """How the run runs: priority, parallelism, timeout, revoke, resumeFrom."""
    return {
        "priority": {
            "type": "integer",
            "format": "int32",
            "description": "Default priority of the steps' PipelineJobs.",
            "default": 0,
        },
        "parallelism": {
            "type": "integer",
            "format": "int32",
            "description": (
                "At most this many of the run's PipelineJobs at once; 0: no limit beyond the "
                "Workers'."
            ),
            "default": 0,
            "minimum": 0,
        },
        "timeout": {
            "type": "string",
            "description": (
                "Deadline of the steps, e.g. 2h: running steps are revoked, pending ones "
                "never start, finally still runs."
            ),
            "maxLength": 64,
            "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$",
        },
        "revoke": {
            "type": "boolean",
            "description": (
                "true: REVOKED; running steps are revoked, pending (and finally) ones never start."
            ),
            "default": False,
        },
        "resumeFrom": {
            "type": "string",
            "description": (
                "An earlier run of the same steps: its succeeded steps (and fan-out items) "
                "count as done, with their outputs."
            ),
            "maxLength": 253,
        },
    }


def run_status() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Observed state, written only by the operator.",
        "properties": {
            "state": {
                "type": "string",
                "description": "IN-QUEUE, RUNNING, SUCCESS, FAILED or REVOKED, as for PipelineJob.",
                "enum": ["IN-QUEUE", "RUNNING", "SUCCESS", "FAILED", "REVOKED"],
            },
            "reason": {
                "type": "string",
                "description": (
                    "CamelCase: Queued, Running, Succeeded, StepFailed, Timeout, Revoked, "
                    "InvalidSpec, PipelineNotFound, ResumeSourceNotFound, ResumeSourceRunning."
                ),
            },
            "message": {"type": "string", "description": "One human sentence on the state."},
            "steps": steps.status_steps(),
            "progress": {"type": "string", "description": "Finished steps of all, as done/total."},
            "startedAt": envelope.time("When the run resolved its steps and started."),
            "finishedAt": envelope.time("When the run reached SUCCESS, FAILED or REVOKED."),
            "pipelineSpec": {
                "type": "object",
                "description": (
                    "What the run runs, recorded once: param values, steps and finally "
                    "(inline or from the Pipeline). Editing the Pipeline never changes it."
                ),
                "x-kubernetes-preserve-unknown-fields": True,
            },
            "pipelineGeneration": {
                "type": "integer",
                "format": "int64",
                "description": "The Pipeline's metadata.generation the run resolved.",
            },
            "resumedFrom": {"type": "string", "description": "The earlier run this one resumes."},
            "conditions": source.conditions(),
            "observedGeneration": {
                "type": "integer",
                "format": "int64",
                "description": "The metadata.generation the status reflects.",
                "minimum": 0,
            },
        },
    }


_COLUMNS = [
    {
        "name": "State",
        "type": "string",
        "jsonPath": ".status.state",
        "description": "IN-QUEUE, RUNNING, SUCCESS, FAILED or REVOKED.",
    },
    {
        "name": "Steps",
        "type": "string",
        "jsonPath": ".status.progress",
        "description": "Finished steps of all (done/total).",
    },
    {
        "name": "Reason",
        "type": "string",
        "jsonPath": ".status.reason",
        "description": "Why the run is in its state, e.g. StepFailed.",
    },
    envelope.AGE,
    {
        "name": "Message",
        "type": "string",
        "jsonPath": ".status.message",
        "description": "One human sentence on the state.",
        "priority": 1,
    },
]


def run_crd() -> dict[str, Any]:
    schema = {
        "type": "object",
        "description": (
            "PipelineRun is one run of steps; each step (each fan-out item) is a child PipelineJob."
        ),
        "required": ["spec"],
        "x-kubernetes-validations": [
            {
                "rule": "size(self.metadata.name) <= 63",
                "message": (
                    "metadata.name must be at most 63 characters: it is a label value on every "
                    "child"
                ),
                "reason": "FieldValueInvalid",
            }
        ],
        "properties": {**envelope.META, "spec": run_spec(), "status": run_status()},
    }
    return envelope.crd(
        kind="PipelineRun", plural="pipelineruns", short="pr", columns=_COLUMNS, schema=schema
    )
