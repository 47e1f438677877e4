"""Rendered pages are shared while the store's version and the clock step
stay the same, and dropped as soon as either moves."""

from __future__ import annotations

from conveyor.dashboard import pagecache


def test_a_page_lives_for_one_version_and_one_clock_step() -> None:
    cache = pagecache.PageCache()
    key = ("/jobs?state=RUNNING", True)
    cache.put(key, "<table>", version=3, now=100.0)
    assert cache.get(key, version=3, now=100.0 + pagecache.CLOCK_STEP / 2) == "<table>"
    assert cache.get(("/jobs", True), version=3, now=100.0) is None
    assert cache.get(key, version=4, now=100.0) is None
    cache.put(key, "<table>", version=4, now=100.0)
    assert cache.get(key, version=4, now=100.0 + pagecache.CLOCK_STEP) is None


def test_it_keeps_at_most_its_limit() -> None:
    cache = pagecache.PageCache(limit=2)
    for i in range(3):
        cache.put((f"/p{i}", False), str(i), version=1, now=0.0)
    assert cache.get(("/p0", False), version=1, now=0.0) is None
    assert cache.get(("/p2", False), version=1, now=0.0) == "2"
