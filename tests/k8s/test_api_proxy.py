"""The API client goes through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names
the server, as client-go does; the choice is made once per session, not per
request. A fake proxy on the loopback answers for an API server that does not
exist, so a request succeeds only if it went through the proxy."""

from __future__ import annotations

import collections.abc

import pytest
from aiohttp import web

from conveyor.k8s import api
from tests import builders as b
from tests.k8s import loopback

NOWHERE = "http://api.cluster.invalid:6443"


@pytest.fixture
async def proxy() -> collections.abc.AsyncIterator[tuple[str, list[str]]]:
    """The proxy's URL, and the absolute URLs it was asked for."""
    asked: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        asked.append(str(request.url))
        return web.json_response({"kind": "Namespace", "metadata": {"name": "default"}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with loopback.serving(app) as url:
        yield url, asked


@pytest.mark.parametrize(
    ("env", "server", "expected"),
    [
        ({}, "https://10.0.0.1:6443", None),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "https://10.0.0.1:6443", "http://proxy:3128"),
        ({"https_proxy": "http://proxy:3128"}, "https://10.0.0.1:6443", "http://proxy:3128"),
        ({"HTTP_PROXY": "http://proxy:3128"}, "https://10.0.0.1:6443", None),
        ({"HTTP_PROXY": "http://proxy:3128"}, "http://10.0.0.1:8080", "http://proxy:3128"),
        (
            {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "10.0.0.1"},
            "https://10.0.0.1:6443",
            None,
        ),
        (
            {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".cluster.local"},
            "https://api.cluster.local:6443",
            None,
        ),
        (
            {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".cluster.local"},
            "https://api.example:6443",
            "http://proxy:3128",
        ),
    ],
)
def test_the_environment_names_the_proxy_unless_no_proxy_exempts_the_server(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], server: str, expected: str | None
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert api._env_proxy(server) == expected


async def test_requests_go_through_the_environments_proxy(
    monkeypatch: pytest.MonkeyPatch, proxy: tuple[str, list[str]]
) -> None:
    url, asked = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = api.Client(login=b.StaticLogin(NOWHERE))
    try:
        for _ in range(3):
            body = await client.request("GET", "/api/v1/namespaces/default")
            assert body["metadata"]["name"] == "default"
    finally:
        await client.close()
    assert asked == [f"{NOWHERE}/api/v1/namespaces/default"] * 3


async def test_the_proxy_is_chosen_once_per_session_not_per_request(
    monkeypatch: pytest.MonkeyPatch, proxy: tuple[str, list[str]]
) -> None:
    url, asked = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    client = api.Client(login=b.StaticLogin(NOWHERE))
    lookups: list[str] = []
    real = api._env_proxy

    def counted(server: str) -> str | None:
        lookups.append(server)
        return real(server)

    monkeypatch.setattr(api, "_env_proxy", counted)
    try:
        for _ in range(5):
            await client.request("GET", "/api/v1/namespaces/default")
    finally:
        await client.close()
    assert len(asked) == 5
    assert lookups == [NOWHERE]
