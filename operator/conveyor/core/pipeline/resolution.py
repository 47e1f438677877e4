"""What a run runs, decided once: its steps (inline or from its Pipeline), its
param values, and what it reuses from an earlier run (resume).

Pure: no I/O. The result is recorded in the run's status (pipelineSpec,
pipelineGeneration, and the reused steps' entries); from then on the run
works from that record only, so editing or deleting the Pipeline, or the
earlier run, never changes a run in flight.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from conveyor.core import model
from conveyor.core.pipeline import dag, runstatus, spec


@dataclasses.dataclass(frozen=True, kw_only=True)
class Waiting:
    """Not resolvable yet: the run stays IN-QUEUE with this reason."""

    reason: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resolution:
    resolved: spec.Resolved
    generation: int | None  # the Pipeline's metadata.generation; None for inline steps
    steps: tuple[runstatus.StepStatus, ...]  # the first status.steps, reused ones done
    resumed_from: str | None


def resolve(
    *,
    run: spec.PipelineRunSpec,
    pipeline: Mapping[str, Any] | None,
    earlier: Mapping[str, Any] | None,
) -> Resolution | Waiting | model.SpecError:
    """`pipeline` is the body of spec.pipelineRef (None: not found), `earlier`
    the body of spec.resumeFrom (None: not found); each only when named."""
    if run.pipeline_ref is None:
        steps, final, prefix, generation = run.steps, run.finally_, "spec", None
        params: dict[str, Any] | model.SpecError = dict(run.params)
    else:
        name = run.pipeline_ref.name
        if pipeline is None:
            return Waiting(reason="PipelineNotFound", message=f"waiting for Pipeline {name}")
        parsed = spec.parse_pipeline(pipeline)
        if isinstance(parsed, model.SpecError):
            return parsed
        steps, final, prefix = parsed.steps, parsed.finally_, f"Pipeline {name} spec"
        generation = int((pipeline.get("metadata") or {}).get("generation") or 0)
        params = spec.resolve_params(declared=parsed.params, given=run.params, pipeline=name)
    if isinstance(params, model.SpecError):
        return params
    error = spec.check(steps=steps, finally_=final, prefix=prefix)
    if error is not None:
        return error
    resolved = spec.Resolved(params=params, steps=steps, finally_=final)
    if run.resume_from and earlier is None:
        return Waiting(
            reason="ResumeSourceNotFound", message=f"waiting for PipelineRun {run.resume_from}"
        )
    reused = _reuse(resolved=resolved, earlier=earlier, name=run.resume_from)
    if isinstance(reused, Waiting):
        return reused
    return Resolution(
        resolved=resolved,
        generation=generation,
        steps=reused,
        resumed_from=run.resume_from or None,
    )


def _same(*, a: spec.Step, b: Mapping[str, Any]) -> bool:
    ours = json.dumps(a.model_dump(by_alias=True, mode="json"), sort_keys=True)
    try:
        theirs = spec.Step.model_validate(b)
    except ValueError:
        return False
    return ours == json.dumps(theirs.model_dump(by_alias=True, mode="json"), sort_keys=True)


def _reuse(
    *, resolved: spec.Resolved, earlier: Mapping[str, Any] | None, name: str
) -> tuple[runstatus.StepStatus, ...] | Waiting:
    """First entries: a step the earlier run succeeded in, defined the same, is done
    with its outputs; a fan-out step keeps the items that succeeded. Finally runs again."""
    fresh = [runstatus.StepStatus(name=s.name) for s in resolved.steps]
    fresh += [runstatus.StepStatus(name=s.name, final=True) for s in resolved.finally_]
    if earlier is None:
        return tuple(fresh)
    before = runstatus.RunStatus.from_dict(earlier.get("status"))
    if before.state is None or not before.state.finished:
        return Waiting(
            reason="ResumeSourceRunning", message=f"waiting for PipelineRun {name} to finish"
        )
    defined = {s.get("name"): s for s in (before.pipeline_spec or {}).get("steps") or ()}
    out = []
    for step, entry in zip(resolved.steps, fresh, strict=False):
        old = before.step(step.name)
        if old is None or step.name not in defined or not _same(a=step, b=defined[step.name]):
            out.append(entry)
        else:
            out.append(_reused(old=old, entry=entry, fan_out=step.fan_out, name=name))
    return (*out, *fresh[len(resolved.steps) :])


def _reused(
    *, old: runstatus.StepStatus, entry: runstatus.StepStatus, fan_out: bool, name: str
) -> runstatus.StepStatus:
    if old.state is dag.StepState.SUCCESS:
        return dataclasses.replace(
            entry,
            state=dag.StepState.SUCCESS,
            outputs=old.outputs,
            items=old.items,
            reused_from=name,
            reason=runstatus.StepReason.REUSED,
            message=f"reused from PipelineRun {name}",
        )
    if fan_out and isinstance(old.outputs, list) and any(o is not None for o in old.outputs):
        return dataclasses.replace(entry, outputs=list(old.outputs), reused_from=name)
    return entry
