"""List-then-watch of PipelineJobs and PipelineRuns feeding a Recorder, for
`conveyor archive` (the dashboard feeds the recorder from its own watches).

Every listing is a catch-up; a broken watch resumes from the last
resourceVersion, and lists again when that version is gone (410).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp

from conveyor import API_GROUP, API_VERSION
from conveyor.k8s import api

if TYPE_CHECKING:  # the recorder needs the history extra; listing does not
    from conveyor.archive import recorder as recorder_

log = logging.getLogger("conveyor.archive")

PIPELINERUNS = api.Resource(group=API_GROUP, version=API_VERSION, plural="pipelineruns")
RESOURCES = {"pipelinejobs": api.PIPELINEJOBS, "pipelineruns": PIPELINERUNS}
PAGE = 500
WATCH_SECONDS = 300
MISSING_RETRY = 30.0


class Gone(Exception):
    """The resourceVersion to resume from is too old: list again."""


async def follow(
    *,
    client: api.Client,
    recorder: recorder_.Recorder,
    kind: str,
    namespace: str | None,
    listed: asyncio.Event | None = None,
) -> None:
    """Until cancelled: feed `recorder` with every change of `kind`."""
    resource = RESOURCES[kind]
    version = ""
    failures = 0
    while True:
        try:
            if not version:
                version = await _list(client, recorder, kind=kind, namespace=namespace)
                if listed is not None:
                    listed.set()
            version = await _watch(client, recorder, kind=kind, namespace=namespace, since=version)
            failures = 0
        except Gone:
            version = ""
        except api.ApiError as exc:
            if exc.not_found:  # the CRD is not installed (yet)
                if listed is not None:
                    listed.set()
                version = ""
                await asyncio.sleep(MISSING_RETRY)
                continue
            failures += 1
            log.warning("archive: watch of %s broken (%s); resuming", resource.plural, exc)
            await asyncio.sleep(min(0.5 * 2**failures, 10.0))
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            failures += 1
            log.warning("archive: watch of %s broken (%s); resuming", resource.plural, exc)
            await asyncio.sleep(min(0.5 * 2**failures, 10.0))


async def _list(
    client: api.Client, recorder: recorder_.Recorder, *, kind: str, namespace: str | None
) -> str:
    items: list[dict[str, Any]] = []
    params = {"limit": str(PAGE)}
    while True:
        page = await client.list(RESOURCES[kind], namespace=namespace, **params)
        items += page.get("items") or []
        meta = page.get("metadata") or {}
        if not meta.get("continue"):
            break
        params["continue"] = str(meta["continue"])
    recorder.catch_up(kind=kind, items=items)
    return str(meta.get("resourceVersion") or "")


async def _watch(
    client: api.Client,
    recorder: recorder_.Recorder,
    *,
    kind: str,
    namespace: str | None,
    since: str,
) -> str:
    params = {
        "watch": "true",
        "resourceVersion": since,
        "allowWatchBookmarks": "true",
        "timeoutSeconds": str(WATCH_SECONDS),
    }
    version = since
    path = RESOURCES[kind].path(namespace=namespace)
    try:
        async with client.stream(path, params=params) as response:
            rest = b""
            async for chunk in response.content.iter_any():
                *lines, rest = (rest + chunk).split(b"\n")
                for line in lines:
                    version = _event(recorder, kind=kind, line=line, version=version)
    except api.ApiError as exc:
        if exc.status == 410:
            raise Gone(exc.message) from exc
        raise
    return version


def _event(recorder: recorder_.Recorder, *, kind: str, line: bytes, version: str) -> str:
    """One watch event to the recorder; the resourceVersion to resume from after it."""
    event = _decode(line)
    if event is None:
        return version
    type_, body = event
    if type_ == "ERROR":
        if body.get("code") == 410:
            raise Gone(str(body.get("message") or ""))
        raise api.ApiError(
            status=int(body.get("code") or 0),
            reason=str(body.get("reason") or ""),
            message=str(body.get("message") or ""),
        )
    if type_ != "BOOKMARK":
        recorder.observe(kind=kind, body=body, event=type_)
    return str((body.get("metadata") or {}).get("resourceVersion") or version)


def _decode(line: bytes) -> tuple[str, dict[str, Any]] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
        return None
    return str(event.get("type") or ""), event["object"]
