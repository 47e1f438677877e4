"""The operator's first look at the cluster: every watched kind listed
once, so the first decisions see every slot holder.

Lists come in pages of `PAGE` objects (limit/continue), each fed to the
store and dropped before the next is asked for: a 10,000-object list read
whole is tens of megabytes of text and ten times that decoded, all at once,
beside kopf's own first list of the same objects. Afterwards `release`
gives the freed memory back to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import fnmatch
import gc
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from conveyor.k8s import api

Feed = Callable[[str | None, dict[str, Any]], None]

# Objects per list request (kopf's first lists use the same: its chunk_size).
PAGE = 500


@dataclasses.dataclass(frozen=True, kw_only=True)
class Watched:
    resource: api.Resource
    kind: str
    feed: Feed  # the loop's on_* for this kind
    label_selector: str | None = None


def exact(patterns: Sequence[str]) -> bool:
    """Namespaces named exactly (kopf also accepts globs)."""
    return bool(patterns) and not any(ch in p for p in patterns for ch in "*?[!")


async def list_all(
    *, client: api.Client, namespaces: Sequence[str], watched: Sequence[Watched]
) -> None:
    """Feed every object of every watched kind, in the order given. Globs are
    listed cluster-wide, then filtered."""
    scopes: list[str | None] = list(namespaces) if exact(namespaces) else [None]
    for namespace in scopes:
        for w in watched:
            async for items in pages(client=client, watched=w, namespace=namespace):
                _feed(items, watched=w, namespaces=namespaces)


async def pages(
    *, client: api.Client, watched: Watched, namespace: str | None
) -> AsyncIterator[list[dict[str, Any]]]:
    """The objects of one kind, a page at a time. An expired continue token
    (410) raises: the caller lists again from the start."""
    params = {"limit": str(PAGE)}
    if watched.label_selector:
        params["labelSelector"] = watched.label_selector
    token = ""
    while True:
        cont = {"continue": token} if token else {}
        page = await client.list(watched.resource, namespace=namespace, **params, **cont)
        items = page.get("items")
        yield items if isinstance(items, list) else []
        token = str((page.get("metadata") or {}).get("continue") or "")
        if not token:
            return


def _feed(items: list[dict[str, Any]], *, watched: Watched, namespaces: Sequence[str]) -> None:
    for item in items:
        item_ns = (item.get("metadata") or {}).get("namespace") or ""
        if namespaces and not any(fnmatch.fnmatchcase(item_ns, p) for p in namespaces):
            continue
        item.setdefault("apiVersion", api_version_of(watched.resource))
        item.setdefault("kind", watched.kind)
        watched.feed(None, item)


def api_version_of(resource: api.Resource) -> str:
    return f"{resource.group}/{resource.version}" if resource.group else resource.version


def release() -> None:
    """After the first lists: collect what they left (cycles included) and
    hand the C heap's free pages back to the system. glibc keeps freed
    memory for reuse, so without `malloc_trim` the RSS stays at the peak of
    the lists although the store holds a fraction of it; elsewhere (musl,
    macOS) only the collection runs."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()
