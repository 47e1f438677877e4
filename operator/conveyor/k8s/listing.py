"""The operator's first look at the cluster: every watched kind listed
once, so the first decisions see every slot holder."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

from conveyor.k8s import api

Feed = Callable[[str | None, dict[str, Any]], None]


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
            params = {"labelSelector": w.label_selector} if w.label_selector else {}
            listing = await client.list(w.resource, namespace=namespace, **params)
            for item in listing.get("items") or ():
                item_ns = (item.get("metadata") or {}).get("namespace") or ""
                if namespaces and not any(fnmatch.fnmatchcase(item_ns, p) for p in namespaces):
                    continue
                item.setdefault("apiVersion", api_version_of(w.resource))
                item.setdefault("kind", w.kind)
                w.feed(None, item)


def api_version_of(resource: api.Resource) -> str:
    return f"{resource.group}/{resource.version}" if resource.group else resource.version
