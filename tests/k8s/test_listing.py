"""listing: the first look at the cluster comes in pages, so a large list
is never decoded whole; every object is fed all the same."""

from __future__ import annotations

import pytest

from conveyor.k8s import listing
from tests import builders as b
from tests.k8s import fakes


async def test_the_first_list_comes_in_pages_and_feeds_every_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(listing, "PAGE", 4)
    h = fakes.Harness()
    for i in range(10):
        h.api.put("pipelinejobs", b.pipelinejob(f"j-{i}").state("REVOKED").served())
    await h.ctl.prime()
    assert len(h.ctl.store.pipelinejobs) == 10
    lists = [r for r in h.api.requests if r[:2] == ("LIST", "pipelinejobs")]
    assert len(lists) == 3  # 4 + 4 + 2


def test_release_runs_where_there_is_no_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "_LIBC", None)
    listing.release()  # a collection only: nothing to hand back, nothing raised
