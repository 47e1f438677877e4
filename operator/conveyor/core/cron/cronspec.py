"""A PipelineCronJob's spec, validated with field-named errors.

Pure: no I/O.
"""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any

import pydantic

from conveyor.core import model
from conveyor.core.cron import grammar
from conveyor.core.pipeline import spec as pipeline_spec


class ConcurrencyPolicy(enum.StrEnum):
    ALLOW = "Allow"
    FORBID = "Forbid"
    REPLACE = "Replace"


class _TemplateMeta(model._Spec):
    labels: dict[str, str] = pydantic.Field(default_factory=dict)
    annotations: dict[str, str] = pydantic.Field(default_factory=dict)


class _JobTemplate(model._Spec):
    metadata: _TemplateMeta = _TemplateMeta()
    spec: model.PipelineJobSpec


def _check_template(value: dict[str, Any]) -> dict[str, Any]:
    # A ValidationError here keeps its field path under jobTemplate (pydantic
    # prefixes it), so spec_error_from names e.g. spec.jobTemplate.spec.type.
    spec = value.get("spec")
    if isinstance(spec, dict):  # first without recursion: it may be nested 10,000 deep
        deep = model.too_deep(spec, prefix="spec.jobTemplate.spec", deep=model.PIPELINEJOB_DEEP)
        if deep is not None:
            raise ValueError(str(deep))
    _JobTemplate.model_validate(value)
    return value


class _RunTemplate(model._Spec):
    metadata: _TemplateMeta = _TemplateMeta()
    spec: pipeline_spec.PipelineRunSpec


def _check_run_template(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Checked as a PipelineRun spec; kept raw, copied into each PipelineRun unchanged.
    if value is not None:
        _RunTemplate.model_validate(value)
    return value


def _check_job_template(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else _check_template(value)


class CronSpec(model._Spec):
    schedule: Annotated[str, pydantic.AfterValidator(grammar.check_schedule)]
    time_zone: Annotated[str | None, pydantic.AfterValidator(grammar.check_zone)] = None
    concurrency_policy: ConcurrencyPolicy = ConcurrencyPolicy.ALLOW
    suspend: bool = False
    starting_deadline_seconds: int | None = pydantic.Field(default=None, ge=0)
    successful_jobs_history_limit: int = pydantic.Field(default=3, ge=0)
    failed_jobs_history_limit: int = pydantic.Field(default=1, ge=0)
    max_consecutive_failures: int | None = pydantic.Field(default=None, ge=1)  # None: never
    # Raw, as the user wrote it: {metadata: {labels, annotations}, spec: <PipelineJob spec>};
    # validated as such, and copied into each child unchanged.
    job_template: Annotated[dict[str, Any] | None, pydantic.AfterValidator(_check_job_template)] = (
        None
    )
    # Instead of jobTemplate: {metadata, spec: <PipelineRun spec>}, a PipelineRun per time.
    pipeline_run_template: Annotated[
        dict[str, Any] | None, pydantic.AfterValidator(_check_run_template)
    ] = None

    @pydantic.model_validator(mode="after")
    def _one_template(self) -> CronSpec:
        if (self.job_template is None) == (self.pipeline_run_template is None):
            raise ValueError("give either jobTemplate or pipelineRunTemplate (exactly one)")
        return self

    @property
    def child_kind(self) -> str:
        return "PipelineJob" if self.job_template is not None else "PipelineRun"

    @property
    def zone(self) -> datetime.tzinfo:
        return grammar.zone_of(self.time_zone)

    @property
    def deadline(self) -> datetime.timedelta | None:
        if self.starting_deadline_seconds is None:
            return None
        return datetime.timedelta(seconds=self.starting_deadline_seconds)
