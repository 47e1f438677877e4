"""The specs of Pipeline and PipelineRun (DESIGN.md §3b), parsed into frozen models.

Pure: no I/O. Parsing never raises on a user's object: what the operator
cannot accept becomes a `model.SpecError` naming the field as the user wrote
it (`spec.steps[2].dependsOn[0]`), which ends the run FAILED/InvalidSpec.

`check` judges what the CRD's schema and CEL rules cannot: cycles, an
expression that does not compile, a step job of an unknown shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import pydantic

from conveyor.core import model
from conveyor.core.pipeline import dag, expressions

MAX_STEPS = 200
MAX_FINALLY = 20
MAX_DEPENDS_ON = 7  # the CRD's CEL cost budget allows no more with 200 steps
MAX_PARAMS = 64
MAX_EXPRESSION = 4096

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,62}$")
# Job fields a step may not set: its children live and die with the run.
_FORBIDDEN_JOB_FIELDS = {"ttlAfterFinished": "a step's PipelineJobs are deleted with the run"}


def _step_name(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS label (lowercase letters, digits and '-', at most 63)"
        )
    return value


def _param_name(value: str) -> str:
    if not _PARAM_NAME.match(value):
        raise ValueError(f"{value!r} is not a param name (a letter, then letters, digits, _ or -)")
    return value


StepName = Annotated[str, pydantic.AfterValidator(_step_name)]
Expression = Annotated[str, pydantic.Field(max_length=MAX_EXPRESSION)]


class Param(model._Spec):
    name: Annotated[str, pydantic.AfterValidator(_param_name)]
    default: Any = None
    description: str | None = None

    @property
    def required(self) -> bool:
        return "default" not in self.model_fields_set


class Step(model._Spec):
    name: StepName
    depends_on: tuple[StepName, ...] = pydantic.Field(default=(), max_length=MAX_DEPENDS_ON)
    when: Expression | None = None
    # A template rendering to a list, or a list written out.
    for_each: Expression | list[Any] | None = None
    max_parallel: int = pydantic.Field(default=0, ge=0)  # 0: no limit of its own
    # A PipelineJob spec whose strings are templates; checked again once rendered.
    job: dict[str, Any]

    @property
    def fan_out(self) -> bool:
        return self.for_each is not None


Steps = Annotated[tuple[Step, ...], pydantic.Field(max_length=MAX_STEPS)]
FinallySteps = Annotated[tuple[Step, ...], pydantic.Field(max_length=MAX_FINALLY)]


class PipelineSpec(model._Spec):
    params: tuple[Param, ...] = pydantic.Field(default=(), max_length=MAX_PARAMS)
    steps: Steps = pydantic.Field(min_length=1)
    finally_: FinallySteps = pydantic.Field(default=(), alias="finally")


class PipelineRef(model._Spec):
    name: str = pydantic.Field(min_length=1, max_length=253)


class PipelineRunSpec(model._Spec):
    pipeline_ref: PipelineRef | None = None
    params: dict[str, Any] = pydantic.Field(default_factory=dict)
    priority: int = 0
    parallelism: int = pydantic.Field(default=0, ge=0)  # 0: no limit beyond the Workers'
    timeout: model.Duration | None = None
    revoke: bool = False
    resume_from: str = ""
    steps: Steps = ()
    finally_: FinallySteps = pydantic.Field(default=(), alias="finally")

    @pydantic.model_validator(mode="after")
    def _one_source(self) -> PipelineRunSpec:
        if (self.pipeline_ref is None) == (not self.steps):
            raise ValueError("give either pipelineRef or steps (exactly one of the two)")
        if self.pipeline_ref is not None and self.finally_:
            raise ValueError("finally comes with the Pipeline when pipelineRef is given")
        return self


class Resolved(model._Spec):
    """What a run runs, recorded once in status.pipelineSpec: steps and param values."""

    params: dict[str, Any] = pydantic.Field(default_factory=dict)
    steps: Steps = pydantic.Field(min_length=1)
    finally_: FinallySteps = pydantic.Field(default=(), alias="finally")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.model_dump(by_alias=True, mode="json", exclude_unset=True)
        out["params"] = dict(self.params)
        return out


# --- errors as users read them -------------------------------------------------------


def field_path(*, prefix: str, loc: Sequence[int | str]) -> str:
    """`spec` + ("steps", 2, "dependsOn", 0) -> `spec.steps[2].dependsOn[0]`."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def error_from(exc: pydantic.ValidationError, *, prefix: str) -> model.SpecError:
    first = exc.errors()[0]
    # A model validator's own message says which fields; its loc is the object's.
    message = str(first["msg"]).removeprefix("Value error, ")
    return model.SpecError(field=field_path(prefix=prefix, loc=first["loc"]), message=message)


def parse_run(body: Mapping[str, Any]) -> PipelineRunSpec | model.SpecError:
    try:
        return PipelineRunSpec.model_validate(body.get("spec") or {})
    except pydantic.ValidationError as exc:
        return error_from(exc, prefix="spec")


def parse_pipeline(body: Mapping[str, Any]) -> PipelineSpec | model.SpecError:
    name = (body.get("metadata") or {}).get("name") or ""
    try:
        return PipelineSpec.model_validate(body.get("spec") or {})
    except pydantic.ValidationError as exc:
        return error_from(exc, prefix=f"Pipeline {name} spec")


def parse_resolved(data: Mapping[str, Any]) -> Resolved | model.SpecError:
    try:
        return Resolved.model_validate(data)
    except pydantic.ValidationError as exc:
        return error_from(exc, prefix="status.pipelineSpec")


# --- what only the operator can judge ------------------------------------------------


def check(
    *, steps: Sequence[Step], finally_: Sequence[Step], prefix: str
) -> model.SpecError | None:
    """Names unique and known, no cycle, every expression compiles, jobs well formed."""
    try:
        _check_names(steps=steps, finally_=finally_, prefix=prefix)
        for key, phase in (("steps", steps), ("finally", finally_)):
            cycle = dag.find_cycle(graph={s.name: s.depends_on for s in phase})
            if cycle:
                raise expressions.ExpressionError(
                    field=f"{prefix}.{key}",
                    message="dependsOn forms a cycle: " + " -> ".join(cycle),
                )
            for i, step in enumerate(phase):
                _check_step(step=step, field=f"{prefix}.{key}[{i}]")
    except expressions.ExpressionError as exc:
        return model.SpecError(field=exc.field, message=exc.message)
    return None


def _check_names(*, steps: Sequence[Step], finally_: Sequence[Step], prefix: str) -> None:
    seen: set[str] = set()
    for key, phase in (("steps", steps), ("finally", finally_)):
        names = {s.name for s in phase}
        for i, step in enumerate(phase):
            if step.name in seen:
                raise expressions.ExpressionError(
                    field=f"{prefix}.{key}[{i}].name", message=f"{step.name!r} is used twice"
                )
            seen.add(step.name)
            for j, dep in enumerate(step.depends_on):
                if dep not in names:
                    raise expressions.ExpressionError(
                        field=f"{prefix}.{key}[{i}].dependsOn[{j}]",
                        message=f"names no step {dep!r} in {key}",
                    )


def _check_step(*, step: Step, field: str) -> None:
    if step.when is not None:
        expressions.check_when(text=step.when, field=f"{field}.when")
    if isinstance(step.for_each, str):
        expressions.check_template(text=step.for_each, field=f"{field}.forEach")
    elif step.for_each is not None:
        expressions.check_value(value=step.for_each, field=f"{field}.forEach")
    job_type = step.job.get("type")
    if job_type not in set(model.JobType):
        raise expressions.ExpressionError(
            field=f"{field}.job.type",
            message=f"{job_type!r} is not a job type ({', '.join(model.JobType)})",
        )
    for name, why in _FORBIDDEN_JOB_FIELDS.items():
        if name in step.job:
            raise expressions.ExpressionError(
                field=f"{field}.job.{name}", message=f"not allowed in a step: {why}"
            )
    expressions.check_value(value=step.job, field=f"{field}.job")


def resolve_params(
    *, declared: Sequence[Param], given: Mapping[str, Any], pipeline: str
) -> dict[str, Any] | model.SpecError:
    """The run's param values: given ones over the declared defaults."""
    names = {p.name for p in declared}
    for name in given:
        if name not in names:
            return model.SpecError(
                field=f"spec.params.{name}", message=f"Pipeline {pipeline} declares no such param"
            )
    out: dict[str, Any] = {}
    for param in declared:
        if param.name in given:
            out[param.name] = given[param.name]
        elif param.required:
            return model.SpecError(
                field=f"spec.params.{param.name}",
                message=f"required by Pipeline {pipeline} (it has no default)",
            )
        else:
            out[param.name] = param.default
    return out
