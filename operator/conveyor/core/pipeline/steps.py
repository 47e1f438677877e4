"""One step of a run: its state from its dependencies, its `when`, its items and
its children, and the children it starts or revokes now.

Pure: no I/O. A finished step's entry in status is final (sticky): its
children may be gone later (deleted by hand) and it is never run again. While
a step runs, a succeeded item's outputs and a failed item's index are kept in
its entry for the same reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model
from conveyor.core.pipeline import children, dag, expressions, fanout, runstatus, spec

State = dag.StepState
Reason = runstatus.StepReason


@dataclasses.dataclass(kw_only=True)
class Budget:
    """The run's slots left for new children (None: no limit), shared by all steps."""

    slots: int | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Situation:
    """What every step of one evaluation shares."""

    run: model.Meta
    params: Mapping[str, Any]
    run_state: str  # `run.state` in templates: RUNNING, or the outcome in finally
    stop: str | None  # why nothing new starts ("the run was revoked"), or None
    priority: int  # the run's default priority for its children


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    status: runstatus.StepStatus
    create: tuple[children.NewChild, ...] = ()
    revoke: tuple[str, ...] = ()


def context(
    *, situation: Situation, views: Mapping[str, Any], item: Any = None, index: int | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "params": situation.params,
        "steps": views,
        "run": {
            "name": situation.run.name,
            "namespace": situation.run.namespace,
            "state": situation.run_state,
        },
    }
    if index is not None:
        out["item"] = item
        out["index"] = index
    return out


def view(status: runstatus.StepStatus, *, step: spec.Step) -> dict[str, Any]:
    """`steps.<name>` in templates: its state and outputs (a list for a fan-out)."""
    default: Any = [] if step.fan_out else {}
    return {"state": str(status.state), "outputs": status.outputs or default}


def evaluate(
    *,
    step: spec.Step,
    recorded: runstatus.StepStatus,
    observed: Mapping[int | None, children.Child],
    states: Mapping[str, dag.StepState],
    views: Mapping[str, Any],
    situation: Situation,
    budget: Budget,
) -> Result:
    """The step's entry now, and what to create or revoke for it."""
    if recorded.state.finished:
        return Result(status=recorded)
    started = bool(observed) or bool(recorded.jobs)
    if not started:
        held = _unstarted(step=step, recorded=recorded, states=states, situation=situation)
        if held is not None:
            return held
    where = f"steps[{step.name}]"
    ctx = context(situation=situation, views=views)
    try:
        when = step.when
        if (
            not started
            and when is not None
            and not expressions.evaluate_when(text=when, context=ctx, field=f"{where}.when")
        ):
            return _end(
                recorded,
                state=State.SKIPPED,
                reason=Reason.WHEN_FALSE,
                message=f"skipped: when is false ({when:.200})",
            )
        items = fanout.items(step=step, context=ctx, field=f"{where}.forEach")
    except fanout.InvalidItems as exc:
        # The message names the field of the definition: spec.steps[x].forEach.
        return _end(recorded, state=State.FAILED, reason=Reason.INVALID_SPEC, message=f"spec.{exc}")
    except expressions.ExpressionError as exc:
        return _end(
            recorded,
            state=State.FAILED,
            reason=Reason.RENDER_FAILED,
            message=f"step {step.name} failed: {exc}",
        )
    return _items(
        step=step,
        recorded=recorded,
        observed=observed,
        items=items,
        situation=situation,
        views=views,
        budget=budget,
    )


def _unstarted(
    *,
    step: spec.Step,
    recorded: runstatus.StepStatus,
    states: Mapping[str, dag.StepState],
    situation: Situation,
) -> Result | None:
    """A step not started yet: Skipped, or held by its dependencies; None: it may start."""
    readiness, culprit = dag.readiness(depends_on=step.depends_on, states=states)
    if readiness is dag.Readiness.SKIP and culprit is not None:
        return _end(
            recorded,
            state=State.SKIPPED,
            reason=Reason.DEPENDENCY_FAILED,
            message=f"skipped: step {culprit} {states[culprit]}",
        )
    if situation.stop:
        return _end(
            recorded,
            state=State.SKIPPED,
            reason=Reason.RUN_STOPPED,
            message=f"not started: {situation.stop}",
        )
    if readiness is dag.Readiness.BLOCKED:
        return Result(status=recorded)
    return None


def _end(
    recorded: runstatus.StepStatus, *, state: dag.StepState, reason: Reason, message: str
) -> Result:
    return Result(status=dataclasses.replace(recorded, state=state, reason=reason, message=message))


@dataclasses.dataclass(kw_only=True)
class _Tally:
    """A step's items as observed now."""

    outputs: list[Any]
    failed: set[int]
    active: list[children.Child]
    missing: list[int]  # not started, or started but not seen yet (adopted on create)
    failure: str | None = None  # why an item FAILED (or could not be rendered)
    failure_reason: Reason | None = None
    note: str | None = None  # an item was revoked

    def fail(self, *, reason: Reason, message: str) -> None:
        """The first failure is the one the entry tells."""
        if self.failure is None:
            self.failure, self.failure_reason = message, reason


def _tally(
    *,
    step: spec.Step,
    recorded: runstatus.StepStatus,
    observed: Mapping[int | None, children.Child],
    count: int,
) -> _Tally:
    base = recorded.outputs if isinstance(recorded.outputs, list) else []
    tally = _Tally(
        outputs=[base[i] if i < len(base) else None for i in range(count)],
        failed=set(recorded.failed_items),
        active=[],
        missing=[],
    )
    for i in range(count):
        key = i if step.fan_out else None
        child = observed.get(key)
        if tally.outputs[i] is not None:
            continue
        if i in tally.failed and child is None:
            # Ended before and gone since: the entry's message says how it ended.
            if recorded.message and not recorded.message.endswith("was revoked"):
                tally.fail(reason=recorded.reason or Reason.JOB_FAILED, message=recorded.message)
            else:
                tally.note = tally.note or recorded.message
            continue
        if child is None:
            tally.missing.append(i)
        elif child.state is model.State.SUCCESS:
            tally.outputs[i] = dict(child.outputs)
        elif child.active:
            tally.active.append(child)
        else:
            tally.failed.add(i)
            label = f"{step.name} item {i}" if step.fan_out else step.name
            if child.state is model.State.FAILED:
                tally.fail(
                    reason=Reason.JOB_FAILED, message=f"step {label} failed: {child.failure()}"
                )
            else:
                tally.note = tally.note or f"step {label} was revoked"
    return tally


def _items(
    *,
    step: spec.Step,
    recorded: runstatus.StepStatus,
    observed: Mapping[int | None, children.Child],
    items: Sequence[Any] | None,
    situation: Situation,
    views: Mapping[str, Any],
    budget: Budget,
) -> Result:
    count = 1 if items is None else len(items)
    tally = _tally(step=step, recorded=recorded, observed=observed, count=count)
    revoke: tuple[str, ...] = ()
    create: list[children.NewChild] = []
    if situation.stop:
        revoke = tuple(c.name for c in tally.active if not c.revoke_requested)
    elif not tally.failed and tally.failure is None:  # a failed item starts no more
        room = fanout.room(
            max_parallel=step.max_parallel, active=len(tally.active), run_slots=budget.slots
        )
        try:
            for i in tally.missing[:room]:
                create.append(_new(step=step, items=items, i=i, situation=situation, views=views))
        except expressions.ExpressionError as exc:
            tally.fail(reason=Reason.RENDER_FAILED, message=f"step {step.name} failed: {exc}")
        if budget.slots is not None:
            budget.slots -= len(create)
    status = _status(
        step=step, recorded=recorded, tally=tally, items=items, observed=observed, create=create
    )
    state = _state(tally=tally, create=create, stop=situation)
    status = dataclasses.replace(status, state=state, reason=_ended(state, reason=status.reason))
    return Result(status=status, create=tuple(create), revoke=revoke)


def _new(
    *,
    step: spec.Step,
    items: Sequence[Any] | None,
    i: int,
    situation: Situation,
    views: Mapping[str, Any],
) -> children.NewChild:
    index = None if items is None else i
    item = None if items is None else items[i]
    ctx = context(situation=situation, views=views, item=item, index=index)
    field = f"steps[{step.name}].job" if index is None else f"steps[{step.name}][{i}].job"
    job = children.job_spec(step=step, context=ctx, priority=situation.priority, field=field)
    return children.new_child(run=situation.run, step=step.name, index=index, job=job)


def _state(*, tally: _Tally, create: Sequence[children.NewChild], stop: Situation) -> State:
    if tally.active or create:
        running = any(c.state is model.State.RUNNING for c in tally.active)
        return State.RUNNING if running else State.IN_QUEUE
    if tally.failure:
        return State.FAILED
    if tally.failed:
        return State.REVOKED
    if all(o is not None for o in tally.outputs):
        return State.SUCCESS
    if stop.stop:
        return State.REVOKED
    return State.IN_QUEUE  # items wait for a slot (maxParallel or the run's parallelism)


def _status(
    *,
    step: spec.Step,
    recorded: runstatus.StepStatus,
    tally: _Tally,
    items: Sequence[Any] | None,
    observed: Mapping[int | None, children.Child],
    create: Sequence[children.NewChild],
) -> runstatus.StepStatus:
    seen = sorted(observed.values(), key=lambda c: c.index or 0)
    jobs = tuple(
        dict.fromkeys([*recorded.jobs, *(c.name for c in seen), *(c.name for c in create)])
    )
    if items is None:
        outputs: Any = tally.outputs[0]
    else:
        outputs = tally.outputs
    message = tally.failure or tally.note or (recorded.message if tally.failed else None)
    reason = _entry_reason(tally=tally, recorded=recorded)
    return dataclasses.replace(
        recorded,
        jobs=jobs,
        outputs=outputs,
        items=None if items is None else len(items),
        failed_items=tuple(sorted(tally.failed)) if step.fan_out else (),
        reason=reason,
        message=message,
    )


def _entry_reason(*, tally: _Tally, recorded: runstatus.StepStatus) -> Reason | None:
    """The reason that goes with the entry's message (see `_status`)."""
    if tally.failure:
        return tally.failure_reason
    if tally.note:
        return Reason.REVOKED
    return recorded.reason if tally.failed else None


def _ended(state: State, *, reason: Reason | None) -> Reason | None:
    """Every finished entry has a reason: a success its own, a revoked step Revoked."""
    if state is State.SUCCESS:
        return Reason.SUCCEEDED
    if state is State.REVOKED:
        return reason or Reason.REVOKED
    return reason
