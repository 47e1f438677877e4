"""`conveyor why`, one explanation per reason: the summary in words, the
facts behind it and what the user can do.

Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from conveyor.core import health, model, names, queue, scheduling
from conveyor.presentation import humanize, shared

Reason = model.Reason


def unseen(s: shared.Situation) -> shared.Parts:
    age = s.now - s.job.meta.created_at
    if age < shared.UNSEEN_GRACE:
        return shared.Parts(
            summary="new: the operator has not picked it up yet",
            actions=("wait a moment: the operator queues new jobs within seconds",),
        )
    return shared.Parts(
        summary="not picked up by the operator",
        facts=(
            shared.Fact(
                label="Operator",
                text=f"no status written in {humanize.duration(age)}",
                level=shared.Level.WARNING,
            ),
        ),
        actions=(
            f"the operator seems down or does not watch namespace {s.namespace}: "
            "check that the conveyor operator runs and its logs",
        ),
    )


def _queued(s: shared.Situation) -> shared.Parts:
    return shared.Parts(
        summary="queued: waiting for the operator to schedule it",
        facts=tuple(shared.queue_facts(s)),
        actions=("wait: the operator schedules queued jobs within seconds",),
    )


def _no_worker(s: shared.Situation) -> shared.Parts:
    kind = s.worker_type or "?"
    spec = s.job.spec
    live = [w for w in s.workers if w.meta.namespace == s.namespace and not w.meta.deleting]
    resolved = scheduling.resolve_worker(job=s.job, workers=live) if spec is not None else None
    facts: list[shared.Fact] = []
    if isinstance(resolved, scheduling.Waiting) and resolved.message != s.job.status.message:
        facts.append(shared.Fact(label="Now", text=resolved.message))
    named = spec.worker if spec is not None else None
    if isinstance(resolved, model.Worker):
        actions = [f"wait: Worker {resolved.meta.name} exists now; the operator picks it up"]
    elif named and not any(w.meta.name == named for w in live):
        actions = [
            f"create Worker {named} of type {kind}: {_worker_manifest(s, name=named, kind=kind)}",
            f"or remove spec.worker to use the namespace's {kind} Worker",
        ]
    elif named:
        actions = [f"set spec.worker to a Worker of type {kind}, or remove it"]
    else:
        matching = sorted(w.meta.name for w in live if w.spec and w.spec.type == kind)
        if len(matching) > 1:
            actions = [f"set spec.worker to one of: {', '.join(matching)}"]
        else:
            actions = [
                f"create a Worker of type {kind}: {_worker_manifest(s, name=kind, kind=kind)}"
            ]
    return shared.Parts(summary="no Worker can run it", facts=tuple(facts), actions=tuple(actions))


def _worker_manifest(s: shared.Situation, *, name: str, kind: str) -> str:
    """A one-line shell command that creates the Worker."""
    body = {
        "apiVersion": names.GROUP_VERSION,
        "kind": "Worker",
        "metadata": {"name": name},
        "spec": {"type": kind, "concurrency": 1},
    }
    return f"echo '{json.dumps(body, separators=(',', ':'))}' | kubectl apply -n {s.namespace} -f -"


def _paused(s: shared.Situation) -> shared.Parts:
    return shared.Parts(
        summary=f"its Worker {s.worker_name} is paused",
        facts=tuple(shared.queue_facts(s)),
        actions=(f"""resume the Worker: {s.patch_worker('{"spec":{"paused":false}}')}""",),
    )


def _offline(s: shared.Situation) -> shared.Parts:
    st = (s.worker or {}).get("status") or {}
    return shared.Parts(
        summary=f"its Worker {s.worker_name} is offline",
        facts=tuple(shared.queue_facts(s)),
        actions=(
            *shared.fix_worker(s, reason=st.get("reason")),
            f"the Worker comes back ONLINE by itself once the cause is gone "
            f"(kubectl describe wk {s.worker_name} -n {s.namespace})",
        ),
    )


def _concurrency(s: shared.Situation) -> shared.Parts:
    facts = shared.queue_facts(s)
    spec = shared.worker_spec(s)
    limit = spec.concurrency if spec is not None else None
    raise_to = json.dumps({"spec": {"concurrency": (limit or 0) + 1}}, separators=(",", ":"))
    position = shared.queue_position(s)
    if limit == 0:
        actions = [
            f"the Worker is on hold (concurrency 0): raise it: {s.patch_worker(raise_to)}",
        ]
    else:
        ahead = position.position - 1 if position else 0
        holders = queue.holders(jobs=s.jobs, namespace=s.namespace, worker=s.worker_name or "")
        actions = [
            f"wait: {ahead} job(s) ahead of it, {len(holders)} running; "
            "it starts when a slot frees up",
            f"or raise the Worker's concurrency: {s.patch_worker(raise_to)}",
        ]
        if ahead:
            actions.append("or give it a higher spec.priority (higher runs first)")
    return shared.Parts(
        summary=f"waiting for a free slot on Worker {s.worker_name}",
        facts=tuple(facts),
        actions=tuple(actions),
    )


def _delayed(s: shared.Situation) -> shared.Parts:
    start = s.job.spec.start_at if s.job.spec else None
    facts = []
    if start is not None:
        facts.append(
            shared.Fact(
                label="Start",
                text=f"{model.format_time(start)} ({humanize.until(start, now=s.now)})",
            )
        )
    return shared.Parts(
        summary="waiting for its start time (spec.startAt)",
        facts=tuple(facts),
        actions=(
            "nothing to do: it joins the queue by itself at that time",
            f"or stop it: conveyor revoke {s.name} -n {s.namespace}",
        ),
    )


def _retry_backoff(s: shared.Situation) -> shared.Parts:
    status = s.job.status
    facts = list(shared.attempt_facts(s))
    next_at = model.parse_time(status.next_attempt_at)
    when = "soon"
    if next_at is not None:
        when = f"at {model.format_time(next_at)} ({humanize.until(next_at, now=s.now)})"
        facts.append(shared.Fact(label="Next attempt", text=when))
    return shared.Parts(
        summary="waiting to retry after a failed attempt",
        facts=tuple(facts),
        actions=(
            f"wait: attempt {status.attempt + 1} starts {when}",
            f"see why attempt {status.attempt} failed: "
            f"conveyor logs {s.name} -n {s.namespace} --attempt {status.attempt}",
            f"or stop retrying: conveyor revoke {s.name} -n {s.namespace}",
        ),
    )


def _starting(s: shared.Situation) -> shared.Parts:
    pod = s.pod
    job = s.job.status.job
    facts: list[shared.Fact] = []
    if pod is None:
        facts.append(shared.Fact(label="Pod", text=f"none yet for Job {job}"))
        actions = [
            f"wait: the Job controller creates the pod (kubectl describe job {job} "
            f"-n {s.namespace})"
        ]
        return shared.Parts(
            summary="admitted; waiting for its pod", facts=tuple(facts), actions=tuple(actions)
        )
    waiting = pod.waiting_reason
    detail = f": {pod.waiting_message}" if pod.waiting_message else ""
    text = f"{pod.name} {pod.phase}" + (f", {waiting}{detail}" if waiting else "")
    level = (
        shared.Level.WARNING if waiting and waiting != "ContainerCreating" else shared.Level.INFO
    )
    facts.append(shared.Fact(label="Pod", text=text, level=level))
    describe = f"kubectl describe pod {pod.name} -n {s.namespace}"
    kind = health.CannotStart.of(waiting)
    if kind is health.CannotStart.IMAGE_PULL:
        actions = [
            f"fix the image in the Worker {s.worker_name} template (spec.template) or in the "
            f"job's params/podTemplate: kubectl edit wk {s.worker_name} -n {s.namespace}"
        ]
    elif kind is health.CannotStart.CONTAINER_CONFIG:
        actions = [f"fix the Secrets, ConfigMaps or env the pod refers to ({describe})"]
    elif kind is health.CannotStart.UNSCHEDULABLE:
        actions = [
            "no node can take the pod: free capacity, or fix resources, nodeSelector or "
            f"tolerations in the Worker {s.worker_name} template ({describe})"
        ]
    else:
        actions = [f"wait: the pod is starting ({describe})"]
    return shared.Parts(
        summary="admitted; waiting for its pod to start", facts=tuple(facts), actions=tuple(actions)
    )


def _running(s: shared.Situation) -> shared.Parts:
    status = s.job.status
    facts: list[shared.Fact] = []
    if s.pod is not None:
        facts.append(shared.Fact(label="Pod", text=f"{s.pod.name} {s.pod.phase}"))
    if s.job.spec is not None and s.job.spec.timeout is not None:
        facts.append(
            shared.Fact(
                label="Timeout", text=f"{humanize.duration(s.job.spec.timeout)} per attempt"
            )
        )
    return shared.Parts(
        summary=f"running (attempt {status.attempt} of {s.attempts or '?'})",
        facts=tuple(facts),
        actions=(
            f"follow its logs: conveyor logs {s.name} -n {s.namespace} -f",
            f"stop it: conveyor revoke {s.name} -n {s.namespace}",
        ),
    )


def _succeeded(s: shared.Situation) -> shared.Parts:
    facts = list(shared.attempt_facts(s, failures_only=True))
    if s.job.status.outputs:
        outputs = json.dumps(dict(s.job.status.outputs), sort_keys=True)
        facts.append(shared.Fact(label="Outputs", text=outputs))
    return shared.Parts(
        summary="finished successfully",
        facts=tuple(facts),
        actions=(f"run it again: conveyor rerun {s.name} -n {s.namespace}",),
    )


def _failed(s: shared.Situation) -> shared.Parts:
    status = s.job.status
    words: Mapping[str, str] = {
        Reason.POD_FAILED: "failed: its pod failed",
        Reason.DEADLINE_EXCEEDED: "failed: it ran longer than its timeout",
        Reason.RETRIES_EXHAUSTED: "failed: every attempt failed",
        Reason.JOB_LOST: "failed: its Job disappeared",
    }
    actions = []
    if status.attempt:
        actions.append(
            f"see why: conveyor logs {s.name} -n {s.namespace} --attempt {status.attempt}"
        )
    spec = s.job.spec
    if status.reason == Reason.DEADLINE_EXCEEDED:
        now = f" (now {humanize.duration(spec.timeout)})" if spec and spec.timeout else ""
        actions.append(f"if it needs longer, raise spec.timeout{now}")
    if status.reason == Reason.RETRIES_EXHAUSTED:
        actions.append("if the failure is transient, allow more retries (spec.retry.limit)")
    actions.append(f"run it again: conveyor rerun {s.name} -n {s.namespace}")
    return shared.Parts(
        summary=words.get(str(status.reason), "failed"),
        facts=tuple(shared.attempt_facts(s)),
        actions=tuple(actions),
    )


def _invalid(s: shared.Situation) -> shared.Parts:
    return shared.Parts(
        summary="refused: its spec is invalid",
        actions=(
            "fix the field the message names in the PipelineJob's manifest and create it "
            "again (delete this one, or apply it under a new name)",
        ),
    )


def _revoked(s: shared.Situation) -> shared.Parts:
    return shared.Parts(
        summary="revoked (spec.revoke)",
        facts=tuple(shared.attempt_facts(s)),
        actions=(f"run it again: conveyor rerun {s.name} -n {s.namespace}",),
    )


def other(s: shared.Situation) -> shared.Parts:
    status = s.job.status
    return shared.Parts(
        summary=f"{status.state} ({status.reason or 'no reason'})",
        actions=(f"kubectl describe pj {s.name} -n {s.namespace}",),
    )


BY_REASON: Mapping[str, Callable[[shared.Situation], shared.Parts]] = {
    Reason.QUEUED: _queued,
    "": _queued,
    Reason.NO_WORKER: _no_worker,
    Reason.WORKER_PAUSED: _paused,
    Reason.WORKER_OFFLINE: _offline,
    Reason.CONCURRENCY_LIMIT: _concurrency,
    Reason.DELAYED: _delayed,
    Reason.RETRY_BACKOFF: _retry_backoff,
    Reason.STARTING: _starting,
    Reason.RUNNING: _running,
    Reason.SUCCEEDED: _succeeded,
    Reason.POD_FAILED: _failed,
    Reason.DEADLINE_EXCEEDED: _failed,
    Reason.RETRIES_EXHAUSTED: _failed,
    Reason.JOB_LOST: _failed,
    Reason.INVALID_SPEC: _invalid,
    Reason.REVOKED: _revoked,
}
