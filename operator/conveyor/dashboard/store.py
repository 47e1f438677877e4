"""The dashboard's in-memory view of the cluster: the latest body of every
watched object, by kind, and a version number that moves on every change.

Pure: no I/O. The watchers feed it; the pages read it; listeners (the
server-sent event streams) are told which kind changed.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Key = tuple[str, str]  # (namespace, name)
Listener = Callable[[str], None]

# Fields a page never shows and that cost memory at 5,000 objects.
_DROPPED_METADATA = ("managedFields",)


class Sync(enum.StrEnum):
    """How a kind's watch is doing, shown in the page header."""

    STARTING = "starting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    MISSING = "missing"  # the API has no such kind (its CRD is not installed)


@dataclasses.dataclass(kw_only=True)
class _Kind:
    objects: dict[Key, dict[str, Any]] = dataclasses.field(default_factory=dict)
    resource_version: str = ""
    sync: Sync = Sync.STARTING


def key_of(body: Mapping[str, Any]) -> Key:
    meta = body.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _slim(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = dict(body.get("metadata") or {})
    for field in _DROPPED_METADATA:
        meta.pop(field, None)
    return {**body, "metadata": meta}


class Store:
    def __init__(self, *, kinds: Iterable[str]) -> None:
        self._kinds = {name: _Kind() for name in kinds}
        self._listeners: list[Listener] = []
        self.version = 0

    @property
    def kinds(self) -> list[str]:
        return list(self._kinds)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(kind)` after every change; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self, kind: str) -> None:
        self.version += 1
        for listener in list(self._listeners):
            listener(kind)

    def replace(
        self, *, kind: str, items: Iterable[Mapping[str, Any]], resource_version: str
    ) -> None:
        """A fresh listing: what it lacks was deleted while we did not watch."""
        entry = self._kinds[kind]
        entry.objects = {key_of(b): _slim(b) for b in items}
        entry.resource_version = resource_version
        entry.sync = Sync.LIVE
        self._changed(kind)

    def apply(self, *, kind: str, event: str, body: Mapping[str, Any]) -> None:
        """One watch event (ADDED, MODIFIED, DELETED, BOOKMARK)."""
        entry = self._kinds[kind]
        rv = str((body.get("metadata") or {}).get("resourceVersion") or "")
        if rv:
            entry.resource_version = rv
        if event == "BOOKMARK":
            return
        if event == "DELETED":
            entry.objects.pop(key_of(body), None)
        elif event in ("ADDED", "MODIFIED"):
            entry.objects[key_of(body)] = _slim(body)
        else:
            return
        self._changed(kind)

    def set_sync(self, *, kind: str, sync: Sync) -> None:
        entry = self._kinds[kind]
        if entry.sync is not sync:
            entry.sync = sync
            if sync is Sync.MISSING:
                entry.objects = {}
            self._changed(kind)

    def sync(self, kind: str) -> Sync:
        return self._kinds[kind].sync

    def resource_version(self, kind: str) -> str:
        return self._kinds[kind].resource_version

    def items(self, kind: str, *, namespace: str | None = None) -> list[dict[str, Any]]:
        objects = self._kinds[kind].objects
        if namespace is None:
            return list(objects.values())
        return [b for (ns, _), b in objects.items() if ns == namespace]

    def get(self, kind: str, *, namespace: str, name: str) -> dict[str, Any] | None:
        return self._kinds[kind].objects.get((namespace, name))

    def health(self) -> dict[str, str]:
        return {name: str(entry.sync) for name, entry in self._kinds.items()}
