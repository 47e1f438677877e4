"""The PipelineRun decisions (core/pipeline/run.py) on the store's view, and
the writes they make (applied by k8s/effects.py).

A run's children are PipelineJobs the operator creates and owns (owner
reference to the run): named deterministically, so after a restart the same
name is computed again and AlreadyExists means the step was already started.
Because the operator owns them, setting a child's `spec.revoke` (the run's
revoke or timeout cascading) writes no user's spec.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from conveyor import metrics
from conveyor.core import lifecycle, model, status
from conveyor.core.pipeline import children, run
from conveyor.k8s import api, store

Key = store.Key

logger = logging.getLogger("conveyor.controller")


def observed(st: store.Store, key: Key) -> list[children.Child]:
    """The run's children as the store has them."""
    found = (children.parse(body=b, run=key[1]) for b in st.children_of_run(key))
    return [c for c in found if c is not None]


def decide(*, st: store.Store, body: Mapping[str, Any], now: datetime.datetime) -> run.Decision:
    """The run's next decision, with the Pipeline and earlier run it names
    taken from the store (absent: the core waits for them)."""
    key = store.key_of(body)
    parsed = run.parse(body)
    pipeline_name, earlier_name = run.needs(parsed)
    pipeline = st.pipelines.get((key[0], pipeline_name)) if pipeline_name else None
    earlier = st.pipelineruns.get((key[0], earlier_name)) if earlier_name else None
    return run.decide(
        run=parsed, pipeline=pipeline, earlier=earlier, observed=observed(st, key), now=now
    )


async def create_child(*, client: api.Client, child: children.NewChild) -> dict[str, Any]:
    """Create the child PipelineJob; if it exists (made before a restart), adopt it."""
    namespace = child.manifest["metadata"]["namespace"]
    try:
        created = await client.create(api.PIPELINEJOBS, namespace=namespace, body=child.manifest)
    except api.ApiError as exc:
        if not exc.already_exists:
            raise
        metrics.CONTROLLER_EVENTS.labels("adopted").inc()
        return await client.get(api.PIPELINEJOBS, namespace=namespace, name=child.name)
    created.setdefault("apiVersion", child.manifest["apiVersion"])
    created.setdefault("kind", "PipelineJob")
    return created


def revoke_child(*, client: api.Client, namespace: str, name: str) -> Any:
    """Set spec.revoke on a child the operator owns (never a user's object)."""
    return client.request(
        "PATCH",
        api.PIPELINEJOBS.path(namespace=namespace, name=name),
        body={"spec": {"revoke": True}},
        content_type=api.MERGE_PATCH,
    )


def status_patch(
    *, body: Mapping[str, Any], decision: run.Decision, now: datetime.datetime
) -> dict[str, Any] | None:
    """The status patch (against the version decided on); None when nothing changes."""
    md = body.get("metadata") or {}
    old = body.get("status") or {}
    new = decision.status.to_dict(
        generation=int(md.get("generation") or 0),
        previous_conditions=old.get("conditions") or [],
        now=now,
    )
    patch = status.merge_patch(old=old, new=new)
    if not patch:
        return None
    return {"metadata": {"resourceVersion": md.get("resourceVersion")}, "status": patch}


async def write_status(
    *,
    client: api.Client,
    body: Mapping[str, Any],
    decision: run.Decision,
    now: datetime.datetime,
    on_gone: Callable[[], None],
) -> dict[str, Any] | None:
    """Write the decided status: the run's new body, None when there was
    nothing to write or the run is gone (`on_gone`). Conflict is raised."""
    patch = status_patch(body=body, decision=decision, now=now)
    if patch is None:
        return None
    namespace, name = store.key_of(body)
    call = client.patch_status(api.PIPELINERUNS, namespace=namespace, name=name, patch=patch)
    response = await api.unless_gone(call, on_gone=on_gone)
    if response is not None:
        response.setdefault("apiVersion", f"{api.PIPELINERUNS.group}/{api.PIPELINERUNS.version}")
        response.setdefault("kind", "PipelineRun")
    return response


def record(*, before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[lifecycle.Event, ...]:
    """Metrics and a log line for what changed; the Event of a run's change of state."""
    md = after.get("metadata") or {}
    namespace = str(md.get("namespace") or "")
    old, new = before.get("status") or {}, after.get("status") or {}
    old_steps = {s.get("name"): s.get("state") for s in old.get("steps") or ()}
    for step in new.get("steps") or ():
        if step.get("state") != old_steps.get(step.get("name"), "Pending"):
            metrics.STEP_TRANSITIONS.labels(namespace, str(step.get("state"))).inc()
    if (old.get("state"), old.get("reason")) == (new.get("state"), new.get("reason")):
        return ()
    state = str(new.get("state") or "")
    logger.info(
        "pipelinerun %s/%s %s/%s -> %s/%s: %s",
        namespace,
        md.get("name"),
        old.get("state"),
        old.get("reason"),
        state,
        new.get("reason"),
        new.get("message"),
        extra={"namespace": namespace, "pipelinerun": md.get("name"), "state": state},
    )
    started = model.parse_time(new.get("startedAt"))
    finished = model.parse_time(new.get("finishedAt"))
    if started is not None and finished is not None and not old.get("finishedAt"):
        seconds = max((finished - started).total_seconds(), 0.0)
        metrics.RUN_DURATION.labels(namespace, state).observe(seconds)
    kind: Any = "Warning" if state in ("FAILED", "REVOKED") else "Normal"
    reason = str(new.get("reason") or state or "Changed")
    message = f"{state}: {new.get('message') or ''}".rstrip(": ")
    return (lifecycle.Event(type=kind, reason=reason, message=message),)
