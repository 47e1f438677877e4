"""List+watch streams of our own, for the kinds with the most events.

A Job and its pod bring about ten watch events per PipelineJob, and each
only updates the store. Through kopf an event costs a task per object, a
queue, cause detection, three loggers and a handler's keyword arguments:
about ten times what the store's update costs (docs/performance.md,
"Where the operator's CPU goes"). Here an event is one decode and one call.

Per scope (each exact namespace, else the cluster, filtered by the
patterns): list, feed every item (event type None, as kopf's listing does),
then watch from the list's resourceVersion, bookmarks on, until the server
ends the watch; again from the last version seen. `410 Gone` or the last
delay of `BACKOFFS` lists again; objects that disappeared meanwhile are fed
as DELETED. The store and the leader gate are the caller's: watching only
reads, so a standby watches too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp

from conveyor.core import safejson
from conveyor.k8s import api, listing

logger = logging.getLogger("conveyor.watches")

Key = tuple[str, str]

# As for kopf's watches (handlers/operator.py): no attempt waits over 2 s.
BACKOFFS = (0.5, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0)
SERVER_TIMEOUT = 300  # the API server ends each watch after this (seconds)
CLIENT_TIMEOUT = 330.0  # ...and if it does not, we do
CONNECT_TIMEOUT = 5.0  # a stopped API server accepts, then never answers


class Gone(Exception):
    """The resourceVersion is too old (410): list again."""


async def run(*, client: api.Client, watched: listing.Watched, namespaces: Sequence[str]) -> None:
    """Feed `watched` from the API server until cancelled."""
    scopes: list[str | None] = list(namespaces) if listing.exact(namespaces) else [None]
    await asyncio.gather(
        *(
            Stream(client=client, watched=watched, namespace=ns, patterns=namespaces).run()
            for ns in scopes
        )
    )


class Stream:
    """One resource in one scope: list, watch, and again."""

    def __init__(
        self,
        *,
        client: api.Client,
        watched: listing.Watched,
        namespace: str | None,
        patterns: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.watched = watched
        self.namespace = namespace
        self.patterns = tuple(patterns)
        self.version: str | None = None  # None: list (again) first
        self.known: set[Key] = set()  # what we fed and did not see deleted

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                if self.version is None:
                    await self.relist()
                await self.watch()
                failures = 0
            except Gone:
                self.version = None
            except (api.ApiError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                delay = BACKOFFS[min(failures, len(BACKOFFS) - 1)]
                failures += 1
                if failures >= len(BACKOFFS):
                    self.version = None  # after the last delay: from a fresh list
                logger.warning(
                    "watching %s: %s; again in %.1fs", self.watched.resource.plural, exc, delay
                )
                await asyncio.sleep(delay)

    async def relist(self) -> None:
        params = (
            {"labelSelector": self.watched.label_selector} if self.watched.label_selector else {}
        )
        answer = await self.client.list(self.watched.resource, namespace=self.namespace, **params)
        before, self.known = self.known, set()
        for item in answer.get("items") or ():
            self.feed(None, item)
        for namespace, name in before - self.known:
            self.feed("DELETED", {"metadata": {"namespace": namespace, "name": name}})
        self.version = str((answer.get("metadata") or {}).get("resourceVersion") or "") or None

    async def watch(self) -> None:
        params = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(SERVER_TIMEOUT),
        }
        if self.version:
            params["resourceVersion"] = self.version
        if self.watched.label_selector:
            params["labelSelector"] = self.watched.label_selector
        path = self.watched.resource.path(namespace=self.namespace)
        async with contextlib.AsyncExitStack() as stack:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                response = await stack.enter_async_context(self.client.stream(path, params=params))
            async with asyncio.timeout(CLIENT_TIMEOUT):
                async for line in lines(response.content):
                    self.event(safejson.loads_api(line))

    def event(self, event: Any) -> None:
        if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
            raise ValueError(f"not a watch event: {str(event)[:200]}")
        kind, body = event.get("type"), event["object"]
        if kind == "ERROR":
            if body.get("code") == 410:
                raise Gone()
            raise ValueError(f"watch error: {body.get('message') or body}")
        version = (body.get("metadata") or {}).get("resourceVersion")
        if isinstance(version, str) and version:
            self.version = version
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            self.feed(kind, body)

    def feed(self, kind: str | None, body: dict[str, Any]) -> None:
        md = body.get("metadata") or {}
        key = (str(md.get("namespace") or ""), str(md.get("name") or ""))
        if self.patterns and not any(fnmatch.fnmatchcase(key[0], p) for p in self.patterns):
            return
        if kind == "DELETED":
            self.known.discard(key)
        else:
            self.known.add(key)
        body.setdefault("apiVersion", listing.api_version_of(self.watched.resource))
        body.setdefault("kind", self.watched.kind)
        try:
            self.watched.feed(kind, body)
        except Exception:  # as kopf does for a failed handler: log it, watch on
            logger.exception("feeding %s %s/%s failed", self.watched.kind, *key)


async def lines(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """The stream's lines, however long (a pod can be over aiohttp's line limit)."""
    buffer = b""
    async for chunk in content.iter_any():
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer
