"""`conveyor why`: the full diagnosis of one PipelineJob — its state and reason
in words, the facts behind them (queue position, slot holders, Worker health,
the pod's waiting reason, retry time, operator heartbeat), its recent Events,
and what the user can do about it.

Pure: no I/O; takes API bodies as plain mappings and `now`.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from conveyor.core import humanize, model, names, queue, scheduling

Reason = model.Reason

# The operator refreshes each Worker's heartbeat every 30 seconds or so.
STALE_HEARTBEAT = datetime.timedelta(minutes=2)
# A job the operator has not written a status on after this long is a sign too.
UNSEEN_GRACE = datetime.timedelta(seconds=30)
MAX_EVENTS = 10
MAX_HOLDERS = 10

IMAGE_PROBLEMS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
)
CONFIG_PROBLEMS = frozenset({"CreateContainerConfigError", "CreateContainerError"})


class Level(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fact:
    label: str
    text: str
    level: Level = Level.INFO


@dataclasses.dataclass(frozen=True, kw_only=True)
class EventLine:
    age: str
    type: str
    reason: str
    message: str
    count: int = 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class Diagnosis:
    namespace: str
    name: str
    state: str
    reason: str
    summary: str  # the state and reason in words
    facts: tuple[Fact, ...] = ()
    events: tuple[EventLine, ...] = ()
    actions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PodState:
    """What the latest pod of the current attempt is doing."""

    name: str
    phase: str
    waiting_reason: str | None = None
    waiting_message: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Situation:
    job: model.PipelineJob
    jobs: Sequence[model.PipelineJob]
    workers: Sequence[model.Worker]
    worker: Mapping[str, Any] | None  # the body of the job's Worker, when it exists
    worker_name: str | None
    pod: PodState | None
    now: datetime.datetime

    @property
    def name(self) -> str:
        return self.job.meta.name

    @property
    def namespace(self) -> str:
        return self.job.meta.namespace

    @property
    def worker_type(self) -> str | None:
        spec = self.job.spec
        kind = model.WORKER_TYPE_OF[spec.type] if spec else None
        return str(kind) if kind else None

    @property
    def attempts(self) -> int | None:
        return self.job.spec.retry.limit + 1 if self.job.spec else None

    def patch_worker(self, patch: str) -> str:
        return f"kubectl patch wk {self.worker_name} -n {self.namespace} --type merge -p '{patch}'"


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Parts:
    summary: str
    facts: tuple[Fact, ...] = ()
    actions: tuple[str, ...] = ()


def diagnose(
    *,
    job: Mapping[str, Any],
    jobs: Sequence[Mapping[str, Any]],
    workers: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> Diagnosis:
    """Diagnose `job`, given its namespace's PipelineJobs and Workers, the pods
    of its current attempt's Job and the Events in its namespace."""
    pj = model.parse_pipelinejob(job)
    parsed_jobs = [model.parse_pipelinejob(b) for b in jobs]
    if pj.key not in {j.key for j in parsed_jobs}:
        parsed_jobs.append(pj)
    parsed_workers = [model.parse_worker(b) for b in workers]
    worker_name = queue.worker_of(job=pj, workers=parsed_workers)
    worker = next(
        (
            w
            for w in workers
            if (w.get("metadata") or {}).get("name") == worker_name
            and (w.get("metadata") or {}).get("namespace", pj.meta.namespace) == pj.meta.namespace
        ),
        None,
    )
    situation = _Situation(
        job=pj,
        jobs=parsed_jobs,
        workers=parsed_workers,
        worker=worker,
        worker_name=worker_name,
        pod=pod_state(pods),
        now=now,
    )
    status = pj.status
    explain = _BY_REASON.get(str(status.reason or ""), _other)
    if status.state is None:
        explain = _unseen
    parts = explain(situation)
    facts = [*_basics(situation), *parts.facts]
    actions = list(parts.actions)
    if status.state is not None and not status.state.finished:
        facts += _worker_facts(situation)
        actions += _unhealthy_worker(situation)
        operator = _operator_health(situation)
        if operator is not None:
            facts.append(operator)
            if operator.level is Level.WARNING:
                actions.insert(0, _OPERATOR_DOWN_ACTION)
        if pj.spec is not None and pj.spec.revoke:
            facts.append(
                Fact(
                    label="Revoke",
                    text="spec.revoke is set; the operator has not acted on it yet",
                    level=Level.WARNING,
                )
            )
    return Diagnosis(
        namespace=pj.meta.namespace,
        name=pj.meta.name,
        state=str(status.state) if status.state else "-",
        reason=str(status.reason or ""),
        summary=parts.summary,
        facts=tuple(facts),
        events=tuple(recent_events(events=events, job=job, now=now)),
        actions=tuple(actions),
    )


_OPERATOR_DOWN_ACTION = (
    "the operator seems down: check that the conveyor operator runs "
    "(its pod and logs) and watches this namespace"
)


# -- facts every job has ---------------------------------------------------------------


def _basics(s: _Situation) -> list[Fact]:
    status = s.job.status
    facts: list[Fact] = []
    if status.message:
        facts.append(Fact(label="Message", text=status.message))
    when = [f"created {humanize.age(s.job.meta.created_at, now=s.now)} ago"]
    started = model.parse_time(status.started_at)
    finished = model.parse_time(status.finished_at)
    if started is not None:
        when.append(f"started {humanize.age(started, now=s.now)} ago")
    if finished is not None:
        took = humanize.between(started, finished, now=s.now)
        after = f" after {took}" if started is not None else ""
        when.append(f"finished {humanize.age(finished, now=s.now)} ago{after}")
    facts.append(Fact(label="Timeline", text=", ".join(when)))
    if status.attempt:
        of = f" of {s.attempts}" if s.attempts else ""
        facts.append(Fact(label="Attempt", text=f"{status.attempt}{of} (Job {status.job})"))
    return facts


def _worker_facts(s: _Situation) -> list[Fact]:
    if s.worker is None:
        return []
    spec = s.worker.get("spec") or {}
    st = s.worker.get("status") or {}
    state = st.get("state")
    head = f"{s.worker_name} (type {spec.get('type')}, concurrency {spec.get('concurrency', 1)})"
    if not state:
        return [Fact(label="Worker", text=f"{head}: no status yet", level=Level.WARNING)]
    text = f"{head}: {state}"
    if st.get("reason") and state != model.WorkerState.ONLINE:
        text += f" ({st['reason']})"
    if st.get("message"):
        text += f" — {st['message']}"
    healthy = state == model.WorkerState.ONLINE
    return [Fact(label="Worker", text=text, level=Level.INFO if healthy else Level.WARNING)]


def _unhealthy_worker(s: _Situation) -> list[str]:
    """What to do about a DEGRADED or OFFLINE Worker, unless the reason said it already."""
    st = (s.worker or {}).get("status") or {}
    unhealthy = st.get("state") in (model.WorkerState.DEGRADED, model.WorkerState.OFFLINE)
    if not unhealthy or s.job.status.reason == Reason.WORKER_OFFLINE:
        return []
    cause = " ".join(str(st.get(k) or "") for k in ("reason", "message"))
    return list(_fix_worker(s, cause=cause))


def _operator_health(s: _Situation) -> Fact | None:
    """The operator's heartbeat on the job's Worker (else the freshest in the namespace)."""
    candidates = [w for w in s.workers if w.meta.namespace == s.namespace]
    if s.worker_name is not None:
        candidates = [w for w in candidates if w.meta.name == s.worker_name] or candidates
    if not candidates:
        return None
    beats = [(model.parse_time(w.last_heartbeat), w.meta.name) for w in candidates]
    seen = [(t, n) for t, n in beats if t is not None]
    if not seen:
        oldest = min(w.meta.created_at for w in candidates)
        if s.now - oldest < UNSEEN_GRACE:
            return None
        return Fact(
            label="Operator",
            text=f"no heartbeat on Worker {candidates[0].meta.name}: "
            "the operator has never written its status",
            level=Level.WARNING,
        )
    when, name = max(seen)
    ago = humanize.age(when, now=s.now)
    if s.now - when > STALE_HEARTBEAT:
        return Fact(
            label="Operator",
            text=f"last heartbeat {ago} ago on Worker {name}: the operator seems down",
            level=Level.WARNING,
        )
    return Fact(label="Operator", text=f"heartbeat {ago} ago on Worker {name}")


# -- per reason ------------------------------------------------------------------------


def _unseen(s: _Situation) -> _Parts:
    age = s.now - s.job.meta.created_at
    if age < UNSEEN_GRACE:
        return _Parts(
            summary="new: the operator has not picked it up yet",
            actions=("wait a moment: the operator queues new jobs within seconds",),
        )
    return _Parts(
        summary="not picked up by the operator",
        facts=(
            Fact(
                label="Operator",
                text=f"no status written in {humanize.duration(age)}",
                level=Level.WARNING,
            ),
        ),
        actions=(
            f"the operator seems down or does not watch namespace {s.namespace}: "
            "check that the conveyor operator runs and its logs",
        ),
    )


def _queued(s: _Situation) -> _Parts:
    return _Parts(
        summary="queued: waiting for the operator to schedule it",
        facts=tuple(_queue_facts(s)),
        actions=("wait: the operator schedules queued jobs within seconds",),
    )


def _no_worker(s: _Situation) -> _Parts:
    kind = s.worker_type or "?"
    spec = s.job.spec
    live = [w for w in s.workers if w.meta.namespace == s.namespace and not w.meta.deleting]
    resolved = scheduling.resolve_worker(job=s.job, workers=live) if spec is not None else None
    facts: list[Fact] = []
    if isinstance(resolved, scheduling.Waiting) and resolved.message != s.job.status.message:
        facts.append(Fact(label="Now", text=resolved.message))
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
    return _Parts(summary="no Worker can run it", facts=tuple(facts), actions=tuple(actions))


def _worker_manifest(s: _Situation, *, name: str, kind: str) -> str:
    """A one-line shell command that creates the Worker."""
    body = {
        "apiVersion": names.GROUP_VERSION,
        "kind": "Worker",
        "metadata": {"name": name},
        "spec": {"type": kind, "concurrency": 1},
    }
    return f"echo '{json.dumps(body, separators=(',', ':'))}' | kubectl apply -n {s.namespace} -f -"


def _paused(s: _Situation) -> _Parts:
    return _Parts(
        summary=f"its Worker {s.worker_name} is paused",
        facts=tuple(_queue_facts(s)),
        actions=(f"""resume the Worker: {s.patch_worker('{"spec":{"paused":false}}')}""",),
    )


def _offline(s: _Situation) -> _Parts:
    st = (s.worker or {}).get("status") or {}
    cause = " ".join(str(st.get(k) or "") for k in ("reason", "message")).strip()
    return _Parts(
        summary=f"its Worker {s.worker_name} is offline",
        facts=tuple(_queue_facts(s)),
        actions=(
            *_fix_worker(s, cause=cause or s.job.status.message or ""),
            f"the Worker comes back ONLINE by itself once the cause is gone "
            f"(kubectl describe wk {s.worker_name} -n {s.namespace})",
        ),
    )


def _fix_worker(s: _Situation, *, cause: str) -> tuple[str, ...]:
    """What to do about a Worker whose pods cannot start, from the cause's words."""
    edit = f"kubectl edit wk {s.worker_name} -n {s.namespace}"
    if any(word in cause for word in (*IMAGE_PROBLEMS, "image", "Image")):
        return (f"fix the image in the Worker's template (spec.template): {edit}",)
    if "Unschedulable" in cause or "schedul" in cause:
        return (
            "no node can take its pods: free capacity, or fix resources, nodeSelector or "
            f"tolerations in the Worker's template: {edit}",
        )
    if any(word in cause for word in ("ContainerConfig", "CreateContainer", "Secret", "ConfigMap")):
        return (
            "create the Secrets and ConfigMaps its pods refer to, or fix the references "
            f"in the Worker's template: {edit}",
        )
    return (f"fix what the Worker's status names: {edit}",)


def _concurrency(s: _Situation) -> _Parts:
    facts = _queue_facts(s)
    spec = _worker_spec(s)
    limit = spec.concurrency if spec is not None else None
    raise_to = json.dumps({"spec": {"concurrency": (limit or 0) + 1}}, separators=(",", ":"))
    position = _position(s)
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
    return _Parts(
        summary=f"waiting for a free slot on Worker {s.worker_name}",
        facts=tuple(facts),
        actions=tuple(actions),
    )


def _delayed(s: _Situation) -> _Parts:
    start = s.job.spec.start_at if s.job.spec else None
    facts = []
    if start is not None:
        facts.append(
            Fact(
                label="Start",
                text=f"{model.format_time(start)} ({humanize.until(start, now=s.now)})",
            )
        )
    return _Parts(
        summary="waiting for its start time (spec.startAt)",
        facts=tuple(facts),
        actions=(
            "nothing to do: it joins the queue by itself at that time",
            f"or stop it: conveyor revoke {s.name} -n {s.namespace}",
        ),
    )


def _retry_backoff(s: _Situation) -> _Parts:
    status = s.job.status
    facts = list(_attempt_facts(s))
    next_at = model.parse_time(status.next_attempt_at)
    when = "soon"
    if next_at is not None:
        when = f"at {model.format_time(next_at)} ({humanize.until(next_at, now=s.now)})"
        facts.append(Fact(label="Next attempt", text=when))
    return _Parts(
        summary="waiting to retry after a failed attempt",
        facts=tuple(facts),
        actions=(
            f"wait: attempt {status.attempt + 1} starts {when}",
            f"see why attempt {status.attempt} failed: "
            f"conveyor logs {s.name} -n {s.namespace} --attempt {status.attempt}",
            f"or stop retrying: conveyor revoke {s.name} -n {s.namespace}",
        ),
    )


def _starting(s: _Situation) -> _Parts:
    pod = s.pod
    job = s.job.status.job
    facts: list[Fact] = []
    if pod is None:
        facts.append(Fact(label="Pod", text=f"none yet for Job {job}"))
        actions = [
            f"wait: the Job controller creates the pod (kubectl describe job {job} "
            f"-n {s.namespace})"
        ]
        return _Parts(
            summary="admitted; waiting for its pod", facts=tuple(facts), actions=tuple(actions)
        )
    waiting = pod.waiting_reason
    detail = f": {pod.waiting_message}" if pod.waiting_message else ""
    text = f"{pod.name} {pod.phase}" + (f", {waiting}{detail}" if waiting else "")
    level = Level.WARNING if waiting and waiting != "ContainerCreating" else Level.INFO
    facts.append(Fact(label="Pod", text=text, level=level))
    describe = f"kubectl describe pod {pod.name} -n {s.namespace}"
    if waiting in IMAGE_PROBLEMS:
        actions = [
            f"fix the image in the Worker {s.worker_name} template (spec.template) or in the "
            f"job's params/podTemplate: kubectl edit wk {s.worker_name} -n {s.namespace}"
        ]
    elif waiting in CONFIG_PROBLEMS:
        actions = [f"fix the Secrets, ConfigMaps or env the pod refers to ({describe})"]
    elif waiting == "Unschedulable":
        actions = [
            "no node can take the pod: free capacity, or fix resources, nodeSelector or "
            f"tolerations in the Worker {s.worker_name} template ({describe})"
        ]
    else:
        actions = [f"wait: the pod is starting ({describe})"]
    return _Parts(
        summary="admitted; waiting for its pod to start", facts=tuple(facts), actions=tuple(actions)
    )


def _running(s: _Situation) -> _Parts:
    status = s.job.status
    facts: list[Fact] = []
    if s.pod is not None:
        facts.append(Fact(label="Pod", text=f"{s.pod.name} {s.pod.phase}"))
    if s.job.spec is not None and s.job.spec.timeout is not None:
        facts.append(
            Fact(label="Timeout", text=f"{humanize.duration(s.job.spec.timeout)} per attempt")
        )
    return _Parts(
        summary=f"running (attempt {status.attempt} of {s.attempts or '?'})",
        facts=tuple(facts),
        actions=(
            f"follow its logs: conveyor logs {s.name} -n {s.namespace} -f",
            f"stop it: conveyor revoke {s.name} -n {s.namespace}",
        ),
    )


def _succeeded(s: _Situation) -> _Parts:
    facts = list(_attempt_facts(s, failures_only=True))
    if s.job.status.outputs:
        outputs = json.dumps(dict(s.job.status.outputs), sort_keys=True)
        facts.append(Fact(label="Outputs", text=outputs))
    return _Parts(
        summary="finished successfully",
        facts=tuple(facts),
        actions=(f"run it again: conveyor rerun {s.name} -n {s.namespace}",),
    )


def _failed(s: _Situation) -> _Parts:
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
    return _Parts(
        summary=words.get(str(status.reason), "failed"),
        facts=tuple(_attempt_facts(s)),
        actions=tuple(actions),
    )


def _invalid(s: _Situation) -> _Parts:
    return _Parts(
        summary="refused: its spec is invalid",
        actions=(
            "fix the field the message names in the PipelineJob's manifest and create it "
            "again (delete this one, or apply it under a new name)",
        ),
    )


def _revoked(s: _Situation) -> _Parts:
    return _Parts(
        summary="revoked (spec.revoke)",
        facts=tuple(_attempt_facts(s)),
        actions=(f"run it again: conveyor rerun {s.name} -n {s.namespace}",),
    )


def _other(s: _Situation) -> _Parts:
    status = s.job.status
    return _Parts(
        summary=f"{status.state} ({status.reason or 'no reason'})",
        actions=(f"kubectl describe pj {s.name} -n {s.namespace}",),
    )


_BY_REASON: Mapping[str, Callable[[_Situation], _Parts]] = {
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


# -- shared pieces ---------------------------------------------------------------------


def _position(s: _Situation) -> queue.Position | None:
    return queue.positions(jobs=s.jobs, workers=s.workers).get(s.job.key)


def _worker_spec(s: _Situation) -> model.WorkerSpec | None:
    return next(
        (
            w.spec
            for w in s.workers
            if w.meta.key == (s.namespace, s.worker_name) and w.spec is not None
        ),
        None,
    )


def _queue_facts(s: _Situation) -> list[Fact]:
    facts: list[Fact] = []
    position = _position(s)
    if position is not None:
        facts.append(
            Fact(
                label="Queue",
                text=f"position {position.position} of {position.of} "
                f"in the queue of Worker {position.worker}",
            )
        )
    if s.worker_name is None:
        return facts
    held = queue.holders(jobs=s.jobs, namespace=s.namespace, worker=s.worker_name)
    spec = _worker_spec(s)
    limit = f" of {spec.concurrency}" if spec is not None else ""
    if not held:
        facts.append(Fact(label="Slots", text=f"0{limit} busy"))
        return facts
    names = [_holder(j, now=s.now) for j in held[:MAX_HOLDERS]]
    if len(held) > MAX_HOLDERS:
        names.append(f"+{len(held) - MAX_HOLDERS} more")
    facts.append(Fact(label="Slots", text=f"{len(held)}{limit} busy, held by {', '.join(names)}"))
    return facts


def _holder(job: model.PipelineJob, *, now: datetime.datetime) -> str:
    status = job.status
    what = "starting" if status.reason == Reason.STARTING else "running"
    since = model.parse_time(status.started_at)
    took = f" for {humanize.age(since, now=now)}" if since is not None else ""
    return f"{job.meta.name} ({what}{took})"


def _attempt_facts(s: _Situation, *, failures_only: bool = False) -> list[Fact]:
    facts = []
    for a in s.job.status.attempts:
        if failures_only and a.result == model.State.SUCCESS:
            continue
        parts = [a.result or "running"]
        if a.reason:
            parts.append(a.reason)
        if a.exit_code is not None:
            parts.append(f"exit code {a.exit_code}")
        text = f"{', '.join(parts)} (Job {a.job})"
        if a.message:
            text += f": {a.message}"
        facts.append(Fact(label=f"Attempt {a.attempt}", text=text))
    return facts


def pod_state(pods: Sequence[Mapping[str, Any]]) -> PodState | None:
    """The latest pod's phase and, while it is not running, why."""
    if not pods:
        return None
    pod = max(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
    status = pod.get("status") or {}
    name = str((pod.get("metadata") or {}).get("name") or "")
    phase = str(status.get("phase") or "Pending")
    for container in status.get("containerStatuses") or ():
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            return PodState(
                name=name,
                phase=phase,
                waiting_reason=waiting["reason"],
                waiting_message=waiting.get("message"),
            )
    for cond in status.get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return PodState(
                name=name,
                phase=phase,
                waiting_reason=cond.get("reason") or "Unschedulable",
                waiting_message=cond.get("message"),
            )
    return PodState(name=name, phase=phase)


def recent_events(
    *, events: Sequence[Mapping[str, Any]], job: Mapping[str, Any], now: datetime.datetime
) -> list[EventLine]:
    """The job's latest Events, oldest first; repeats in a row are counted once."""
    md = job.get("metadata") or {}
    mine = []
    for event in events:
        involved = event.get("involvedObject") or {}
        if involved.get("name") != md.get("name"):
            continue
        if involved.get("kind") not in (None, "PipelineJob"):
            continue
        if involved.get("uid") and md.get("uid") and involved["uid"] != md["uid"]:
            continue  # an earlier object of the same name
        mine.append((_event_time(event), _revision(event), event))
    mine.sort(key=lambda item: (item[0] or model.EPOCH, item[1]))
    lines: list[EventLine] = []
    for when, _, event in mine:
        line = EventLine(
            age=humanize.age(when, now=now),
            type=str(event.get("type") or ""),
            reason=str(event.get("reason") or ""),
            message=str(event.get("message") or ""),
            count=int(event.get("count") or 1),
        )
        last = lines[-1] if lines else None
        if last is not None and (last.type, last.reason, last.message) == (
            line.type,
            line.reason,
            line.message,
        ):
            line = dataclasses.replace(line, count=last.count + line.count)
            lines.pop()
        lines.append(line)
    return lines[-MAX_EVENTS:]


def _revision(event: Mapping[str, Any]) -> int:
    """Orders Events written in the same second (their resourceVersion grows)."""
    version = str((event.get("metadata") or {}).get("resourceVersion") or "")
    return int(version) if version.isdigit() else 0


def _event_time(event: Mapping[str, Any]) -> datetime.datetime | None:
    for text in (
        event.get("lastTimestamp"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        (event.get("metadata") or {}).get("creationTimestamp"),
    ):
        when = model.parse_time(text) if isinstance(text, str) else None
        if when is not None:
            return when
    return None
