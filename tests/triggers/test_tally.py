"""The trigger status: counts added, the last delivery, Ready."""

from __future__ import annotations

import datetime

from conveyor.triggers import tally

T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(seconds=1)


def outcome(count: tally.Count, reason: str, *, at: datetime.datetime = T0) -> tally.Outcome:
    return tally.Outcome(
        count=count, result="Created", reason=reason, message=f"{reason}.", delivery="d-1", at=at
    )


def test_counts_add_to_the_status() -> None:
    pending = tally.Pending()
    pending.add(outcome(tally.Count.ACCEPTED, "Created"))
    pending.add(outcome(tally.Count.REFUSED, "Unauthorized", at=T1))
    pending.add(outcome(tally.Count.ACCEPTED, "Created"))  # older: not the last
    status = tally.patch(
        status={"accepted": 3, "filtered": 1}, pending=pending, generation=2, now=T1
    )
    assert (status["accepted"], status["filtered"], status["refused"]) == (5, 1, 1)
    assert status["lastDelivery"]["reason"] == "Unauthorized"
    assert status["lastDelivery"]["time"] == "2026-12-01T12:00:01Z"
    assert status["conditions"][0] | {"lastTransitionTime": "-"} == {
        "type": "Ready",
        "status": "True",
        "reason": "Receiving",
        "message": "deliveries are verified and handled",
        "observedGeneration": 2,
        "lastTransitionTime": "-",
    }


def test_ready_is_false_while_the_trigger_is_at_fault_and_keeps_its_transition_time() -> None:
    pending = tally.Pending()
    pending.add(outcome(tally.Count.REFUSED, "SecretNotFound"))
    first = tally.patch(status={}, pending=pending, generation=1, now=T0)
    assert first["conditions"][0]["status"] == "False"
    assert first["conditions"][0]["reason"] == "SecretNotFound"
    again = tally.patch(status=first, pending=pending, generation=1, now=T1)
    assert again["conditions"][0]["lastTransitionTime"] == "2026-12-01T12:00:00Z"


def test_a_failed_write_gives_its_counts_back() -> None:
    kept, failed = tally.Pending(), tally.Pending()
    kept.add(outcome(tally.Count.FILTERED, "RefFiltered", at=T0))
    failed.add(outcome(tally.Count.FILTERED, "RefFiltered", at=T1))
    kept.merge(failed)
    assert kept.counts == {tally.Count.FILTERED: 2}
    assert kept.last is not None
    assert kept.last.at == T1


def test_no_outcome_writes_only_the_counts() -> None:
    assert tally.patch(status={}, pending=tally.Pending(), generation=1, now=T0) == {
        "accepted": 0,
        "filtered": 0,
        "refused": 0,
        "observedGeneration": 1,
    }
