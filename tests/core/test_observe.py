"""observe: a batch/v1 Job and its pods, reduced to what the state machine needs.

The Job says when an attempt is over (its Complete/Failed condition), so a slot
is kept until the Job controller is done with it; the pod gives the details
(waiting reason, exit code, termination message).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from conveyor.core import observe
from tests import builders as b

Phase = observe.Phase
DIGEST = {"digest": "sha256:" + "a" * 64}


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    job: Mapping[str, Any] | None
    pods: Sequence[Mapping[str, Any]]
    phase: Phase
    # Further fields of the Observation that must have these values.
    fields: Mapping[str, Any] = dataclasses.field(default_factory=dict)


CASES = [
    Case("no Job: missing", None, (), Phase.MISSING),
    Case("no Job, a stray pod: still missing", None, (b.pod_running(),), Phase.MISSING),
    Case(
        "Job without a pod yet: pending",
        b.batch_job(),
        (),
        Phase.PENDING,
        {"waiting_reason": None, "pod": None},
    ),
    Case(
        "pod without a container status yet: pending",
        b.batch_job(),
        (b.pod_pending(),),
        Phase.PENDING,
        {"waiting_reason": None, "pod": "j-1-abcde"},
    ),
    Case(
        "pod creating its container",
        b.batch_job(),
        (b.pod_pending(waiting_reason="ContainerCreating"),),
        Phase.PENDING,
        {"waiting_reason": "ContainerCreating"},
    ),
    Case(
        "image pull failing: the waiting reason and message",
        b.batch_job(),
        (
            b.pod_pending(
                waiting_reason="ImagePullBackOff",
                waiting_message='Back-off pulling image "nope:1"',
            ),
        ),
        Phase.PENDING,
        {
            "waiting_reason": "ImagePullBackOff",
            "waiting_message": 'Back-off pulling image "nope:1"',
        },
    ),
    Case(
        "unschedulable: the scheduler's reason and message",
        b.batch_job(),
        (b.pod_unschedulable(message="0/3 nodes are available: 3 Insufficient cpu."),),
        Phase.PENDING,
        {
            "waiting_reason": "Unschedulable",
            "waiting_message": "0/3 nodes are available: 3 Insufficient cpu.",
        },
    ),
    Case(
        "pod running: its container's start",
        b.batch_job(),
        (b.pod_running(started=b.at(3)),),
        Phase.RUNNING,
        {"started_at": b.ts(b.at(3)), "pod": "j-1-abcde"},
    ),
    Case(
        "pod succeeded but the Job is not marked yet: still running (slot kept)",
        b.batch_job(),
        (b.pod_succeeded(),),
        Phase.RUNNING,
    ),
    Case(
        "pod failed but the Job is not marked yet: still running (slot kept)",
        b.batch_job(),
        (b.pod_failed(),),
        Phase.RUNNING,
    ),
    Case(
        "Job Complete and pod Succeeded: exit code, times and termination message",
        b.batch_job(conditions=b.complete(when=b.at(9)), completion_time=b.at(9)),
        (b.pod_succeeded(started=b.at(2), finished=b.at(8), message=json.dumps(DIGEST)),),
        Phase.SUCCEEDED,
        {
            "exit_code": 0,
            "started_at": b.ts(b.at(2)),
            "finished_at": b.ts(b.at(8)),
            "termination_message": json.dumps(DIGEST),
            "failure_reason": None,
        },
    ),
    Case(
        "Job Complete but the pod not yet terminated in the cache: still running",
        b.batch_job(conditions=b.complete()),
        (b.pod_running(),),
        Phase.RUNNING,
    ),
    Case(
        "Job Complete, its pod already deleted from the cache: succeeded",
        b.batch_job(conditions=b.complete(when=b.at(9)), completion_time=b.at(9)),
        (),
        Phase.SUCCEEDED,
        {"finished_at": b.ts(b.at(9)), "started_at": b.ts(b.at(0))},
    ),
    Case(
        "Job Complete, its pod being deleted: succeeded",
        b.batch_job(conditions=b.complete(), completion_time=b.at(9)),
        (b.pod_running(deleting=True),),
        Phase.SUCCEEDED,
    ),
    Case(
        "Job Failed and pod Failed: the exit code and the pod's reason",
        b.batch_job(conditions=b.failed("BackoffLimitExceeded")),
        (b.pod_failed(exit_code=3, finished=b.at(7)),),
        Phase.FAILED,
        {
            "exit_code": 3,
            "failure_reason": "PodFailed",
            "failure_message": "Error",
            "finished_at": b.ts(b.at(7)),
        },
    ),
    Case(
        "FailureTarget and pod Failed: failed",
        b.batch_job(conditions=b.failure_target("BackoffLimitExceeded")),
        (b.pod_failed(exit_code=2),),
        Phase.FAILED,
        {"exit_code": 2, "failure_reason": "PodFailed"},
    ),
    Case(
        "Job Failed but the pod not yet terminated in the cache: still running",
        b.batch_job(conditions=b.failed("BackoffLimitExceeded")),
        (b.pod_running(),),
        Phase.RUNNING,
    ),
    Case(
        "Job Failed, no pod left: failed with the Job's message",
        b.batch_job(conditions=b.failed("BackoffLimitExceeded", when=b.at(5))),
        (),
        Phase.FAILED,
        {
            "failure_reason": "PodFailed",
            "failure_message": "Job has reached the specified backoff limit",
            "finished_at": b.ts(b.at(5)),
            "exit_code": None,
        },
    ),
    Case(
        "Job Failed DeadlineExceeded: failed at once, whatever the pod says",
        b.batch_job(conditions=b.failed("DeadlineExceeded", when=b.at(1800))),
        (b.pod_running(),),
        Phase.FAILED,
        {
            "failure_reason": "DeadlineExceeded",
            "failure_message": "Job was active longer than specified deadline",
            "finished_at": b.ts(b.at(1800)),
            "started_at": b.ts(b.at(0)),
        },
    ),
    Case(
        "Job Failed DeadlineExceeded, pod gone: failed",
        b.batch_job(conditions=b.failed("DeadlineExceeded")),
        (),
        Phase.FAILED,
        {"failure_reason": "DeadlineExceeded"},
    ),
    Case(
        "a condition with status False does not count",
        b.batch_job(conditions=[b.condition("Complete", status="False")]),
        (b.pod_running(),),
        Phase.RUNNING,
    ),
    Case(
        "several pods: the newest one speaks",
        b.batch_job(),
        (
            b.pod_terminated(exit_code=1, created=b.at(0), suffix="old"),
            {
                **b.pod_running(created=b.at(10)),
                "metadata": {"name": "j-1-new", "creationTimestamp": b.ts(b.at(10))},
            },
        ),
        Phase.RUNNING,
        {"pod": "j-1-new"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_summarize(case: Case) -> None:
    seen = observe.summarize(job=case.job, pods=case.pods)
    assert seen.phase is case.phase
    for field, value in case.fields.items():
        assert getattr(seen, field) == value, field


def test_the_container_named_main_is_the_one_that_counts() -> None:
    pod = b.pod_failed(exit_code=7)
    sidecar = {"name": "sidecar", "state": {"terminated": {"exitCode": 0}}}
    pod["status"]["containerStatuses"].insert(0, sidecar)
    seen = observe.summarize(job=b.batch_job(conditions=b.failed()), pods=[pod])
    assert seen.exit_code == 7


def with_sidecar(pod: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """`pod` with a sidecar listed before its main container."""
    statuses = pod["status"].setdefault("containerStatuses", [])
    statuses.insert(0, {"name": "proxy", "state": dict(state)})
    return pod


PULLING = {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}}


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        pytest.param(b.pod_pending(waiting_reason="ErrImagePull"), "ErrImagePull", id="main"),
        pytest.param(b.pod_unschedulable(message="no nodes"), "Unschedulable", id="scheduler"),
        pytest.param(b.pod_running(), None, id="running"),
        pytest.param(b.pod_pending(), None, id="no container status yet"),
        pytest.param(
            with_sidecar(b.pod_pending(waiting_reason="ContainerCreating"), PULLING),
            "ContainerCreating",
            id="a sidecar that cannot pull does not count",
        ),
        pytest.param(
            with_sidecar(b.pod_pending(waiting_reason="ErrImagePull"), {"running": {}}),
            "ErrImagePull",
            id="a running sidecar does not hide the main container's reason",
        ),
    ],
)
def test_waiting_reads_the_main_container_only(pod: dict[str, Any], expected: str | None) -> None:
    why = observe.waiting(pod)
    assert (why.reason if why else None) == expected
    seen = observe.summarize(job=b.batch_job(), pods=[pod])
    assert seen.waiting_reason == expected


INIT_DONE = {"terminated": {"exitCode": 0, "reason": "Completed"}}
CANNOT_PULL = {"waiting": {"reason": "ErrImagePull", "message": "not found"}}


@pytest.mark.parametrize(
    ("pod", "reason", "message"),
    [
        pytest.param(
            b.with_init_container(
                b.pod_pending(waiting_reason="PodInitializing"), name="checkout", state=CANNOT_PULL
            ),
            "ErrImagePull",
            "init container checkout: not found",
            id="an init container that cannot pull holds the pod: its reason, named",
        ),
        pytest.param(
            b.with_init_container(
                b.with_init_container(
                    b.pod_pending(waiting_reason="PodInitializing"),
                    name="checkout",
                    state=INIT_DONE,
                ),
                name="gradle",
                state={"waiting": {"reason": "ContainerCreating"}},
            ),
            "ContainerCreating",
            "init container gradle",
            id="the one still waiting, not the one done",
        ),
        pytest.param(
            b.with_init_container(
                b.pod_pending(waiting_reason="ErrImagePull"), name="checkout", state=INIT_DONE
            ),
            "ErrImagePull",
            None,
            id="init done: the main container's own reason",
        ),
        pytest.param(
            b.with_init_container(b.pod_pending(), name="checkout", state=CANNOT_PULL),
            "ErrImagePull",
            "init container checkout: not found",
            id="no main container status yet",
        ),
    ],
)
def test_an_init_container_that_holds_the_pod_back_is_its_waiting_reason(
    pod: dict[str, Any], reason: str, message: str | None
) -> None:
    why = observe.waiting(pod)
    assert why is not None
    assert (why.reason, why.message) == (reason, message)
    seen = observe.summarize(job=b.batch_job(), pods=[pod])
    assert (seen.waiting_reason, seen.waiting_message) == (reason, message)


def test_a_pod_whose_init_container_failed_says_which_and_how() -> None:
    pod = b.pod_pending(waiting_reason="PodInitializing")
    pod["status"]["phase"] = "Failed"
    ended = {"terminated": {"exitCode": 128, "reason": "Error", "message": "fatal: not found"}}
    b.with_init_container(pod, name="checkout", state=ended)
    seen = observe.summarize(job=b.batch_job(conditions=b.failed()), pods=[pod])
    assert seen.phase is Phase.FAILED
    assert seen.failure_message == "init container checkout exited with code 128 (Error)"
    assert seen.exit_code is None  # the main container never ran
    assert seen.termination_message is None  # an init container's message is not outputs


def test_a_main_container_that_ran_and_failed_is_the_account_even_after_init() -> None:
    pod = b.with_init_container(b.pod_failed(exit_code=3), name="checkout", state=INIT_DONE)
    seen = observe.summarize(job=b.batch_job(conditions=b.failed()), pods=[pod])
    assert seen.exit_code == 3


def test_without_a_main_container_the_first_one_counts() -> None:
    pod = b.pod_failed(exit_code=7)
    pod["status"]["containerStatuses"][0]["name"] = "app"
    seen = observe.summarize(job=b.batch_job(conditions=b.failed()), pods=[pod])
    assert seen.exit_code == 7


@pytest.mark.parametrize(
    ("message", "outputs", "note"),
    [
        pytest.param(None, {}, None, id="no message: no outputs, nothing to say"),
        pytest.param("", {}, None, id="empty message: no outputs, nothing to say"),
        pytest.param(json.dumps(DIGEST), DIGEST, None, id="a JSON object: the outputs"),
        pytest.param(
            '{"a": 1, "b": {"c": [1, 2]}}', {"a": 1, "b": {"c": [1, 2]}}, None, id="nested values"
        ),
        pytest.param("{}", {}, None, id="an empty object"),
        pytest.param("done!", {}, "not JSON", id="plain text: a note"),
        pytest.param('{"a": ', {}, "not JSON", id="truncated JSON: a note"),
        pytest.param("[1, 2]", {}, "not a JSON object", id="a JSON array: a note"),
        pytest.param('"text"', {}, "not a JSON object", id="a JSON string: a note"),
        pytest.param("42", {}, "not a JSON object", id="a JSON number: a note"),
        pytest.param("null", {}, "not a JSON object", id="JSON null: a note"),
        pytest.param(json.dumps({"k": "x" * 5000}), {}, "over 4096 bytes", id="over 4 KiB: a note"),
    ],
)
def test_outputs(message: str | None, outputs: dict[str, Any], note: str | None) -> None:
    got, why = observe.outputs(termination_message=message)
    assert got == outputs
    if note is None:
        assert why is None
    else:
        assert why is not None
        assert note in why
        assert "outputs ignored" in why


def test_outputs_of_exactly_4_kib_are_accepted() -> None:
    message = json.dumps({"k": ""})
    message = json.dumps({"k": "x" * (observe.MAX_OUTPUTS_BYTES - len(message))})
    assert len(message.encode()) == observe.MAX_OUTPUTS_BYTES
    assert observe.outputs(termination_message=message) == (json.loads(message), None)


def test_the_4_kib_limit_counts_bytes_not_characters() -> None:
    message = json.dumps({"k": "é" * 2100}, ensure_ascii=False)  # 2 bytes each
    assert len(message) < observe.MAX_OUTPUTS_BYTES < len(message.encode())
    got, why = observe.outputs(termination_message=message)
    assert got == {}
    assert why is not None
