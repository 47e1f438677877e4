"""status: a PipelineJob's status as written to the API — its fields, the
kstatus conditions (Ready / Reconciling / Stalled), and the smallest merge patch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from conveyor.core import model, status
from tests import builders as b

State = model.State
T0 = b.T0


def job_status(state: State | None, reason: str | None = None, **kw: Any) -> model.JobStatus:
    return model.JobStatus(state=state, reason=reason, **kw)


def to_dict(
    new: model.JobStatus,
    *,
    previous: Sequence[Mapping[str, Any]] = (),
    generation: int = 3,
    now: Any = T0,
) -> dict[str, Any]:
    return status.to_dict(status=new, generation=generation, previous_conditions=previous, now=now)


# --- fields ------------------------------------------------------------------------------


def test_to_dict_writes_the_contract_field_names() -> None:
    new = model.JobStatus(
        state=State.IN_QUEUE,
        reason=model.Reason.RETRY_BACKOFF,
        message="attempt 1 of 3 failed (exit code 1); next attempt at ...",
        worker="build",
        attempt=1,
        job="j-1",
        queued_at=b.ts(T0),
        started_at=b.ts(b.at(1)),
        next_attempt_at=b.ts(b.at(20)),
        attempts=(
            model.Attempt(
                attempt=1,
                job="j-1",
                start=b.ts(b.at(1)),
                finish=b.ts(b.at(10)),
                result="FAILED",
                reason="PodFailed",
                exit_code=1,
                message="exit code 1",
            ),
        ),
        outputs={"digest": "sha256:x"},
    )
    written = to_dict(new, generation=3)
    conditions = written.pop("conditions")
    assert written == {
        "state": "IN-QUEUE",
        "reason": "RetryBackoff",
        "message": "attempt 1 of 3 failed (exit code 1); next attempt at ...",
        "worker": "build",
        "attempt": 1,
        "job": "j-1",
        "queuedAt": b.ts(T0),
        "startedAt": b.ts(b.at(1)),
        "nextAttemptAt": b.ts(b.at(20)),
        "attempts": [
            {
                "attempt": 1,
                "job": "j-1",
                "start": b.ts(b.at(1)),
                "finish": b.ts(b.at(10)),
                "result": "FAILED",
                "reason": "PodFailed",
                "exitCode": 1,
                "message": "exit code 1",
            }
        ],
        "outputs": {"digest": "sha256:x"},
        "observedGeneration": 3,
    }
    assert [c["type"] for c in conditions] == ["Ready", "Reconciling", "Stalled"]


def test_to_dict_leaves_out_what_is_not_set() -> None:
    written = to_dict(job_status(State.IN_QUEUE, "Queued"))
    assert set(written) == {
        "state",
        "reason",
        "attempt",
        "attempts",
        "outputs",
        "observedGeneration",
        "conditions",
    }
    assert written["attempts"] == []
    assert written["outputs"] == {}


def test_to_dict_writes_plain_strings_not_enums() -> None:
    written = to_dict(job_status(State.FAILED, model.Reason.POD_FAILED))
    assert type(written["state"]) is str
    assert type(written["reason"]) is str
    assert all(type(c["reason"]) is str for c in written["conditions"])


def test_an_exit_code_0_is_written() -> None:
    attempt = model.Attempt(attempt=1, job="j-1", result="SUCCESS", exit_code=0)
    assert attempt.to_dict()["exitCode"] == 0
    assert model.Attempt.from_dict(attempt.to_dict()) == attempt


# --- conditions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "reason", "ready", "reconciling", "stalled"),
    [
        pytest.param(State.IN_QUEUE, "Queued", "False", "True", "False", id="IN-QUEUE"),
        pytest.param(State.IN_QUEUE, "Starting", "False", "True", "False", id="IN-QUEUE/Starting"),
        pytest.param(State.RUNNING, "Running", "False", "True", "False", id="RUNNING"),
        pytest.param(State.SUCCESS, "Succeeded", "True", "False", "False", id="SUCCESS"),
        pytest.param(State.FAILED, "PodFailed", "False", "False", "True", id="FAILED"),
        pytest.param(State.FAILED, "InvalidSpec", "False", "False", "True", id="FAILED/Invalid"),
        pytest.param(State.REVOKED, "Revoked", "False", "False", "True", id="REVOKED"),
        pytest.param(None, None, "False", "False", "False", id="never seen"),
    ],
)
def test_conditions_per_state(
    state: State | None, reason: str | None, ready: str, reconciling: str, stalled: str
) -> None:
    new = job_status(state, reason, message="a sentence")
    conditions = status.conditions(status=new, generation=4, previous=[], now=T0)
    assert {c["type"]: c["status"] for c in conditions} == {
        "Ready": ready,
        "Reconciling": reconciling,
        "Stalled": stalled,
    }
    for c in conditions:
        assert c["reason"] == (reason or "Unknown")
        assert c["message"] == "a sentence"
        assert c["observedGeneration"] == 4
        assert c["lastTransitionTime"] == b.ts(T0)


def test_exactly_one_condition_is_true_once_seen() -> None:
    for state in State:
        conditions = status.conditions(status=job_status(state), generation=1, previous=[], now=T0)
        assert [c["status"] for c in conditions].count("True") == 1, state


def test_condition_reasons_are_camel_case() -> None:
    for reason in model.Reason:
        conditions = status.conditions(
            status=job_status(State.IN_QUEUE, reason), generation=1, previous=[], now=T0
        )
        assert conditions[0]["reason"][0].isupper(), reason
        assert "-" not in conditions[0]["reason"]


def transition_times(
    old: model.JobStatus, new: model.JobStatus, *, later: Any = None
) -> dict[str, tuple[str, str]]:
    """Each condition's lastTransitionTime, written at T0 for `old` and later for `new`."""
    before = status.conditions(status=old, generation=1, previous=[], now=T0)
    after = status.conditions(status=new, generation=1, previous=before, now=later or b.at(60))
    return {
        a["type"]: (p["lastTransitionTime"], a["lastTransitionTime"])
        for p, a in zip(before, after, strict=True)
    }


def test_last_transition_time_is_kept_while_a_condition_holds() -> None:
    times = transition_times(
        job_status(State.IN_QUEUE, "Queued"), job_status(State.RUNNING, "Running")
    )
    assert times == {
        "Ready": (b.ts(T0), b.ts(T0)),
        "Reconciling": (b.ts(T0), b.ts(T0)),
        "Stalled": (b.ts(T0), b.ts(T0)),
    }


def test_last_transition_time_moves_when_a_condition_flips() -> None:
    times = transition_times(
        job_status(State.RUNNING, "Running"), job_status(State.SUCCESS, "Succeeded")
    )
    assert times == {
        "Ready": (b.ts(T0), b.ts(b.at(60))),
        "Reconciling": (b.ts(T0), b.ts(b.at(60))),
        "Stalled": (b.ts(T0), b.ts(T0)),
    }


def test_a_new_reason_or_message_alone_is_no_transition() -> None:
    before = status.conditions(
        status=job_status(State.IN_QUEUE, "Queued", message="position 5 of 5"),
        generation=1,
        previous=[],
        now=T0,
    )
    after = status.conditions(
        status=job_status(State.IN_QUEUE, "ConcurrencyLimit", message="position 1 of 5"),
        generation=2,
        previous=before,
        now=b.at(60),
    )
    reconciling = after[1]
    assert reconciling["lastTransitionTime"] == b.ts(T0)
    assert reconciling["reason"] == "ConcurrencyLimit"
    assert reconciling["message"] == "position 1 of 5"
    assert reconciling["observedGeneration"] == 2


def test_a_previous_condition_without_a_transition_time_gets_one() -> None:
    # lastTransitionTime is required by the Kubernetes condition schema.
    previous = [{"type": "Reconciling", "status": "True", "reason": "Queued"}]
    conditions = status.conditions(
        status=job_status(State.IN_QUEUE, "Queued"), generation=1, previous=previous, now=T0
    )
    assert all(c["lastTransitionTime"] for c in conditions)


def test_conditions_written_back_are_stable() -> None:
    """Recomputing from what was written, with nothing changed, writes nothing."""
    new = job_status(State.RUNNING, "Running", message="attempt 1 of 1 running")
    first = to_dict(new, now=T0)
    again = to_dict(new, previous=first["conditions"], now=b.at(300))
    assert status.merge_patch(old=first, new=again) == {}


# --- merge_patch -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "patch"),
    [
        pytest.param({}, {}, {}, id="both empty"),
        pytest.param({"state": "RUNNING"}, {"state": "RUNNING"}, {}, id="unchanged: empty"),
        pytest.param(
            {"state": "IN-QUEUE", "reason": "Queued", "attempt": 0},
            {"state": "IN-QUEUE", "reason": "Starting", "attempt": 1},
            {"reason": "Starting", "attempt": 1},
            id="only the changed keys",
        ),
        pytest.param({}, {"state": "IN-QUEUE"}, {"state": "IN-QUEUE"}, id="a new key"),
        pytest.param(
            {"state": "IN-QUEUE", "nextAttemptAt": "2026-01-01T12:00:20Z"},
            {"state": "IN-QUEUE"},
            {"nextAttemptAt": None},
            id="a removed key: None deletes it",
        ),
        pytest.param(
            {"attempts": [{"attempt": 1}]},
            {"attempts": [{"attempt": 1}, {"attempt": 2}]},
            {"attempts": [{"attempt": 1}, {"attempt": 2}]},
            id="lists are replaced whole",
        ),
        pytest.param(
            {"outputs": {"a": 1, "b": 2}},
            {"outputs": {"a": 1}},
            {"outputs": {"a": 1}},
            id="a changed object is written whole",
        ),
        pytest.param({"attempt": 0}, {"attempt": 0}, {}, id="a zero is a value, unchanged"),
        pytest.param({"outputs": {}}, {"outputs": {}}, {}, id="an empty object, unchanged"),
    ],
)
def test_merge_patch(old: dict[str, Any], new: dict[str, Any], patch: dict[str, Any]) -> None:
    assert status.merge_patch(old=old, new=new) == patch


def apply_merge_patch(old: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386 at the top level, as the API server applies it."""
    out = dict(old)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def test_applying_the_patch_gives_the_new_status() -> None:
    old = to_dict(
        job_status(
            State.IN_QUEUE,
            "RetryBackoff",
            attempt=1,
            job="j-1",
            next_attempt_at=b.ts(b.at(20)),
            queued_at=b.ts(T0),
        )
    )
    new = to_dict(
        job_status(State.IN_QUEUE, "Starting", attempt=2, job="j-2", queued_at=b.ts(T0)),
        previous=old["conditions"],
        now=b.at(20),
    )
    patch = status.merge_patch(old=old, new=new)
    assert patch["nextAttemptAt"] is None
    assert "queuedAt" not in patch
    assert apply_merge_patch(old, patch) == new


# --- attempt_times: what the queue-wait and run-time metrics measure --------------------


def _attempt(n: int, start: float | None, finish: float | None = None) -> model.Attempt:
    return model.Attempt(
        attempt=n,
        job=f"j-{n}",
        start=b.ts(b.at(start)) if start is not None else None,
        finish=b.ts(b.at(finish)) if finish is not None else None,
    )


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        pytest.param((_attempt(1, 30),), (0, 30, None), id="first attempt: from queuedAt"),
        pytest.param(
            (_attempt(1, 30, 40), _attempt(2, 100)),
            (40, 100, None),
            id="a retry: from the end of the attempt before, not from queuedAt",
        ),
        pytest.param(
            (_attempt(1, 30, 40), _attempt(2, 100, 160)),
            (40, 100, 160),
            id="finished: the run time is the last attempt's",
        ),
        pytest.param((), (0, 5, None), id="no attempts recorded: the job's own times"),
    ],
)
def test_attempt_times(
    attempts: tuple[model.Attempt, ...], expected: tuple[float, float, float | None]
) -> None:
    st = model.JobStatus(
        state=model.State.RUNNING,
        queued_at=b.ts(b.at(0)),
        started_at=b.ts(b.at(5)),
        attempts=attempts,
    )
    since, start, finish = expected
    assert status.attempt_times(st) == status.AttemptTimes(
        waiting_since=b.at(since),
        start=b.at(start),
        finish=b.at(finish) if finish is not None else None,
    )


def test_a_message_longer_than_a_condition_may_hold_is_cut_with_a_note() -> None:
    long = model.JobStatus(state=model.State.FAILED, reason="InvalidSpec", message="x" * 1_048_576)
    out = status.to_dict(status=long, generation=1, previous_conditions=(), now=model.EPOCH)
    assert len(out["message"]) == 32_768
    assert out["message"].endswith("… (truncated)")
    assert {len(c["message"]) for c in out["conditions"]} == {32_768}
