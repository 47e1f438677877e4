"""`conveyor why`: the full diagnosis of one PipelineJob — its state and reason
in words, the facts behind them (queue position, slot holders, Worker health,
the pod's waiting reason, retry time, operator heartbeat), its recent Events,
and what the user can do about it.

Pure: no I/O; takes API bodies as plain mappings and `now`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model, queue
from conveyor.presentation import evidence, explain, humanize, shared

Reason = model.Reason

# The names the CLI and its tests use, defined in the modules beside this one.
Level = shared.Level
Fact = shared.Fact
PodState = shared.PodState
EventLine = evidence.EventLine
STALE_HEARTBEAT = shared.STALE_HEARTBEAT
UNSEEN_GRACE = shared.UNSEEN_GRACE
pod_state = evidence.pod_state
recent_events = evidence.recent_events


@dataclasses.dataclass(frozen=True, kw_only=True)
class Diagnosis:
    namespace: str
    name: str
    state: str
    reason: str
    summary: str  # the state and reason in words
    facts: tuple[shared.Fact, ...] = ()
    events: tuple[evidence.EventLine, ...] = ()
    actions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
    situation = shared.Situation(
        job=pj,
        jobs=parsed_jobs,
        workers=parsed_workers,
        worker=worker,
        worker_name=worker_name,
        pod=evidence.pod_state(pods),
        now=now,
    )
    status = pj.status
    explainer = explain.BY_REASON.get(str(status.reason or ""), explain.other)
    if status.state is None:
        explainer = explain.unseen
    parts = explainer(situation)
    facts = [*_basics(situation), *parts.facts]
    actions = list(parts.actions)
    if status.state is not None and not status.state.finished:
        _unfinished(situation, facts=facts, actions=actions)
    return Diagnosis(
        namespace=pj.meta.namespace,
        name=pj.meta.name,
        state=str(status.state) if status.state else "-",
        reason=str(status.reason or ""),
        summary=parts.summary,
        facts=tuple(facts),
        events=tuple(evidence.recent_events(events=events, job=job, now=now)),
        actions=tuple(actions),
    )


def _unfinished(s: shared.Situation, *, facts: list[shared.Fact], actions: list[str]) -> None:
    """What else matters while a job is not finished: its Worker, the operator."""
    facts += _worker_facts(s)
    actions += _unhealthy_worker(s)
    operator = _operator_health(s)
    if operator is not None:
        facts.append(operator)
        if operator.level is shared.Level.WARNING:
            actions.insert(0, _OPERATOR_DOWN_ACTION)
    if s.job.spec is not None and s.job.spec.revoke:
        facts.append(
            shared.Fact(
                label="Revoke",
                text="spec.revoke is set; the operator has not acted on it yet",
                level=shared.Level.WARNING,
            )
        )


_OPERATOR_DOWN_ACTION = (
    "the operator seems down: check that the conveyor operator runs "
    "(its pod and logs) and watches this namespace"
)


def _basics(s: shared.Situation) -> list[shared.Fact]:
    status = s.job.status
    facts: list[shared.Fact] = []
    if status.message:
        facts.append(shared.Fact(label="Message", text=status.message))
    when = [f"created {humanize.age(s.job.meta.created_at, now=s.now)} ago"]
    started = model.parse_time(status.started_at)
    finished = model.parse_time(status.finished_at)
    if started is not None:
        when.append(f"started {humanize.age(started, now=s.now)} ago")
    if finished is not None:
        took = humanize.between(started, finished, now=s.now)
        after = f" after {took}" if started is not None else ""
        when.append(f"finished {humanize.age(finished, now=s.now)} ago{after}")
    facts.append(shared.Fact(label="Timeline", text=", ".join(when)))
    if status.attempt:
        of = f" of {s.attempts}" if s.attempts else ""
        facts.append(shared.Fact(label="Attempt", text=f"{status.attempt}{of} (Job {status.job})"))
    return facts


def _worker_facts(s: shared.Situation) -> list[shared.Fact]:
    if s.worker is None:
        return []
    spec = s.worker.get("spec") or {}
    st = s.worker.get("status") or {}
    state = st.get("state")
    head = f"{s.worker_name} (type {spec.get('type')}, concurrency {spec.get('concurrency', 1)})"
    if not state:
        return [
            shared.Fact(label="Worker", text=f"{head}: no status yet", level=shared.Level.WARNING)
        ]
    text = f"{head}: {state}"
    if st.get("reason") and state != model.WorkerState.ONLINE:
        text += f" ({st['reason']})"
    if st.get("message"):
        text += f" — {st['message']}"
    healthy = state == model.WorkerState.ONLINE
    return [
        shared.Fact(
            label="Worker", text=text, level=shared.Level.INFO if healthy else shared.Level.WARNING
        )
    ]


def _unhealthy_worker(s: shared.Situation) -> list[str]:
    """What to do about a DEGRADED or OFFLINE Worker, unless the reason said it already."""
    st = (s.worker or {}).get("status") or {}
    unhealthy = st.get("state") in (model.WorkerState.DEGRADED, model.WorkerState.OFFLINE)
    if not unhealthy or s.job.status.reason == Reason.WORKER_OFFLINE:
        return []
    return list(shared.fix_worker(s, reason=st.get("reason")))


def _operator_health(s: shared.Situation) -> shared.Fact | None:
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
        if s.now - oldest < shared.UNSEEN_GRACE:
            return None
        return shared.Fact(
            label="Operator",
            text=f"no heartbeat on Worker {candidates[0].meta.name}: "
            "the operator has never written its status",
            level=shared.Level.WARNING,
        )
    when, name = max(seen)
    ago = humanize.age(when, now=s.now)
    if s.now - when > shared.STALE_HEARTBEAT:
        return shared.Fact(
            label="Operator",
            text=f"last heartbeat {ago} ago on Worker {name}: the operator seems down",
            level=shared.Level.WARNING,
        )
    return shared.Fact(label="Operator", text=f"heartbeat {ago} ago on Worker {name}")
