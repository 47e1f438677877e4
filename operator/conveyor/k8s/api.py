"""A small async Kubernetes API client on aiohttp (which kopf already uses),
with the credentials kopf's login found. It sends JSON and returns JSON; no
object models, so bulk work stays cheap.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
import kopf

from conveyor import API_GROUP, API_VERSION, metrics

USER_AGENT = "conveyor-operator"
T = TypeVar("T")

MERGE_PATCH = "application/merge-patch+json"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resource:
    group: str
    version: str
    plural: str
    namespaced: bool = True

    def path(self, *, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


PIPELINEJOBS = Resource(group=API_GROUP, version=API_VERSION, plural="pipelinejobs")
WORKERS = Resource(group=API_GROUP, version=API_VERSION, plural="workers")
PIPELINECRONJOBS = Resource(group=API_GROUP, version=API_VERSION, plural="pipelinecronjobs")
PIPELINES = Resource(group=API_GROUP, version=API_VERSION, plural="pipelines")
PIPELINERUNS = Resource(group=API_GROUP, version=API_VERSION, plural="pipelineruns")
JOBS = Resource(group="batch", version="v1", plural="jobs")
PODS = Resource(group="", version="v1", plural="pods")
EVENTS = Resource(group="", version="v1", plural="events")
NAMESPACES = Resource(group="", version="v1", plural="namespaces", namespaced=False)


# Transient answers (throttling, a restarting API server) are retried; the
# rest are the caller's to handle.
RETRIABLE = frozenset({429, 500, 502, 503, 504})
RETRIES = 5


def _backoff(attempt: int) -> float:
    return float(min(0.2 * 2**attempt, 5.0))


def owner_reference(*, kind: str, name: str, uid: str) -> dict[str, Any]:
    """An ownerReference to one of our objects: deleting it deletes what it owns."""
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


class ApiError(Exception):
    def __init__(
        self, *, status: int, reason: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"


class Client:
    """One HTTP session to the API server. Counts requests by verb and result."""

    def __init__(self, *, info: kopf.ConnectionInfo, user_agent: str = USER_AGENT) -> None:
        self._info = info
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"User-Agent": self._user_agent, **self._info.as_http_headers()}
            self._session = aiohttp.ClientSession(
                base_url=self._info.server.rstrip("/") + "/",
                headers=headers,
                connector=aiohttp.TCPConnector(ssl=self._info.as_ssl_context(), limit=100),
                timeout=aiohttp.ClientTimeout(total=60),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        resource: str = "",
    ) -> dict[str, Any]:
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else {}
        resource = resource or _resource_of(path)
        for attempt in range(RETRIES + 1):
            try:
                async with self._get_session().request(
                    method, path.lstrip("/"), data=data, params=params, headers=headers
                ) as response:
                    metrics.API_REQUESTS.labels(method, resource, str(response.status)).inc()
                    text = await response.text()
                    if response.status < 400:
                        return json.loads(text) if text else {}
                    error = _error(response.status, text)
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                metrics.API_REQUESTS.labels(method, resource, "error").inc()
                if attempt == RETRIES:
                    raise ApiError(status=0, reason="ConnectionError", message=str(exc)) from exc
                await asyncio.sleep(_backoff(attempt))
                continue
            if error.status not in RETRIABLE or attempt == RETRIES:
                raise error
            await asyncio.sleep(error.retry_after or _backoff(attempt))
        raise AssertionError("unreachable")

    async def text(self, path: str, *, params: Mapping[str, str] | None = None) -> str:
        session = self._get_session()
        async with session.get(path.lstrip("/"), params=params) as response:
            metrics.API_REQUESTS.labels("GET", _resource_of(path), str(response.status)).inc()
            text = await response.text()
            if response.status >= 400:
                raise _error(response.status, text)
            return text

    async def list(
        self, resource: Resource, *, namespace: str | None = None, **params: str
    ) -> dict[str, Any]:
        return await self.request("GET", resource.path(namespace=namespace), params=params or None)

    async def get(self, resource: Resource, *, namespace: str, name: str) -> dict[str, Any]:
        return await self.request("GET", resource.path(namespace=namespace, name=name))

    async def create(
        self, resource: Resource, *, namespace: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        return await self.request("POST", resource.path(namespace=namespace), body=body)

    async def patch_status(
        self, resource: Resource, *, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        return await self.request(
            "PATCH",
            resource.path(namespace=namespace, name=name, sub="status"),
            body=patch,
            content_type=MERGE_PATCH,
        )

    async def delete(
        self, resource: Resource, *, namespace: str, name: str, propagation: str = "Background"
    ) -> None:
        await self.request(
            "DELETE",
            resource.path(namespace=namespace, name=name),
            body={"propagationPolicy": propagation},
        )


def _resource_of(path: str) -> str:
    parts = [p for p in path.split("?")[0].split("/") if p]
    if "namespaces" in parts:
        i = parts.index("namespaces")
        rest = parts[i + 2 :]
        if rest:
            return "/".join(p for j, p in enumerate(rest) if j != 1)
        return "namespaces"
    return parts[-1] if parts else ""


def _error(status: int, text: str) -> ApiError:
    try:
        payload = json.loads(text)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    retry_after = (payload.get("details") or {}).get("retryAfterSeconds")
    return ApiError(
        status=status,
        reason=str(payload.get("reason") or ""),
        message=str(payload.get("message") or text[:500]),
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )


async def unless_gone(call: Awaitable[T], *, on_gone: Callable[[], None] | None = None) -> T | None:
    """The call's answer, or None if its object does not exist (NotFound is
    an answer, not an error: the object was deleted)."""
    try:
        return await call
    except ApiError as exc:
        if not exc.not_found:
            raise
        if on_gone is not None:
            on_gone()
        return None
