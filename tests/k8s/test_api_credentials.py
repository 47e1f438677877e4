"""The API client loads credentials again after a 401 (a revoked or rotated
token), once; a fake API server on the loopback plays the cluster."""

from __future__ import annotations

import collections.abc
import pathlib

import pytest
import yaml
from aiohttp import web

from conveyor.k8s import api, login
from tests.k8s import loopback


@pytest.fixture
async def server() -> collections.abc.AsyncIterator[tuple[str, list[str]]]:
    """The URL, and the Authorization headers seen; seen[0] == "revoke" refuses all."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != "Bearer good" or "revoked" in seen:
            return web.json_response(
                {"reason": "Unauthorized", "message": "Unauthorized"}, status=401
            )
        if request.path.endswith("/log"):
            return web.Response(text="line 1\n")
        return web.json_response({"items": []})

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    async with loopback.serving(app) as url:
        yield url, seen


def token_file_kubeconfig(tmp_path: pathlib.Path, server: str) -> pathlib.Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"tokenFile": str(tmp_path / "token")}}],
                "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "a",
            }
        )
    )
    return path


async def test_a_401_loads_the_credentials_again_once(
    server: tuple[str, list[str]], tmp_path: pathlib.Path
) -> None:
    url, seen = server
    (tmp_path / "token").write_text("old")
    source = login.Source(kubeconfig=str(token_file_kubeconfig(tmp_path, url)))
    async with api.Client(login=source) as client:
        assert client.credentials.authorization == "Bearer old"
        (tmp_path / "token").write_text("good")  # rotated, as kubelet rotates projected tokens

        assert await client.list(api.WORKERS, namespace="a") == {"items": []}
        assert await client.text("/api/v1/namespaces/a/pods/p/log") == "line 1\n"

        seen.append("revoked")
        (tmp_path / "token").write_text("bad")
        with pytest.raises(api.ApiError) as refused:  # renewed once, still refused
            await client.list(api.WORKERS, namespace="a")

    assert seen == [
        "Bearer old",
        "Bearer good",
        "Bearer good",
        "revoked",
        "Bearer good",
        "Bearer bad",
    ]
    assert refused.value.status == 401


async def test_streams_renew_on_401_too(
    server: tuple[str, list[str]], tmp_path: pathlib.Path
) -> None:
    url, seen = server
    (tmp_path / "token").write_text("old")
    source = login.Source(kubeconfig=str(token_file_kubeconfig(tmp_path, url)))
    async with api.Client(login=source) as client:
        _ = client.credentials
        (tmp_path / "token").write_text("good")
        async with client.stream("/api/v1/namespaces/a/pods/p/log", params={"follow": "true"}) as r:
            body = await r.text()

    assert body == "line 1\n"
    assert seen == ["Bearer old", "Bearer good"]
