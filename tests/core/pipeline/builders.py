"""Fluent builders of PipelineRuns, Pipelines and their child PipelineJobs, as the
API shows them, so a test reads as the situation it sets up:

    builders.pipelinerun("r").step("build", type="build").step("test", depends_on=["build"]).obj()
    builders.child("r", "build", state="SUCCESS", outputs={"digest": "sha256:..."})
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from conveyor.core import model
from conveyor.core.pipeline import children, naming, run

NAMESPACE = "team-a"
CUSTOM: dict[str, Any] = {"image": "alpine:3.20", "command": ["sh", "-c", "true"]}


def job(type: str = "custom", **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type, "params": dict(CUSTOM) if type == "custom" else {}}
    out.update(fields)
    return out


def step_body(
    name: str,
    *,
    type: str = "custom",
    depends_on: list[str] | None = None,
    when: str | None = None,
    for_each: Any = None,
    max_parallel: int | None = None,
    job_: dict[str, Any] | None = None,
    **job_fields: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "job": job_ or job(type, **job_fields)}
    if depends_on:
        out["dependsOn"] = depends_on
    if when is not None:
        out["when"] = when
    if for_each is not None:
        out["forEach"] = for_each
    if max_parallel is not None:
        out["maxParallel"] = max_parallel
    return out


@dataclasses.dataclass
class PipelineRunBuilder:
    name: str
    namespace: str = NAMESPACE
    spec: dict[str, Any] = dataclasses.field(default_factory=dict)
    status: dict[str, Any] = dataclasses.field(default_factory=dict)
    generation: int = 1

    def step(self, name: str, **kw: Any) -> PipelineRunBuilder:
        self.spec.setdefault("steps", []).append(step_body(name, **kw))
        return self

    def final(self, name: str, **kw: Any) -> PipelineRunBuilder:
        self.spec.setdefault("finally", []).append(step_body(name, **kw))
        return self

    def ref(self, pipeline: str) -> PipelineRunBuilder:
        self.spec["pipelineRef"] = {"name": pipeline}
        return self

    def set(self, **fields: Any) -> PipelineRunBuilder:
        """Top-level spec fields by their API names: params, timeout, revoke, ..."""
        self.spec.update(fields)
        return self

    def with_status(self, status: dict[str, Any]) -> PipelineRunBuilder:
        self.status = copy.deepcopy(status)
        return self

    def obj(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineRun",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "uid": f"uid-{self.name}",
                "generation": self.generation,
                "resourceVersion": "1",
            },
            "spec": copy.deepcopy(self.spec),
        }
        if self.status:
            body["status"] = copy.deepcopy(self.status)
        return body

    def parsed(self) -> run.Run:
        return run.parse(self.obj())


def pipelinerun(name: str = "r", namespace: str = NAMESPACE) -> PipelineRunBuilder:
    return PipelineRunBuilder(name=name, namespace=namespace)


@dataclasses.dataclass
class PipelineBuilder:
    name: str
    namespace: str = NAMESPACE
    spec: dict[str, Any] = dataclasses.field(default_factory=dict)
    generation: int = 1

    def param(self, name: str, **kw: Any) -> PipelineBuilder:
        self.spec.setdefault("params", []).append({"name": name, **kw})
        return self

    def step(self, name: str, **kw: Any) -> PipelineBuilder:
        self.spec.setdefault("steps", []).append(step_body(name, **kw))
        return self

    def final(self, name: str, **kw: Any) -> PipelineBuilder:
        self.spec.setdefault("finally", []).append(step_body(name, **kw))
        return self

    def obj(self) -> dict[str, Any]:
        return {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "Pipeline",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "generation": self.generation,
            },
            "spec": copy.deepcopy(self.spec),
        }


def pipeline(name: str = "p", namespace: str = NAMESPACE) -> PipelineBuilder:
    return PipelineBuilder(name=name, namespace=namespace)


def child(
    run_name: str,
    step: str,
    index: int | None = None,
    *,
    state: str | None = "IN-QUEUE",
    outputs: dict[str, Any] | None = None,
    attempt: int = 1,
    retry_limit: int = 0,
    exit_code: int | None = None,
    reason: str | None = None,
    revoke: bool = False,
) -> children.Child:
    """An observed child PipelineJob, parsed from its body as the API shows it."""
    name = naming.child_name(run=run_name, step=step, index=index)
    status: dict[str, Any] = {"attempt": attempt, "outputs": outputs or {}}
    if state:
        status["state"] = state
    if reason:
        status["reason"] = reason
    if exit_code is not None:
        status["attempts"] = [
            {"attempt": attempt, "job": f"{name}-{attempt}", "exitCode": exit_code}
        ]
    body = {
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": naming.labels(run=run_name, step=step, index=index),
        },
        "spec": {
            "type": "custom",
            "params": CUSTOM,
            "retry": {"limit": retry_limit},
            "revoke": revoke,
        },
        "status": status,
    }
    parsed = children.parse(body=body, run=run_name)
    assert parsed is not None
    return parsed


def created(decision: run.Decision) -> list[str]:
    return [c.name for c in decision.create]


def steps_of(decision: run.Decision) -> dict[str, str]:
    """Each step's state, by name."""
    return {s.name: str(s.state) for s in decision.status.steps}


def as_status(decision: run.Decision) -> dict[str, Any]:
    """The decision's status as written, for the next round."""
    return decision.status.to_dict(generation=1, previous_conditions=(), now=model.EPOCH)
