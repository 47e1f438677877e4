"""One list-then-watch per kind, feeding the store. A broken watch resumes
from the last resourceVersion it saw; when the API server no longer has that
version (410 Gone) it lists afresh. A kind the API does not serve (its CRD is
not installed) is retried now and then, so installing it later just works."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from conveyor import API_GROUP, API_VERSION
from conveyor.dashboard import store as store_
from conveyor.k8s import api

if TYPE_CHECKING:  # the recorder needs the history extra; the dashboard alone does not
    from conveyor.archive import recorder as recorder_

log = logging.getLogger("conveyor.dashboard")

PIPELINERUNS = api.Resource(group=API_GROUP, version=API_VERSION, plural="pipelineruns")
PIPELINES = api.Resource(group=API_GROUP, version=API_VERSION, plural="pipelines")

PAGE = 500  # objects per list request
WATCH_SECONDS = 300  # the API server ends each watch after this; we resume
READ_TIMEOUT = 90  # no byte for this long (bookmarks come every minute): the link is dead
MISSING_RETRY = 30.0
MAX_LINE = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True, kw_only=True)
class Kind:
    name: str
    resource: api.Resource
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)


KINDS = (
    Kind(name="pipelinejobs", resource=api.PIPELINEJOBS),
    Kind(name="workers", resource=api.WORKERS),
    Kind(name="pipelineruns", resource=PIPELINERUNS),
    Kind(name="pipelines", resource=PIPELINES),
    # Only the pods and Events of Conveyor's objects: the rest is not ours to show.
    Kind(name="pods", resource=api.PODS, params={"labelSelector": "conveyor.dev/pipelinejob"}),
    Kind(
        name="events",
        resource=api.EVENTS,
        params={"fieldSelector": f"involvedObject.apiVersion={API_GROUP}/{API_VERSION}"},
    ),
)
KIND_NAMES = tuple(k.name for k in KINDS)


class Gone(Exception):
    """The resourceVersion we resume from is too old: list again."""


def split_lines(buffer: bytes, chunk: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines from what was left over plus a new chunk, and the new leftover."""
    data = buffer + chunk
    *lines, rest = data.split(b"\n")
    if len(rest) > MAX_LINE:
        raise ValueError(f"a watch event over {MAX_LINE} bytes")
    return [line for line in lines if line.strip()], rest


def decode(line: bytes) -> tuple[str, dict[str, Any]] | None:
    """A watch event's type and object; None for a line that is not one."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
        return None
    return str(event.get("type") or ""), event["object"]


def check(*, type_: str, obj: Mapping[str, Any]) -> None:
    """An ERROR event ends the watch: Gone means list again, else resume."""
    if type_ != "ERROR":
        return
    if obj.get("code") == 410:
        raise Gone(str(obj.get("message") or "resource version too old"))
    raise api.ApiError(
        status=int(obj.get("code") or 0),
        reason=str(obj.get("reason") or ""),
        message=str(obj.get("message") or ""),
    )


def _backoff(failures: int) -> float:
    return float(min(0.5 * 2 ** min(failures, 5), 10.0))


class Watcher:
    def __init__(
        self,
        *,
        client: api.Client,
        kind: Kind,
        store: store_.Store,
        namespace: str | None,
        recorder: recorder_.Recorder | None = None,
    ) -> None:
        self._client = client
        self._kind = kind
        self._store = store
        self._namespace = namespace
        self._recorder = recorder  # the archive's (docs/history.md), fed what we see

    async def run(self) -> None:
        resource_version = ""
        failures = 0
        while True:
            try:
                if not resource_version:
                    resource_version = await self._relist()
                resource_version = await self._watch(resource_version)
                failures = 0
            except Gone:
                resource_version = ""
            except api.ApiError as exc:
                if exc.not_found:
                    self._store.set_sync(kind=self._kind.name, sync=store_.Sync.MISSING)
                    resource_version = ""
                    await asyncio.sleep(MISSING_RETRY)
                    continue
                failures += 1
                await self._pause(failures, exc)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                failures += 1
                await self._pause(failures, exc)

    async def _pause(self, failures: int, exc: BaseException) -> None:
        log.warning("watch of %s broken (%s); resuming", self._kind.name, exc)
        self._store.set_sync(kind=self._kind.name, sync=store_.Sync.RECONNECTING)
        await asyncio.sleep(_backoff(failures))

    async def _relist(self) -> str:
        items: list[dict[str, Any]] = []
        params = {**self._kind.params, "limit": str(PAGE)}
        while True:
            page = await self._client.list(self._kind.resource, namespace=self._namespace, **params)
            items += page.get("items") or []
            meta = page.get("metadata") or {}
            if not meta.get("continue"):
                break
            params["continue"] = str(meta["continue"])
        version = str(meta.get("resourceVersion") or "")
        self._store.replace(kind=self._kind.name, items=items, resource_version=version)
        if self._recorder is not None:  # a listing: catch up what the archive missed
            self._recorder.catch_up(kind=self._kind.name, items=items)
        return version

    async def _watch(self, resource_version: str) -> str:
        params = {
            **self._kind.params,
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(WATCH_SECONDS),
        }
        path = self._kind.resource.path(namespace=self._namespace).lstrip("/")
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=READ_TIMEOUT)
        session = self._client._get_session()  # the client's authenticated session
        async with session.get(path, params=params, timeout=timeout) as response:
            if response.status == 410:
                raise Gone(await response.text())
            if response.status >= 400:
                raise api._error(response.status, await response.text())
            self._store.set_sync(kind=self._kind.name, sync=store_.Sync.LIVE)
            rest = b""
            async for chunk in response.content.iter_any():
                lines, rest = split_lines(rest, chunk)
                for line in lines:
                    decoded = decode(line)
                    if decoded is None:
                        continue
                    type_, obj = decoded
                    check(type_=type_, obj=obj)
                    self._store.apply(kind=self._kind.name, event=type_, body=obj)
                    if self._recorder is not None:
                        self._recorder.observe(kind=self._kind.name, body=obj, event=type_)
        return self._store.resource_version(self._kind.name) or resource_version


def watchers(
    *,
    client: api.Client,
    store: store_.Store,
    namespace: str | None,
    recorder: recorder_.Recorder | None = None,
) -> list[Watcher]:
    return [
        Watcher(client=client, kind=k, store=store, namespace=namespace, recorder=recorder)
        for k in KINDS
    ]
