"""diagnosis: `conveyor why` — for every reason a job can be in, the words,
the facts behind them and what the user can do."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from conveyor.core import model, observe
from conveyor.presentation import diagnosis
from tests import builders as b

NOW = b.at(60)
FRESH = b.at(50)


def worker_status(
    state: str = "ONLINE",
    *,
    reason: str = "Ready",
    message: str = "1 of 1 slots busy, 1 queued",
    heartbeat: datetime.datetime = FRESH,
) -> dict[str, Any]:
    return {
        "state": state,
        "reason": reason,
        "message": message,
        "lastHeartbeat": b.ts(heartbeat),
    }


def worker(name: str = "build", namespace: str | None = None) -> b.Worker:
    return b.worker(name, namespace).status(worker_status()).concurrency(1)


def job(name: str = "j", namespace: str | None = None) -> b.PipelineJob:
    return b.pipelinejob(name, namespace)


HOLDER = (
    job("hold")
    .state("RUNNING")
    .reason("Running")
    .attempt(1)
    .assigned("build")
    .started_at(b.at(30))
    .served()
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    id: str
    job: dict[str, Any]
    summary: str
    facts: Sequence[str] = ()  # each in some "Label: text"
    actions: Sequence[str] = ()  # each in some action
    others: Sequence[dict[str, Any]] = ()
    workers: Sequence[dict[str, Any]] = (worker().served(),)
    pods: Sequence[dict[str, Any]] = ()
    no_actions: Sequence[str] = ()  # in none of the actions


def queued(reason: str) -> b.PipelineJob:
    return job().state("IN-QUEUE").reason(reason).assigned("build")


def starting() -> b.PipelineJob:
    return job().state("IN-QUEUE").reason("Starting").attempt(1).assigned("build")


def failed(reason: str) -> b.PipelineJob:
    return (
        job()
        .state("FAILED")
        .reason(reason)
        .attempt(1)
        .assigned("build")
        .started_at(b.at(10))
        .finished_at(b.at(40))
    )


CASES = [
    Case(
        id="Queued",
        job=queued("Queued").message("waiting to be scheduled").served(),
        summary="queued: waiting for the operator to schedule it",
        facts=["Message: waiting to be scheduled", "Queue: position 1 of 1"],
        actions=["wait: the operator schedules queued jobs"],
    ),
    Case(
        id="NoWorker: none of the type",
        job=queued("NoWorker").assigned(None).served(),
        workers=(),
        summary="no Worker can run it",
        actions=[
            'create a Worker of type build: echo \'{"apiVersion":"conveyor.dev/v1alpha1",'
            '"kind":"Worker","metadata":{"name":"build"},"spec":{"type":"build",'
            '"concurrency":1}}\' | kubectl apply -n team-a -f -'
        ],
    ),
    Case(
        id="NoWorker: the named one is missing",
        job=queued("NoWorker").assigned(None).worker("fast").served(),
        summary="no Worker can run it",
        actions=["create Worker fast of type build", "or remove spec.worker"],
    ),
    Case(
        id="NoWorker: the named one has another type",
        job=queued("NoWorker").assigned(None).worker("deploy").served(),
        workers=(worker().served(), worker("deploy").type("deploy").served()),
        summary="no Worker can run it",
        facts=["Now: Worker 'deploy' runs deploy jobs, but this job needs a build Worker"],
        actions=["set spec.worker to a Worker of type build, or remove it"],
    ),
    Case(
        id="NoWorker: several of the type",
        job=queued("NoWorker").assigned(None).served(),
        workers=(worker("green").served(), worker("blue").served()),
        summary="no Worker can run it",
        actions=["set spec.worker to one of: blue, green"],
    ),
    Case(
        id="NoWorker: the Worker exists now",
        job=queued("NoWorker").assigned(None).served(),
        summary="no Worker can run it",
        actions=["wait: Worker build exists now"],
    ),
    Case(
        id="WorkerPaused",
        job=queued("WorkerPaused").served(),
        workers=(worker().paused(True).status(worker_status("PAUSED", reason="Paused")).served(),),
        summary="its Worker build is paused",
        facts=["Worker: build (type build, concurrency 1): PAUSED (Paused)", "position 1 of 1"],
        actions=['kubectl patch wk build -n team-a --type merge -p \'{"spec":{"paused":false}}\''],
    ),
    Case(
        id="WorkerOffline: image",
        job=queued("WorkerOffline").served(),
        workers=(
            worker()
            .status(
                worker_status(
                    "OFFLINE",
                    reason="ImagePullFailing",
                    message="no pod can start: ImagePullBackOff (pod j-1-abcde)",
                )
            )
            .served(),
        ),
        summary="its Worker build is offline",
        facts=["Worker: build (type build, concurrency 1): OFFLINE (ImagePullFailing)"],
        actions=[
            "fix the image in the Worker's template (spec.template): kubectl edit wk build",
            "comes back ONLINE by itself",
        ],
    ),
    Case(
        id="WorkerOffline: unschedulable",
        job=queued("WorkerOffline").served(),
        workers=(
            worker()
            .status(worker_status("OFFLINE", reason="Unschedulable", message="0/3 nodes"))
            .served(),
        ),
        summary="its Worker build is offline",
        actions=["no node can take its pods"],
    ),
    Case(
        id="WorkerOffline: missing secret",
        job=queued("WorkerOffline").served(),
        workers=(
            worker()
            .status(
                worker_status(
                    "OFFLINE", reason="CreateContainerConfigError", message='secret "x" not found'
                )
            )
            .served(),
        ),
        summary="its Worker build is offline",
        actions=["create the Secrets and ConfigMaps its pods refer to"],
    ),
    Case(
        id="WorkerOffline: container config, as the health check names it",
        job=queued("WorkerOffline").served(),
        workers=(
            worker()
            .status(
                worker_status(
                    "OFFLINE",
                    reason="ContainerConfigError",
                    message="no pod can start (e.g. pod j-1-abc: CreateContainerConfigError)",
                )
            )
            .served(),
        ),
        summary="its Worker build is offline",
        actions=["create the Secrets and ConfigMaps its pods refer to"],
    ),
    Case(
        id="ConcurrencyLimit behind a DEGRADED Worker",
        job=queued("ConcurrencyLimit").served(),
        others=(HOLDER,),
        workers=(
            worker()
            .status(
                worker_status(
                    "DEGRADED", reason="ImagePullFailing", message="1 of 2 pods cannot start"
                )
            )
            .served(),
        ),
        summary="waiting for a free slot on Worker build",
        facts=["Worker: build (type build, concurrency 1): DEGRADED (ImagePullFailing)"],
        actions=["wait: 0 job(s) ahead", "fix the image in the Worker's template"],
    ),
    Case(
        id="WorkerOffline: other cause",
        job=queued("WorkerOffline").served(),
        workers=(
            worker().status(worker_status("OFFLINE", reason="InvalidSpec", message="bad")).served(),
        ),
        summary="its Worker build is offline",
        actions=["fix what the Worker's status names: kubectl edit wk build -n team-a"],
    ),
    Case(
        id="ConcurrencyLimit",
        job=queued("ConcurrencyLimit").created(b.at(5)).served(),
        others=(
            HOLDER,
            job("first").state("IN-QUEUE").reason("ConcurrencyLimit").assigned("build").served(),
        ),
        summary="waiting for a free slot on Worker build",
        facts=[
            "Queue: position 2 of 2 in the queue of Worker build",
            "Slots: 1 of 1 busy, held by hold (running for 30s)",
            "Worker: build (type build, concurrency 1): ONLINE — 1 of 1 slots busy",
            "Operator: heartbeat 10s ago on Worker build",
        ],
        actions=[
            "wait: 1 job(s) ahead of it, 1 running",
            'kubectl patch wk build -n team-a --type merge -p \'{"spec":{"concurrency":2}}\'',
            "higher spec.priority",
        ],
    ),
    Case(
        id="ConcurrencyLimit: first in line",
        job=queued("ConcurrencyLimit").served(),
        others=(HOLDER,),
        summary="waiting for a free slot on Worker build",
        facts=["Queue: position 1 of 1"],
        actions=["wait: 0 job(s) ahead of it"],
        no_actions=["priority"],
    ),
    Case(
        id="ConcurrencyLimit: on hold",
        job=queued("ConcurrencyLimit").served(),
        workers=(worker().concurrency(0).served(),),
        summary="waiting for a free slot on Worker build",
        facts=["Slots: 0 of 0 busy"],
        actions=["on hold (concurrency 0)", '{"spec":{"concurrency":1}}'],
    ),
    Case(
        id="Delayed",
        job=queued("Delayed").assigned(None).start_at(b.at(300)).served(),
        summary="waiting for its start time (spec.startAt)",
        facts=["Start: 2026-01-01T12:05:00Z (in 4m)"],
        actions=["nothing to do", "conveyor revoke j -n team-a"],
    ),
    Case(
        id="RetryBackoff",
        job=queued("RetryBackoff")
        .attempt(1)
        .retry_limit(2)
        .next_attempt_at(b.at(65))
        .attempts([b.attempt_entry(1, result="FAILED", reason="PodFailed", exit_code=1, name="j")])
        .served(),
        summary="waiting to retry after a failed attempt",
        facts=[
            "Attempt 1: FAILED, PodFailed, exit code 1 (Job j-1)",
            "Next attempt: at 2026-01-01T12:01:05Z (in 5s)",
            "Attempt: 1 of 3 (Job j-1)",
        ],
        actions=[
            "wait: attempt 2 starts at 2026-01-01T12:01:05Z (in 5s)",
            "conveyor logs j -n team-a --attempt 1",
            "conveyor revoke j",
        ],
    ),
    Case(
        id="Starting: image pull",
        job=starting().served(),
        pods=(b.pod_pending("j-1", waiting_reason="ImagePullBackOff", waiting_message="nope"),),
        summary="admitted; waiting for its pod to start",
        facts=["Pod: j-1-abcde Pending, ImagePullBackOff: nope"],
        actions=["fix the image in the Worker build template", "kubectl edit wk build"],
    ),
    Case(
        id="Starting: unschedulable",
        job=starting().served(),
        pods=(b.pod_unschedulable("j-1"),),
        summary="admitted; waiting for its pod to start",
        facts=["Pod: j-1-abcde Pending, Unschedulable: 0/3 nodes are available"],
        actions=["no node can take the pod"],
    ),
    Case(
        id="Starting: config error",
        job=starting().served(),
        pods=(b.pod_pending("j-1", waiting_reason="CreateContainerConfigError"),),
        summary="admitted; waiting for its pod to start",
        actions=["fix the Secrets, ConfigMaps or env the pod refers to"],
    ),
    Case(
        id="Starting: container creating",
        job=starting().served(),
        pods=(b.pod_pending("j-1", waiting_reason="ContainerCreating"),),
        summary="admitted; waiting for its pod to start",
        actions=["wait: the pod is starting (kubectl describe pod j-1-abcde -n team-a)"],
    ),
    Case(
        id="Starting: no pod yet",
        job=starting().served(),
        summary="admitted; waiting for its pod",
        facts=["Pod: none yet for Job j-1"],
        actions=["wait: the Job controller creates the pod"],
    ),
    Case(
        id="Running",
        job=job()
        .state("RUNNING")
        .reason("Running")
        .attempt(1)
        .assigned("build")
        .timeout("5m")
        .started_at(b.at(30))
        .served(),
        pods=(b.pod_running("j-1"),),
        summary="running (attempt 1 of 1)",
        facts=["Pod: j-1-abcde Running", "Timeout: 5m per attempt", "started 30s ago"],
        actions=["conveyor logs j -n team-a -f", "conveyor revoke j -n team-a"],
    ),
    Case(
        id="Succeeded",
        job=job()
        .state("SUCCESS")
        .reason("Succeeded")
        .attempt(1)
        .assigned("build")
        .outputs({"digest": "sha256:abc"})
        .started_at(b.at(10))
        .finished_at(b.at(40))
        .served(),
        summary="finished successfully",
        facts=['Outputs: {"digest": "sha256:abc"}', "finished 20s ago after 30s"],
        actions=["conveyor rerun j -n team-a"],
    ),
    Case(
        id="PodFailed",
        job=failed("PodFailed")
        .attempts([b.attempt_entry(1, result="FAILED", reason="PodFailed", exit_code=3)])
        .served(),
        summary="failed: its pod failed",
        facts=["Attempt 1: FAILED, PodFailed, exit code 3 (Job j-1)"],
        actions=["see why: conveyor logs j -n team-a --attempt 1", "conveyor rerun j"],
    ),
    Case(
        id="DeadlineExceeded",
        job=failed("DeadlineExceeded").timeout("5m").served(),
        summary="failed: it ran longer than its timeout",
        actions=["raise spec.timeout (now 5m)"],
    ),
    Case(
        id="RetriesExhausted",
        job=failed("RetriesExhausted").retry_limit(2).served(),
        summary="failed: every attempt failed",
        actions=["allow more retries (spec.retry.limit)"],
    ),
    Case(
        id="JobLost",
        job=failed("JobLost").served(),
        summary="failed: its Job disappeared",
        actions=["conveyor rerun j"],
    ),
    Case(
        id="InvalidSpec",
        job=job()
        .state("FAILED")
        .reason("InvalidSpec")
        .message("spec.params.image: Field required")
        .params({"command": ["true"]})
        .served(),
        summary="refused: its spec is invalid",
        facts=["Message: spec.params.image: Field required"],
        actions=["fix the field the message names"],
    ),
    Case(
        id="Revoked",
        job=job().state("REVOKED").reason("Revoked").assigned("build").revoke(True).served(),
        summary="revoked (spec.revoke)",
        actions=["conveyor rerun j -n team-a"],
        no_actions=["operator seems down"],
    ),
    Case(
        id="not seen yet, just created",
        job=job().created(b.at(50)).served(),
        summary="new: the operator has not picked it up yet",
        actions=["wait a moment"],
    ),
    Case(
        id="not seen for a while",
        job=job().created(b.at(-120)).served(),
        summary="not picked up by the operator",
        facts=["Operator: no status written in 3m"],
        actions=["the operator seems down or does not watch namespace team-a"],
    ),
    Case(
        id="operator heartbeat stale",
        job=queued("ConcurrencyLimit").served(),
        others=(HOLDER,),
        workers=(worker().status(worker_status(heartbeat=b.at(-300))).served(),),
        summary="waiting for a free slot on Worker build",
        facts=["Operator: last heartbeat 6m ago on Worker build: the operator seems down"],
        actions=["the operator seems down"],
    ),
    Case(
        id="operator never wrote the Worker's status",
        job=queued("ConcurrencyLimit").served(),
        workers=(b.worker("build").concurrency(1).served(),),
        summary="waiting for a free slot on Worker build",
        facts=["Worker: build (type build, concurrency 1): no status yet", "no heartbeat"],
        actions=["the operator seems down"],
    ),
    Case(
        id="revoke not acted upon",
        job=queued("ConcurrencyLimit").revoke(True).served(),
        summary="waiting for a free slot on Worker build",
        facts=["Revoke: spec.revoke is set; the operator has not acted on it yet"],
    ),
    Case(
        id="unknown reason",
        job=job().state("IN-QUEUE").reason("SomethingNew").served(),
        summary="IN-QUEUE (SomethingNew)",
        actions=["kubectl describe pj j -n team-a"],
    ),
]


def run(case: Case, *, events: Sequence[Mapping[str, Any]] = ()) -> diagnosis.Diagnosis:
    return diagnosis.diagnose(
        job=case.job,
        jobs=[case.job, *case.others],
        workers=list(case.workers),
        pods=list(case.pods),
        events=list(events),
        now=NOW,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_diagnosis(case: Case) -> None:
    result = run(case)

    assert result.summary == case.summary
    facts = [f"{f.label}: {f.text}" for f in result.facts]
    for wanted in case.facts:
        assert any(wanted in f for f in facts), f"{wanted!r} not in {facts}"
    for wanted in case.actions:
        assert any(wanted in a for a in result.actions), f"{wanted!r} not in {result.actions}"
    for unwanted in case.no_actions:
        assert not any(unwanted in a for a in result.actions), result.actions


@pytest.mark.parametrize("reason", list(model.Reason), ids=str)
def test_every_reason_is_explained_in_words(reason: model.Reason) -> None:
    """No reason falls through to the generic 'STATE (Reason)' text."""
    state = {
        "Running": "RUNNING",
        "Succeeded": "SUCCESS",
        "Revoked": "REVOKED",
    }.get(
        reason,
        "FAILED"
        if reason in ("PodFailed", "DeadlineExceeded", "RetriesExhausted", "InvalidSpec", "JobLost")
        else "IN-QUEUE",
    )
    body = job().state(state).reason(str(reason)).assigned("build").attempt(1).served()
    result = run(Case(id=str(reason), job=body, summary=""))
    assert f"({reason})" not in result.summary
    assert result.actions


def test_finished_jobs_do_not_report_on_workers_or_the_operator() -> None:
    case = Case(
        id="done",
        job=job().state("SUCCESS").reason("Succeeded").assigned("build").served(),
        workers=(worker().status(worker_status(heartbeat=b.at(-3600))).served(),),
        summary="",
    )
    labels = {f.label for f in run(case).facts}
    assert not labels & {"Worker", "Operator", "Queue", "Slots"}


def test_warnings_are_marked() -> None:
    case = next(c for c in CASES if c.id == "operator heartbeat stale")
    levels = {f.label: f.level for f in run(case).facts}
    assert levels["Operator"] is diagnosis.Level.WARNING
    assert levels["Queue"] is diagnosis.Level.INFO


def test_holders_are_capped() -> None:
    holders = [
        job(f"h{i:02}").state("RUNNING").reason("Running").attempt(1).assigned("build").served()
        for i in range(12)
    ]
    case = Case(
        id="many",
        job=queued("ConcurrencyLimit").served(),
        others=holders,
        workers=(worker().concurrency(12).served(),),
        summary="",
    )
    slots = next(f.text for f in run(case).facts if f.label == "Slots")
    assert slots.startswith("12 of 12 busy, held by h00 (running), h01 (running)")
    assert slots.endswith("h09 (running), +2 more")


def test_to_dict_is_plain_data() -> None:
    data = run(CASES[0]).to_dict()
    assert data["state"] == "IN-QUEUE"
    assert data["reason"] == "Queued"
    assert {"label", "text", "level"} <= set(data["facts"][0])


# -- events ----------------------------------------------------------------------------


def event(
    reason: str,
    *,
    at: datetime.datetime,
    message: str = "",
    name: str = "j",
    kind: str = "PipelineJob",
    uid: str = "uid-j",
    type: str = "Normal",
    version: str = "1",
    count: int = 1,
) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{name}.{reason}", "resourceVersion": version},
        "involvedObject": {"kind": kind, "name": name, "uid": uid},
        "type": type,
        "reason": reason,
        "message": message,
        "lastTimestamp": b.ts(at),
        "count": count,
    }


def test_events_are_the_jobs_own_oldest_first() -> None:
    events = [
        event("Succeeded", at=b.at(40), message="done"),
        event("Queued", at=b.at(0)),
        event("Started", at=b.at(10), version="7"),
        event("Queued", at=b.at(10), version="6"),
        event("Other", at=b.at(5), name="someone-else"),
        event("OldObject", at=b.at(5), uid="uid-earlier"),
        event("PodEvent", at=b.at(5), kind="Pod"),
    ]
    lines = diagnosis.recent_events(events=events, job=job().served(), now=NOW)
    # Same-second events in write order; the two Queued in a row are one line.
    assert [(e.age, e.reason, e.count) for e in lines] == [
        ("50s", "Queued", 2),
        ("50s", "Started", 1),
        ("20s", "Succeeded", 1),
    ]


def test_repeated_events_in_a_row_are_counted_once() -> None:
    events = [event("Queued", at=b.at(i), message="queued", version=str(i)) for i in range(5)]
    events.append(event("Started", at=b.at(9), version="9"))
    lines = diagnosis.recent_events(events=events, job=job().served(), now=NOW)
    assert [(e.reason, e.count, e.age) for e in lines] == [
        ("Queued", 5, "56s"),
        ("Started", 1, "51s"),
    ]


def test_only_the_latest_events_are_kept() -> None:
    events = [event(f"R{i}", at=b.at(i), version=str(i)) for i in range(15)]
    lines = diagnosis.recent_events(events=events, job=job().served(), now=NOW)
    assert [e.reason for e in lines] == [f"R{i}" for i in range(5, 15)]


def test_events_reach_the_diagnosis() -> None:
    result = run(CASES[0], events=[event("Queued", at=b.at(0), message="queued")])
    assert [(e.type, e.reason, e.message) for e in result.events] == [
        ("Normal", "Queued", "queued")
    ]


# -- pods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        pytest.param([], None, id="no pod"),
        pytest.param(
            [b.pod_pending("j-1", waiting_reason="ErrImagePull", waiting_message="404")],
            ("Pending", "ErrImagePull", "404"),
            id="waiting container",
        ),
        pytest.param(
            [b.pod_unschedulable("j-1", message="no nodes")],
            ("Pending", "Unschedulable", "no nodes"),
            id="unschedulable",
        ),
        pytest.param([b.pod_running("j-1")], ("Running", None, None), id="running"),
        pytest.param(
            [
                b.pod_pending("j-1", waiting_reason="ErrImagePull", created=b.at(0)),
                b.pod_running("j-1", created=b.at(5)),
            ],
            ("Running", None, None),
            id="the latest pod counts",
        ),
    ],
)
def test_pod_state(
    pods: list[dict[str, Any]], expected: tuple[str, str | None, str | None] | None
) -> None:
    state = diagnosis.pod_state(pods)
    got = None if state is None else (state.phase, state.waiting_reason, state.waiting_message)
    assert got == expected


def test_with_a_sidecar_the_cli_and_the_operator_agree() -> None:
    """A sidecar that cannot pull its image is not the job's pod failing to start."""
    pod = b.pod_pending("j-1", waiting_reason="ContainerCreating")
    sidecar = {"name": "proxy", "state": {"waiting": {"reason": "ImagePullBackOff"}}}
    pod["status"]["containerStatuses"].insert(0, sidecar)
    state = diagnosis.pod_state([pod])
    seen = observe.summarize(job=b.batch_job(), pods=[pod])
    assert state is not None
    assert state.waiting_reason == seen.waiting_reason == "ContainerCreating"
