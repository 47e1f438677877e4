"""memories: kopf keeps no memory per object between events."""

from __future__ import annotations

import inspect

import kopf
from kopf._core.reactor import inventory

from conveyor.handlers import memories


async def test_each_event_gets_a_fresh_memory_and_none_is_kept() -> None:
    kept = memories.Ephemeral()
    body = {"metadata": {"uid": "u-1", "name": "j", "namespace": "ns"}}
    memo = kopf.Memo(controller="the loop")
    first = await kept.recall(body, memobase=memo, noticed_by_listing=True)
    second = await kept.recall(body, memobase=memo)
    assert first is not second
    assert first.memo["controller"] == "the loop"  # what the handlers read
    assert list(kept.iter_all_memories()) == []


def test_kopf_still_recalls_with_the_arguments_overridden() -> None:
    """A kopf upgrade that renames them would silently keep memories again."""
    names = set(inspect.signature(inventory.ResourceMemories.recall).parameters)
    assert {"raw_body", "memobase", "noticed_by_listing", "ephemeral"} <= names
