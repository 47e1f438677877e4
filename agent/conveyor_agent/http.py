"""JSON over HTTP(S) with the standard library's urllib.

urllib is enough for the REST calls the runtimes make (JSON bodies, a few
headers, timeouts) and keeps the agent free of third-party HTTP stacks.
Errors carry the method, URL (without query string, which may hold a key)
and status, and a short excerpt of the body, never the request headers.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from conveyor_agent import errors

TIMEOUT = 30.0
# Idempotent requests are retried on connection errors and 5xx (and 429).
GET_ATTEMPTS = 3
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class HttpError(errors.JobError):
    def __init__(self, message: str, *, status: int | None) -> None:
        super().__init__(message)
        self.status = status


def url(base: str, path: str, query: Mapping[str, Any] | None = None) -> str:
    text = base.rstrip("/") + path
    if query:
        text += ("&" if "?" in text else "?") + urllib.parse.urlencode(query)
    return text


def request(
    method: str,
    target: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    form: Mapping[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Send one request and return its decoded JSON body (None when empty)."""
    sent = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    attempts = GET_ATTEMPTS if method == "GET" else 1
    for attempt in range(1, attempts + 1):
        try:
            return _once(method, target, headers=sent, data=data, timeout=timeout)
        except HttpError as exc:
            retry = exc.status is None or exc.status in _RETRY_STATUS
            if not retry or attempt == attempts:
                raise
            sleep(2.0 ** (attempt - 1))
    raise AssertionError("unreachable")


def _once(
    method: str, target: str, *, headers: Mapping[str, str], data: bytes | None, timeout: float
) -> Any:
    where = f"{method} {target.split('?')[0]}"
    prepared = urllib.request.Request(target, data=data, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:
            text = response.read()
    except urllib.error.HTTPError as exc:
        excerpt = exc.read()[:300].decode("utf-8", "replace")
        raise HttpError(f"{where}: HTTP {exc.code}: {excerpt}", status=exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HttpError(f"{where}: {reason}", status=None) from None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise HttpError(f"{where}: the answer is not JSON: {text[:200]!r}", status=None) from None
