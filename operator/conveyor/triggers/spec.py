"""The PipelineTrigger spec, validated (what the CRD schema cannot judge).

Pure. The schema (crds/pipelinetriggers.conveyor.dev.yaml) refuses most
mistakes at `kubectl apply`; what is left (a `when` or template that does not
compile, a template that is not a PipelineJob or PipelineRun spec) is a
SpecError naming the field, which the receiver answers with 422 and shows in
the trigger's status.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic

from conveyor.core import model
from conveyor.core.pipeline import expressions
from conveyor.core.pipeline import spec as pipeline_spec
from conveyor.triggers import signatures

Source = signatures.Source
# When spec.filters.events is absent: what a CI trigger wants from each forge
# (GitHub sends tag pushes as push events; GitLab as tag_push).
DEFAULT_EVENTS = {Source.GITHUB: ("push",), Source.GITLAB: ("push", "tag_push"), Source.GENERIC: ()}


class Policy(enum.StrEnum):
    ALLOW = "Allow"
    FORBID = "Forbid"
    REPLACE = "Replace"


class SecretRef(model._Spec):
    name: str = pydantic.Field(min_length=1, max_length=253)
    key: str = pydantic.Field(min_length=1, max_length=253)


def _check_when(value: str | None) -> str | None:
    if value:
        _expression_ok(lambda: expressions.check_when(text=value, field="spec.filters.when"))
    return value


def _expression_ok(check: Any, *, where: bool = False) -> None:
    try:
        check()
    except expressions.ExpressionError as exc:
        raise ValueError(str(exc) if where else exc.message) from None


class Filters(model._Spec):
    events: tuple[str, ...] | None = None
    branches: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    when: Annotated[str | None, pydantic.AfterValidator(_check_when)] = None

    def events_for(self, source: Source) -> tuple[str, ...]:
        return DEFAULT_EVENTS[source] if self.events is None else self.events


class Generic(model._Spec):
    signature_header: str = signatures.GENERIC_HEADER
    event_header: str = "X-Event"


class _Meta(model._Spec):
    labels: dict[str, str] = pydantic.Field(default_factory=dict)
    annotations: dict[str, str] = pydantic.Field(default_factory=dict)


class Template(model._Spec):
    metadata: _Meta = _Meta()
    spec: dict[str, Any]


class TriggerSpec(model._Spec):
    source: Source
    secret_ref: SecretRef
    filters: Filters = Filters()
    concurrency_policy: Policy = Policy.ALLOW
    suspend: bool = False
    generic: Generic = Generic()
    job_template: Template | None = None
    pipeline_run_template: Template | None = None

    @pydantic.model_validator(mode="after")
    def _one_template(self) -> TriggerSpec:
        if (self.job_template is None) == (self.pipeline_run_template is None):
            raise ValueError("give either jobTemplate or pipelineRunTemplate (exactly one)")
        field, template = self.template_field, self.template
        _expression_ok(
            lambda: expressions.check_value(value=template.spec, field=f"{field}.spec"), where=True
        )
        return self

    @property
    def kind(self) -> str:
        return "PipelineJob" if self.job_template is not None else "PipelineRun"

    @property
    def template(self) -> Template:
        template = self.job_template or self.pipeline_run_template
        assert template is not None  # the validator saw to it
        return template

    @property
    def template_field(self) -> str:
        return "spec.jobTemplate" if self.job_template is not None else "spec.pipelineRunTemplate"


def parse(body: Mapping[str, Any]) -> TriggerSpec | model.SpecError:
    try:
        return TriggerSpec.model_validate(body.get("spec") or {})
    except pydantic.ValidationError as exc:
        return pipeline_spec.error_from(exc, prefix="spec")


def check_rendered(*, kind: str, spec: Mapping[str, Any], field: str) -> model.SpecError | None:
    """A rendered template's spec must be a valid PipelineJob (or PipelineRun) spec."""
    try:
        if kind == "PipelineJob":
            model.PipelineJobSpec.model_validate(spec)
        else:
            pipeline_spec.PipelineRunSpec.model_validate(spec)
    except pydantic.ValidationError as exc:
        return pipeline_spec.error_from(exc, prefix=f"{field}.spec")
    return None
