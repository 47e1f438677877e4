"""A PipelineRun's state machine: from what is observed now, the decisions as data.

Pure: no I/O, time passed in. `decide` is all a controller calls: it creates
`Decision.create` (AlreadyExists is adoption), sets `spec.revoke` on
`Decision.revoke`, writes `Decision.status`, and looks again at `wake_at`.
The first decision of a run only records what it runs (status.pipelineSpec),
with `wake_at` now: children are created from the recorded definition only.

Rules (DESIGN.md §3b):
- The run resolves its steps once (see resolution) and records them.
- Steps run in dependency order; a failed or revoked step skips its dependents;
  the run is FAILED (StepFailed) once nothing else can run, or InvalidSpec if
  the first failed step failed on its definition (a bad forEach).
- `finally` steps start once every step has finished, whatever happened,
  with `run.state` the outcome so far; a failing finally step fails the run.
- Timeout: running steps are revoked, pending ones never start, `finally`
  still runs; the run ends FAILED with reason Timeout.
- Revoke: running steps (finally ones too) are revoked, nothing new starts,
  `finally` included; the run ends REVOKED once no child is active.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import durations, model
from conveyor.core.pipeline import children, dag, resolution, runstatus, spec, steps

State = model.State

TIMEOUT = "Timeout"
WAIT_RETRY = datetime.timedelta(seconds=30)  # look again for a missing Pipeline or earlier run
_NAMED = 5  # running steps named in the message


@dataclasses.dataclass(frozen=True, kw_only=True)
class Run:
    meta: model.Meta
    spec: spec.PipelineRunSpec | model.SpecError
    status: runstatus.RunStatus


def parse(body: Mapping[str, Any]) -> Run:
    return Run(
        meta=model.Meta.from_body(body),
        spec=spec.parse_run(body),
        status=runstatus.RunStatus.from_dict(body.get("status")),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decision:
    status: runstatus.RunStatus
    create: tuple[children.NewChild, ...] = ()
    revoke: tuple[str, ...] = ()  # child PipelineJobs to set spec.revoke on
    wake_at: datetime.datetime | None = None  # look again then, even without events


def needs(run: Run) -> tuple[str | None, str | None]:
    """(Pipeline name, earlier run name) the controller must fetch for `decide`;
    None where not needed (already resolved, or not named)."""
    if run.status.pipeline_spec is not None or isinstance(run.spec, model.SpecError):
        return None, None
    ref = run.spec.pipeline_ref
    return (ref.name if ref else None), (run.spec.resume_from or None)


def decide(
    *,
    run: Run,
    pipeline: Mapping[str, Any] | None,
    earlier: Mapping[str, Any] | None,
    observed: Sequence[children.Child],
    now: datetime.datetime,
) -> Decision:
    """The run's next status and actions. `pipeline` and `earlier` are the bodies
    named by `needs` (None when absent); `observed` the run's child PipelineJobs."""
    status = run.status
    if status.state is not None and status.state.finished:
        return Decision(status=status)
    if isinstance(run.spec, model.SpecError):
        return _invalid(status=status, error=run.spec, now=now, observed=observed)
    if status.pipeline_spec is None:
        if run.spec.revoke:
            return _finish(
                status,
                state=State.REVOKED,
                reason="Revoked",
                message="revoked before it started",
                now=now,
            )
        found = resolution.resolve(run=run.spec, pipeline=pipeline, earlier=earlier)
        if isinstance(found, model.SpecError):
            return _invalid(status=status, error=found, now=now, observed=observed)
        if isinstance(found, resolution.Waiting):
            # Also woken by Pipeline events, if the controller follows them.
            return Decision(status=_waiting(status, waiting=found), wake_at=now + WAIT_RETRY)
        # Recorded before any child exists: a retry after a lost write resolves
        # again, but children are only ever created from the recorded definition.
        return Decision(status=_recorded(status, found=found, now=now), wake_at=now)
    resolved = spec.parse_resolved(status.pipeline_spec or {})
    if not isinstance(resolved, model.SpecError):
        # Checked at resolution already; again, so no recorded spec can break the order.
        checked = spec.check(steps=resolved.steps, finally_=resolved.finally_, prefix="status")
        resolved = resolved if checked is None else checked
    if isinstance(resolved, model.SpecError):
        return _invalid(status=status, error=resolved, now=now, observed=observed)
    return _advance(
        run=run, spec_=run.spec, resolved=resolved, status=status, observed=observed, now=now
    )


def _recorded(
    status: runstatus.RunStatus, *, found: resolution.Resolution, now: datetime.datetime
) -> runstatus.RunStatus:
    source = "inline" if found.generation is None else f"generation {found.generation}"
    return dataclasses.replace(
        status,
        state=State.IN_QUEUE,
        reason="Queued",
        message=f"resolved {len(found.steps)} steps ({source}); starting",
        pipeline_spec=found.resolved.to_dict(),
        pipeline_generation=found.generation,
        resumed_from=found.resumed_from,
        steps=found.steps,
        progress=runstatus.progress(found.steps),
        started_at=model.format_time(now),
    )


def _waiting(status: runstatus.RunStatus, *, waiting: resolution.Waiting) -> runstatus.RunStatus:
    return dataclasses.replace(
        status, state=State.IN_QUEUE, reason=waiting.reason, message=waiting.message
    )


def _invalid(
    *,
    status: runstatus.RunStatus,
    error: model.SpecError,
    now: datetime.datetime,
    observed: Sequence[children.Child],
) -> Decision:
    decision = _finish(
        status,
        state=State.FAILED,
        reason=str(model.Reason.INVALID_SPEC),
        message=f"invalid spec: {error}",
        now=now,
    )
    revoke = tuple(c.name for c in observed if c.active and not c.revoke_requested)
    return dataclasses.replace(decision, revoke=revoke)


def _finish(
    status: runstatus.RunStatus,
    *,
    state: State,
    reason: str,
    message: str,
    now: datetime.datetime,
) -> Decision:
    done = dataclasses.replace(
        status,
        state=state,
        reason=reason,
        message=message,
        finished_at=model.format_time(now),
        progress=runstatus.progress(status.steps),
    )
    return Decision(status=done)


def _deadline(
    *, spec_: spec.PipelineRunSpec, status: runstatus.RunStatus
) -> datetime.datetime | None:
    started = model.parse_time(status.started_at)
    if spec_.timeout is None or started is None:
        return None
    return started + spec_.timeout


def _advance(
    *,
    run: Run,
    spec_: spec.PipelineRunSpec,
    resolved: spec.Resolved,
    status: runstatus.RunStatus,
    observed: Sequence[children.Child],
    now: datetime.datetime,
) -> Decision:
    deadline = _deadline(spec_=spec_, status=status)
    # The timeout covers the steps; once they have all finished, finally runs on.
    steps_done = all(s.state.finished for s in status.steps if not s.final)
    timing_out = status.reason == TIMEOUT or (
        deadline is not None and now >= deadline and not steps_done
    )
    stop = "the run was revoked" if spec_.revoke else "the run timed out" if timing_out else None
    phase = functools.partial(
        _phase,
        status=status,
        by_step=_by_step(observed),
        budget=steps.Budget(slots=_slots(spec_=spec_, observed=observed)),
    )
    situation = steps.Situation(
        run=run.meta,
        params=resolved.params,
        run_state=str(State.RUNNING),
        stop=stop,
        priority=spec_.priority,
    )
    main = phase(phase=resolved.steps, final=False, situation=situation, views={})
    outcome = _outcome(spec_=spec_, timing_out=timing_out, results=main) if _done(main) else None
    final = phase(
        phase=resolved.finally_,
        final=True,
        situation=dataclasses.replace(
            situation,
            stop="the run was revoked" if spec_.revoke else None,
            run_state=str(outcome[0]) if outcome else str(State.RUNNING),
        ),
        views={
            s.name: steps.view(r.status, step=s) for s, r in zip(resolved.steps, main, strict=True)
        },
        hold=outcome is None and not spec_.revoke,  # finally waits for the steps
    )
    waking = deadline is not None and not timing_out and outcome is None
    decision = _decision(
        status=status, results=(*main, *final), wake_at=deadline if waking else None
    )
    if outcome is not None and _done(final):
        return _ended(decision=decision, outcome=outcome, final=final, now=now)
    progress = _in_progress(decision.status, revoking=spec_.revoke, timing_out=timing_out)
    return dataclasses.replace(decision, status=progress)


def _decision(
    *,
    status: runstatus.RunStatus,
    results: Sequence[steps.Result],
    wake_at: datetime.datetime | None,
) -> Decision:
    entries = tuple(r.status for r in results)
    return Decision(
        status=dataclasses.replace(status, steps=entries, progress=runstatus.progress(entries)),
        create=tuple(c for r in results for c in r.create),
        revoke=tuple(n for r in results for n in r.revoke),
        wake_at=wake_at,
    )


def _slots(*, spec_: spec.PipelineRunSpec, observed: Sequence[children.Child]) -> int | None:
    if spec_.parallelism <= 0:
        return None
    return max(0, spec_.parallelism - sum(1 for c in observed if c.active))


def _by_step(
    observed: Sequence[children.Child],
) -> dict[str, dict[int | None, children.Child]]:
    out: dict[str, dict[int | None, children.Child]] = {}
    for child in observed:
        out.setdefault(child.step, {})[child.index] = child
    return out


def _phase(
    *,
    phase: Sequence[spec.Step],
    final: bool,
    status: runstatus.RunStatus,
    by_step: Mapping[str, Mapping[int | None, children.Child]],
    situation: steps.Situation,
    budget: steps.Budget,
    views: Mapping[str, Any],
    hold: bool = False,
) -> list[steps.Result]:
    """Each step of one phase (steps, or finally), evaluated in dependency order."""
    by_name = {s.name: s for s in phase}
    recorded_of = {
        s.name: status.step(s.name) or runstatus.StepStatus(name=s.name, final=final) for s in phase
    }
    states: dict[str, dag.StepState] = {}
    # Every step is in `steps.*` from the start: a template may name one that
    # is not (yet) evaluated in this pass, and sees its recorded state.
    seen = {**views, **{n: steps.view(r, step=by_name[n]) for n, r in recorded_of.items()}}
    results: dict[str, steps.Result] = {}
    for name in dag.order(graph={s.name: s.depends_on for s in phase}):
        step = by_name[name]
        recorded = recorded_of[name]
        if hold:
            result = steps.Result(status=recorded)
        else:
            result = steps.evaluate(
                step=step,
                recorded=recorded,
                observed=by_step.get(name, {}),
                states=states,
                views=seen,
                situation=situation,
                budget=budget,
            )
        states[name] = result.status.state
        seen[name] = steps.view(result.status, step=step)
        results[name] = result
    return [results[s.name] for s in phase]


def _done(results: Sequence[steps.Result]) -> bool:
    return all(r.status.state.finished for r in results)


Outcome = tuple[State, str, str]  # state, reason, message


def _outcome(
    *, spec_: spec.PipelineRunSpec, timing_out: bool, results: Sequence[steps.Result]
) -> Outcome:
    """How the run ends, judged once every (non-finally) step has finished."""
    if spec_.revoke:
        return State.REVOKED, "Revoked", "revoked: running steps were revoked, no other started"
    if timing_out:
        after = durations.format(spec_.timeout) if spec_.timeout else "its timeout"
        return State.FAILED, TIMEOUT, f"the run timed out after {after}"
    wrong = next((r.status for r in results if r.status.state.went_wrong), None)
    if wrong is not None:
        return State.FAILED, _failed(wrong), wrong.message or f"step {wrong.name} failed"
    skipped = sum(1 for r in results if r.status.state is dag.StepState.SKIPPED)
    done = f"{len(results) - skipped} steps succeeded"
    return State.SUCCESS, "Succeeded", f"{done}, {skipped} skipped" if skipped else done


def _failed(wrong: runstatus.StepStatus) -> str:
    """The run's reason for a step that went wrong: its definition, or the step."""
    invalid = wrong.reason is runstatus.StepReason.INVALID_SPEC
    return str(model.Reason.INVALID_SPEC) if invalid else "StepFailed"


def _ended(
    *,
    decision: Decision,
    outcome: Outcome,
    final: Sequence[steps.Result],
    now: datetime.datetime,
) -> Decision:
    state, reason, message = outcome
    wrong = next((r.status for r in final if r.status.state.went_wrong), None)
    if state is State.SUCCESS and wrong is not None:
        state, reason = State.FAILED, _failed(wrong)
        message = wrong.message or f"finally step {wrong.name} failed"
    ended = dataclasses.replace(
        decision.status,
        state=state,
        reason=reason,
        message=message,
        finished_at=model.format_time(now),
    )
    return dataclasses.replace(decision, status=ended, wake_at=None)


def _in_progress(
    status: runstatus.RunStatus, *, revoking: bool, timing_out: bool
) -> runstatus.RunStatus:
    moving = [s for s in status.steps if s.state is not dag.StepState.PENDING]
    begun = any(s.state is not dag.StepState.IN_QUEUE for s in moving)
    running = [
        s.name for s in status.steps if s.state in (dag.StepState.RUNNING, dag.StepState.IN_QUEUE)
    ]
    named = ", ".join(running[:_NAMED]) + (
        f" and {len(running) - _NAMED} more" if len(running) > _NAMED else ""
    )
    message = f"{status.progress} steps done" + (f"; running: {named}" if named else "")
    if revoking:
        reason, message = "Revoked", f"revoking: {message}"
    elif timing_out:
        reason, message = TIMEOUT, f"timed out, stopping: {message}"
    else:
        reason = "Running" if begun else "Queued"
    state = State.RUNNING if begun or revoking or timing_out else State.IN_QUEUE
    return dataclasses.replace(status, state=state, reason=reason, message=message)
