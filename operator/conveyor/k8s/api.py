"""A small async Kubernetes API client on aiohttp, with the credentials of
a login.Source (loaded again when they expire, and once after a 401). It
sends JSON and returns JSON; no object models, so bulk work stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import json
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp

from conveyor import API_GROUP, API_VERSION, metrics
from conveyor.core import safejson
from conveyor.k8s import login

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
PIPELINETRIGGERS = Resource(group=API_GROUP, version=API_VERSION, plural="pipelinetriggers")
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
        self,
        *,
        status: int,
        reason: str,
        message: str,
        retry_after: float | None = None,
        causes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after
        self.causes = causes  # details.causes[].reason

    @property
    def terminating(self) -> bool:
        """Refused because the namespace is being deleted: its objects go
        with it, so retrying a create there only waits for that."""
        return self.status == 403 and "NamespaceTerminating" in self.causes

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"


class NotLeading(ApiError):
    """A write refused before it was sent: this replica may not act now."""

    def __init__(self) -> None:
        super().__init__(status=0, reason="NotLeading", message="not the leader: write not sent")


class Client:
    """One HTTP session to the API server. Counts requests by verb and result.

    `may_write`, when given, is asked before every attempt of every request
    but GET (retries included), right before it is sent: with leader
    election, the elector's renew deadline (leader.Elector.may_act)."""

    _credentials: login.Credentials | None

    def __init__(
        self,
        *,
        login: login.Source,
        user_agent: str = USER_AGENT,
        may_write: Callable[[], bool] | None = None,
    ) -> None:
        self._login = login
        self._user_agent = user_agent
        self._credentials = None
        self._may_write = may_write
        self._session: aiohttp.ClientSession | None = None
        self._env_proxy: str | None = None
        self._retired: list[aiohttp.ClientSession] = []  # closed with the client
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def credentials(self) -> login.Credentials:
        """The credentials in use (loading them the first time)."""
        if self._credentials is None:
            self._use(self._login.current())
        assert self._credentials is not None
        return self._credentials

    async def _fresh(self) -> login.Credentials:
        """The credentials, loaded again (off the event loop: an exec plugin
        may take a while) when they are about to expire."""
        creds = self._credentials
        if creds is not None and not creds.expired(now=datetime.datetime.now(datetime.UTC)):
            return creds
        async with self._guard():
            if self._credentials is creds:
                self._use(await asyncio.to_thread(self._login.current))
        return self.credentials

    async def _renew(self, stale: login.Credentials) -> None:
        """After a 401: the token may have been revoked or rotated."""
        async with self._guard():
            if self._credentials is stale:
                self._use(await asyncio.to_thread(self._login.renew, stale=stale))

    def _guard(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _use(self, creds: login.Credentials) -> None:
        old = self._credentials
        self._credentials = creds
        if self._session is None:
            return
        if old is None or old.tls() != creds.tls():
            self._retired.append(self._session)  # in-flight streams finish on it
            self._session = None
        elif creds.authorization:
            self._session.headers["Authorization"] = creds.authorization
        else:
            self._session.headers.pop("Authorization", None)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            creds = self.credentials
            headers = {"User-Agent": self._user_agent}
            if creds.authorization:
                headers["Authorization"] = creds.authorization
            self._session = aiohttp.ClientSession(
                base_url=creds.server.rstrip("/") + "/",
                headers=headers,
                connector=aiohttp.TCPConnector(ssl=creds.ssl_context(), limit=100),
                timeout=aiohttp.ClientTimeout(total=60),
            )
            # HTTPS_PROXY and NO_PROXY, as client-go honours them, decided once
            # per session: aiohttp's trust_env would look them (and ~/.netrc)
            # up again in two thread-pool hops per request.
            self._env_proxy = _env_proxy(creds.server)
        return self._session

    def _options(self, creds: login.Credentials) -> dict[str, Any]:
        """Per-request connection options: the kubeconfig's proxy-url and tls-server-name."""
        options: dict[str, Any] = {}
        proxy = creds.proxy or self._env_proxy
        if proxy:
            options["proxy"] = proxy
        if creds.tls_server_name:
            options["server_hostname"] = creds.tls_server_name
        return options

    async def close(self) -> None:
        for session in [*self._retired, self._session]:
            if session is not None:
                await session.close()
        self._retired.clear()

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
        renewed = False
        attempt = 0
        while True:
            if method != "GET" and self._may_write is not None and not self._may_write():
                raise NotLeading()
            creds = await self._fresh()
            try:
                async with self._get_session().request(
                    method,
                    path.lstrip("/"),
                    data=data,
                    params=params,
                    headers=headers,
                    **self._options(creds),
                ) as response:
                    metrics.API_REQUESTS.labels(method, resource, str(response.status)).inc()
                    raw = await response.read()  # bytes: orjson reads them without a copy
                    if response.status < 400:
                        return safejson.loads_api(raw) if raw else {}
                    error = _error(response.status, raw.decode("utf-8", "replace"))
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                metrics.API_REQUESTS.labels(method, resource, "error").inc()
                if attempt == RETRIES:
                    raise ApiError(status=0, reason="ConnectionError", message=str(exc)) from exc
                await asyncio.sleep(_backoff(attempt))
                attempt += 1
                continue
            if error.status == 401 and not renewed:
                renewed = True
                await self._renew(creds)
                continue
            if error.status not in RETRIABLE or attempt == RETRIES:
                raise error
            await asyncio.sleep(error.retry_after or _backoff(attempt))
            attempt += 1

    @contextlib.asynccontextmanager
    async def stream(
        self, path: str, *, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A GET whose body is read as it comes (logs -f, watches), with no
        time limit; ApiError for an error answer (after one renewal on 401)."""
        no_limit = aiohttp.ClientTimeout(total=None, sock_read=None)
        for renewed in (False, True):
            creds = await self._fresh()
            async with self._get_session().get(
                path.lstrip("/"), params=params, timeout=no_limit, **self._options(creds)
            ) as response:
                metrics.API_REQUESTS.labels("GET", _resource_of(path), str(response.status)).inc()
                if response.status == 401 and not renewed:
                    await self._renew(creds)
                    continue
                if response.status >= 400:
                    raise _error(response.status, await response.text())
                yield response
                return

    async def text(self, path: str, *, params: Mapping[str, str] | None = None) -> str:
        async with self.stream(path, params=params) as response:
            return await response.text()

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
        payload = safejson.loads_api(text)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    details = payload.get("details")
    details = details if isinstance(details, dict) else {}
    retry_after = details.get("retryAfterSeconds")
    return ApiError(
        status=status,
        reason=str(payload.get("reason") or ""),
        message=str(payload.get("message") or text[:500]),
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        causes=_causes(details.get("causes")),
    )


def _causes(causes: Any) -> tuple[str, ...]:
    if not isinstance(causes, list):
        return ()
    return tuple(str(c.get("reason") or "") for c in causes if isinstance(c, dict))


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


def _env_proxy(server: str) -> str | None:
    """The proxy HTTPS_PROXY (or HTTP_PROXY) names for `server`, unless NO_PROXY exempts it."""
    url = urllib.parse.urlsplit(server)
    if not url.hostname or urllib.request.proxy_bypass(url.hostname):
        return None
    return urllib.request.getproxies().get(url.scheme) or None
