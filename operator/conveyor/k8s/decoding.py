"""Make every JSON body the operator reads decode with `core.safejson`.

kopf decodes list responses with aiohttp's `ClientResponse.json()` and watch
events with `json.loads`; both raise RecursionError on an object nested about
a thousand levels deep, which the API server accepts (up to 10,000), and kopf
then stops the operator, at every restart again. kopf has no setting for its
decoder, so `install` swaps both at their only call sites; the test of this
module fails if a kopf or aiohttp upgrade moves them.
"""

from __future__ import annotations

import json
import types
from typing import Any

import aiohttp
from kopf._cogs.clients import api as kopf_api

from conveyor.core import safejson


class _Json(types.ModuleType):
    """The json module, with a `loads` that no depth can crash."""

    def __getattr__(self, name: str) -> Any:
        return getattr(json, name)


def _shim() -> _Json:
    shim = _Json("json")
    shim.loads = safejson.loads  # type: ignore[attr-defined]
    shim.JSONDecodeError = json.JSONDecodeError  # type: ignore[attr-defined]
    return shim


def install() -> None:
    """Idempotent: point kopf's and aiohttp's JSON decoding at safejson.loads."""
    defaults = aiohttp.ClientResponse.json.__kwdefaults__
    assert defaults is not None and "loads" in defaults, "aiohttp's json() changed"
    defaults["loads"] = safejson.loads
    assert isinstance(kopf_api.json, types.ModuleType), "kopf's watch decoding changed"
    if not isinstance(kopf_api.json, _Json):
        kopf_api.json = _shim()  # type: ignore[misc]


def installed() -> bool:
    defaults = aiohttp.ClientResponse.json.__kwdefaults__ or {}
    return defaults.get("loads") is safejson.loads and isinstance(kopf_api.json, _Json)
