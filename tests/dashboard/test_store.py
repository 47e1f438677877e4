"""The store: a listing replaces, watch events apply, listeners hear each change."""

from __future__ import annotations

from conveyor.dashboard import store as store_
from tests.dashboard import builders as b


def test_listing_replaces_and_events_apply() -> None:
    store = store_.Store(kinds=["pipelinejobs"])
    heard: list[str] = []
    store.subscribe(heard.append)
    store.replace(kind="pipelinejobs", items=[b.job("a"), b.job("b")], resource_version="10")
    assert store.sync("pipelinejobs") is store_.Sync.LIVE
    changed = b.job("a", state="RUNNING")
    changed["metadata"]["resourceVersion"] = "11"
    store.apply(kind="pipelinejobs", event="MODIFIED", body=changed)
    store.apply(kind="pipelinejobs", event="DELETED", body=b.job("b"))
    store.apply(kind="pipelinejobs", event="ADDED", body=b.job("c"))
    names = sorted(body["metadata"]["name"] for body in store.items("pipelinejobs"))
    assert names == ["a", "c"]
    assert store.get("pipelinejobs", namespace=b.NAMESPACE, name="a") == changed
    assert store.resource_version("pipelinejobs") == "1"  # c's, the latest event
    assert heard == ["pipelinejobs"] * 4
    assert store.version == 4


def test_a_bookmark_moves_the_resource_version_only() -> None:
    store = store_.Store(kinds=["workers"])
    store.replace(kind="workers", items=[], resource_version="5")
    version = store.version
    store.apply(kind="workers", event="BOOKMARK", body={"metadata": {"resourceVersion": "9"}})
    assert store.resource_version("workers") == "9"
    assert store.version == version


def test_managed_fields_are_dropped() -> None:
    store = store_.Store(kinds=["pipelinejobs"])
    body = b.job("a")
    body["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    store.replace(kind="pipelinejobs", items=[body], resource_version="1")
    assert "managedFields" not in store.items("pipelinejobs")[0]["metadata"]


def test_a_missing_kind_is_empty_and_said_once() -> None:
    store = store_.Store(kinds=["pipelineruns"])
    store.replace(kind="pipelineruns", items=[b.run("r")], resource_version="1")
    store.set_sync(kind="pipelineruns", sync=store_.Sync.MISSING)
    version = store.version
    store.set_sync(kind="pipelineruns", sync=store_.Sync.MISSING)
    assert store.items("pipelineruns") == []
    assert store.version == version
    assert store.health() == {"pipelineruns": "missing"}
