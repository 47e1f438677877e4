"""store: the operator's view of the cluster. A status decided before the API
has it ("assumed") holds until the answer to our own write, so a slot taken or
freed is counted from the moment of the decision, whatever watch events
arrive in between."""

from __future__ import annotations

from typing import Any

from conveyor.core import cron
from conveyor.k8s import store
from tests import builders as b

KEY = (b.NAMESPACE, "j")
QUEUED = {"state": "IN-QUEUE", "reason": "ConcurrencyLimit"}
STARTING = {"state": "IN-QUEUE", "reason": "Starting", "attempt": 1, "job": "j-1"}
RUNNING = {"state": "RUNNING", "reason": "Running", "attempt": 1, "job": "j-1"}


def version(rv: int, status: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    body = b.pipelinejob("j").served()
    body["metadata"] = {**body["metadata"], "resourceVersion": str(rv), **metadata}
    return {**body, "status": status}


def stored_with_queued() -> store.Store:
    s = store.Store()
    s.put_pipelinejob(version(1, QUEUED))
    return s


def test_an_assumed_status_is_what_decisions_see_and_the_written_one_is_kept() -> None:
    s = stored_with_queued()
    s.assume_status(KEY, STARTING)
    assert s.pipelinejobs[KEY].status.holds_slot
    assert s.assumed(KEY)
    assert s.written_status(KEY) == QUEUED  # a patch is made against this


def test_a_watch_event_does_not_undo_an_assumption() -> None:
    s = stored_with_queued()
    s.assume_status(KEY, STARTING)
    # e.g. a label edit by a person, before our write
    assert s.put_pipelinejob(version(2, QUEUED, labels={"team": "a"}))
    assert s.pipelinejobs[KEY].status.reason == "Starting"
    assert s.pipelinejobs[KEY].meta.resource_version == "2"  # the write carries this
    assert s.written_status(KEY) == QUEUED


def test_the_answer_to_our_write_ends_the_assumption() -> None:
    s = stored_with_queued()
    s.assume_status(KEY, STARTING)
    s.put_pipelinejob(version(3, RUNNING), force=True)
    assert not s.assumed(KEY)
    assert s.pipelinejobs[KEY].status.reason == "Running"
    assert s.written_status(KEY) == RUNNING


def test_a_failed_write_goes_back_to_what_the_api_has() -> None:
    s = stored_with_queued()
    s.assume_status(KEY, STARTING)
    s.assume_status(KEY, RUNNING)  # a second decision before the first was written
    s.forget_assumed(KEY)
    assert not s.assumed(KEY)
    assert s.pipelinejobs[KEY].status.reason == "ConcurrencyLimit"


def test_a_finished_assumption_frees_the_slot_at_once() -> None:
    s = store.Store()
    s.put_pipelinejob(version(1, RUNNING))
    assert [j.meta.name for j in s.active(b.NAMESPACE)] == ["j"]
    s.assume_status(KEY, {**RUNNING, "state": "SUCCESS", "reason": "Succeeded"})
    assert list(s.active(b.NAMESPACE)) == []


def test_deleting_drops_the_assumption() -> None:
    s = stored_with_queued()
    s.assume_status(KEY, STARTING)
    s.drop_pipelinejob(KEY)
    assert not s.assumed(KEY)
    assert s.written_status(KEY) == {}


def test_managed_fields_are_not_kept() -> None:
    s = store.Store()
    managed = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    s.put_pipelinejob(version(1, QUEUED, managedFields=managed))
    s.put_job(
        {
            "metadata": {
                "namespace": "ns",
                "name": "j-1",
                "resourceVersion": "1",
                "managedFields": managed,
            }
        }
    )
    assert "managedFields" not in s.pipelinejob_bodies[KEY]["metadata"]
    assert "managedFields" not in s.jobs[("ns", "j-1")]["metadata"]


def test_an_older_watch_event_is_ignored() -> None:
    s = store.Store()
    s.put_pipelinejob(version(5, RUNNING))
    assert not s.put_pipelinejob(version(4, QUEUED))
    assert s.pipelinejobs[KEY].status.reason == "Running"


def test_the_children_of_a_cronjob_are_found_by_its_label() -> None:
    s = store.Store()
    label = {cron.CRONJOB_LABEL: "nightly"}
    s.put_pipelinejob(version(1, QUEUED, name="nightly-1", labels=label))
    s.put_pipelinejob(version(1, QUEUED, name="nightly-2", labels=label))
    s.put_pipelinejob(version(1, QUEUED, name="by-hand"))

    def children() -> list[str]:
        bodies = s.children_of_cron((b.NAMESPACE, "nightly"))
        return sorted(body["metadata"]["name"] for body in bodies)

    assert children() == ["nightly-1", "nightly-2"]
    # A label removed by a person: no longer its child; deleted: gone.
    s.put_pipelinejob(version(2, QUEUED, name="nightly-1", labels={}))
    s.drop_pipelinejob((b.NAMESPACE, "nightly-2"))
    assert children() == []
