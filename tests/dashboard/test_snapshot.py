"""Snapshots: the store's objects parsed once per change, each job parsed
again only when its resourceVersion moved."""

from __future__ import annotations

from conveyor.dashboard import snapshot
from tests.dashboard import builders as b


def test_one_parse_per_change_and_per_object_version() -> None:
    store = b.filled(pipelinejobs=[b.job("a"), b.job("b")])
    snaps = snapshot.Snapshots(store=store)
    first = snaps.get()
    assert snaps.get() is first  # nothing changed: the same snapshot
    changed = b.job("b", state="RUNNING")
    changed["metadata"]["resourceVersion"] = "2"
    store.apply(kind="pipelinejobs", event="MODIFIED", body=changed)
    second = snaps.get()
    assert second is not first
    by_name = {j.meta.name: j for j in second.jobs}
    old = {j.meta.name: j for j in first.jobs}
    assert by_name["a"] is old["a"]  # unchanged: not parsed again
    assert by_name["b"] is not old["b"]
    assert str(by_name["b"].status.state) == "RUNNING"
    assert second.job_bodies[(b.NAMESPACE, "b")] == changed
