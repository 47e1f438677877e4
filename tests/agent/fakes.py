"""A fake HTTP API for the agent's tests: a real server on 127.0.0.1 (the
agent's own urllib code talks to it), answering from a route table with the
shapes the real APIs answer, and recording every request it got."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # decoded JSON, the form as a dict, or the raw bytes

    def json(self) -> Any:
        return self.body


# A route answers (status, JSON body); or raw bytes for a non-JSON answer.
Handler = Callable[[Request], tuple[int, Any]]


class FakeApi:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def route(self, method: str, path: str, handler: Handler | Any, status: int = 200) -> None:
        """Answer `method path` with handler(request), or always with the given body."""
        self.routes[(method, path)] = (
            handler if callable(handler) else (lambda _request: (status, handler))
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        fake = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                kind = self.headers.get("Content-Type") or ""
                body: Any = raw
                if raw and kind.startswith("application/json"):
                    body = json.loads(raw)
                elif raw and kind.startswith("application/x-www-form-urlencoded"):
                    body = dict(urllib.parse.parse_qsl(raw.decode()))
                request = Request(
                    method=self.command,
                    path=parsed.path,
                    query=dict(urllib.parse.parse_qsl(parsed.query)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                fake.requests.append(request)
                handler = fake.routes.get((self.command, parsed.path))
                if handler is None:
                    status, answer = 404, {"error": f"no route {self.command} {parsed.path}"}
                else:
                    status, answer = handler(request)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        return _Handler


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    yield api
    api.close()
