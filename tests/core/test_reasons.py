"""reasons: the sentences on status.message — what a person reads in `kubectl
get`/`describe` to learn why a job is where it is."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from conveyor.core import model, reasons
from tests import builders as b

T0 = b.T0

# Every message function with typical arguments, and the exact sentence.
SENTENCES: list[tuple[str, Callable[[], str], str]] = [
    ("queued", reasons.queued, "waiting to be scheduled"),
    (
        "no worker of the type",
        lambda: reasons.no_worker(namespace="team-a", worker_type="build", named=None),
        "no Worker of type build in namespace team-a; create one",
    ),
    (
        "no worker of that name",
        lambda: reasons.no_worker(namespace="team-a", worker_type="build", named="fast"),
        "no Worker named 'fast' of type build in namespace team-a; create it",
    ),
    (
        "ambiguous worker",
        lambda: reasons.ambiguous_worker(worker_type="deploy", names=["blue", "green"]),
        "2 Workers of type deploy (blue, green) and none is named 'deploy'; "
        "set spec.worker to choose one",
    ),
    (
        "wrong worker type",
        lambda: reasons.wrong_worker_type(worker="fast", has="deploy", needs="build"),
        "Worker 'fast' runs deploy jobs, but this job needs a build Worker",
    ),
    (
        "worker paused",
        lambda: reasons.worker_paused(worker="build"),
        "Worker build is paused (spec.paused); its running jobs finish, nothing new starts",
    ),
    (
        "worker offline with a cause",
        lambda: reasons.worker_offline(worker="build", cause="image pull failing"),
        "Worker build is offline: image pull failing",
    ),
    (
        "worker offline without a cause",
        lambda: reasons.worker_offline(worker="build", cause=None),
        "Worker build is offline",
    ),
    (
        "concurrency limit",
        lambda: reasons.with_position(
            reasons.slots_busy(
                worker="build", busy=3, limit=3, holders=["build-7", "build-9", "build-12"]
            ),
            position=2,
            waiting=5,
        ),
        "3 of 3 slots busy (build-7, build-9, build-12); position 2 of 5",
    ),
    (
        "concurrency 0",
        lambda: reasons.with_position(
            reasons.slots_busy(worker="build", busy=0, limit=0, holders=[]),
            position=1,
            waiting=3,
        ),
        "Worker build has concurrency 0 (on hold); position 1 of 3",
    ),
    (
        "delayed start",
        lambda: reasons.delayed(start_at=b.at(minutes=90), now=T0),
        "delayed start: waiting until 2026-01-01T13:30:00Z (in 1h30m)",
    ),
    (
        "delay job",
        lambda: reasons.delaying(until=b.at(30), now=T0),
        "delay job: waiting until 2026-01-01T12:00:30Z (in 30s)",
    ),
    (
        "retry backoff",
        lambda: reasons.retry_backoff(
            attempt=1, attempts=3, failure="exit code 1", next_at=b.at(10), now=T0
        ),
        "attempt 1 of 3 failed (exit code 1); next attempt at 2026-01-01T12:00:10Z (in 10s)",
    ),
    (
        "starting",
        lambda: reasons.starting(job="j-1", waiting_reason=None, waiting_message=None),
        "Job j-1 created; waiting for its pod to start",
    ),
    (
        "replacing a deleted pod",
        lambda: reasons.replacing(job="j-1"),
        "the pod of Job j-1 is gone; waiting for its replacement to start",
    ),
    (
        "starting, pod waiting with a message",
        lambda: reasons.starting(
            job="j-1",
            waiting_reason="ImagePullBackOff",
            waiting_message='Back-off pulling image "nope:1"',
        ),
        'pod of Job j-1 is not running: ImagePullBackOff: Back-off pulling image "nope:1"',
    ),
    (
        "starting, pod waiting without a message",
        lambda: reasons.starting(job="j-1", waiting_reason="Unschedulable", waiting_message=None),
        "pod of Job j-1 is not running: Unschedulable",
    ),
    (
        "running in a pod",
        lambda: reasons.running(attempt=2, attempts=3, pod="j-2-abcde"),
        "attempt 2 of 3 running in pod j-2-abcde",
    ),
    (
        "running, pod unknown",
        lambda: reasons.running(attempt=1, attempts=1, pod=None),
        "attempt 1 of 1 running",
    ),
    ("succeeded", lambda: reasons.succeeded(attempt=1, note=None), "attempt 1 succeeded"),
    (
        "succeeded with a note",
        lambda: reasons.succeeded(attempt=2, note="termination message is not JSON"),
        "attempt 2 succeeded; termination message is not JSON",
    ),
    (
        "failed",
        lambda: reasons.failed(attempt=1, account="exit code 1"),
        "attempt 1 failed: exit code 1",
    ),
    (
        "retries exhausted",
        lambda: reasons.retries_exhausted(attempts=3, account="exit code 2"),
        "all 3 attempts failed; last: exit code 2",
    ),
    (
        "revoked while running",
        lambda: reasons.revoked(was_running=True),
        "revoked (spec.revoke); its Job was stopped",
    ),
    (
        "revoked before it started",
        lambda: reasons.revoked(was_running=False),
        "revoked (spec.revoke) before it started",
    ),
    (
        "invalid spec",
        lambda: reasons.invalid_spec(
            error=model.SpecError(field="spec.params.image", message="Field required")
        ),
        "spec.params.image: Field required",
    ),
]


@pytest.mark.parametrize(
    ("make", "sentence"), [(m, s) for _, m, s in SENTENCES], ids=[i for i, _, _ in SENTENCES]
)
def test_sentence(make: Callable[[], str], sentence: str) -> None:
    assert make() == sentence


@pytest.mark.parametrize("make", [m for _, m, _ in SENTENCES], ids=[i for i, _, _ in SENTENCES])
def test_messages_read_as_plain_sentences(make: Callable[[], str]) -> None:
    text = make()
    assert text == text.strip()
    assert "\n" not in text
    assert "  " not in text
    assert not text.endswith((".", ";", ",", ":"))
    # No Python leaking into what a person reads.
    for leak in ("None", "[", "]", "{", "}", "<", "Reason.", "State.", "datetime"):
        assert leak not in text, leak
    assert len(text) <= 200


@pytest.mark.parametrize(
    ("holders", "named"),
    [
        pytest.param([], "", id="none"),
        pytest.param(["a"], " (a)", id="one"),
        pytest.param(["a", "b", "c", "d", "e"], " (a, b, c, d, e)", id="five: all named"),
        pytest.param(["a", "b", "c", "d", "e", "f"], " (a, b, c, d, e, +1 more)", id="six"),
        pytest.param([f"j{n}" for n in range(40)], " (j0, j1, j2, j3, j4, +35 more)", id="forty"),
    ],
)
def test_slot_holders_are_named_up_to_five_then_counted(holders: list[str], named: str) -> None:
    text = reasons.with_position(
        reasons.slots_busy(
            worker="build", busy=len(holders), limit=max(len(holders), 1), holders=holders
        ),
        position=1,
        waiting=1,
    )
    assert text == f"{len(holders)} of {max(len(holders), 1)} slots busy{named}; position 1 of 1"


@pytest.mark.parametrize(
    ("reason", "exit_code", "detail", "timeout", "account"),
    [
        pytest.param("PodFailed", 1, "Error", None, "exit code 1", id="exit code first"),
        pytest.param("PodFailed", 137, None, None, "exit code 137", id="killed"),
        pytest.param("PodFailed", None, "Evicted", None, "Evicted", id="no exit code: the detail"),
        pytest.param("PodFailed", None, None, None, "pod failed", id="nothing known"),
        pytest.param(
            "DeadlineExceeded", None, None, "30m", "ran longer than the timeout 30m", id="timeout"
        ),
        pytest.param(
            "DeadlineExceeded", None, None, None, "deadline exceeded", id="deadline, no timeout"
        ),
        pytest.param(
            "JobLost", None, "Job j-1 was deleted while running", None,
            "Job j-1 was deleted while running", id="job lost",
        ),
        pytest.param("JobLost", None, None, None, "its Job disappeared", id="job lost, no detail"),
    ],
)  # fmt: skip
def test_failure_accounts(
    reason: str, exit_code: int | None, detail: str | None, timeout: str | None, account: str
) -> None:
    assert (
        reasons.failure(reason=reason, exit_code=exit_code, detail=detail, timeout=timeout)
        == account
    )


@pytest.mark.parametrize(
    ("wait", "text"),
    [
        pytest.param(0.4, "in 0s", id="under half a second"),
        pytest.param(59.6, "in 1m", id="rounded to whole seconds"),
        pytest.param(-30, "in 0s", id="already past: never negative"),
        pytest.param(3 * 3600 + 5, "in 3h5s", id="hours"),
    ],
)
def test_times_to_wait_are_whole_seconds_never_negative(wait: float, text: str) -> None:
    message = reasons.delayed(start_at=b.at(wait), now=T0)
    assert message.endswith(f"({text})")
    assert re.search(r"waiting until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", message)


def test_ambiguous_worker_names_the_type_as_text_not_as_an_enum() -> None:
    text = reasons.ambiguous_worker(worker_type=model.WorkerType.BUILD, names=["a", "b"])
    assert "none is named 'build';" in text
    assert "WorkerType" not in text
