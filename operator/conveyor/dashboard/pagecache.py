"""Rendered pages, kept while nothing changed: fifty browsers on the same
page after a change cost one render, not fifty.

A page is good for one store version and one step of the clock (its ages
and durations are shown to the second only below two minutes)."""

from __future__ import annotations

Key = tuple[str, bool]  # (path with query, fragment only)

MAX_PAGES = 256
CLOCK_STEP = 2.0  # seconds


class PageCache:
    def __init__(self, *, limit: int = MAX_PAGES) -> None:
        self._limit = limit
        self._stamp: tuple[int, int] = (-1, -1)
        self._pages: dict[Key, str] = {}

    def _at(self, *, version: int, now: float) -> None:
        stamp = (version, int(now // CLOCK_STEP))
        if stamp != self._stamp:
            self._stamp = stamp
            self._pages = {}

    def get(self, key: Key, *, version: int, now: float) -> str | None:
        self._at(version=version, now=now)
        return self._pages.get(key)

    def put(self, key: Key, text: str, *, version: int, now: float) -> None:
        self._at(version=version, now=now)
        if len(self._pages) >= self._limit:
            self._pages.pop(next(iter(self._pages)))
        self._pages[key] = text
