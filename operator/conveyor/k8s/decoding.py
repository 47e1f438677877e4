"""Make every JSON body the operator reads decode with `core.safejson.loads_api`.

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
    shim.loads = safejson.loads_api  # type: ignore[attr-defined]
    shim.JSONDecodeError = json.JSONDecodeError  # type: ignore[attr-defined]
    return shim


def install() -> None:
    """Idempotent: point kopf's and aiohttp's JSON decoding at safejson.loads_api."""
    defaults = aiohttp.ClientResponse.json.__kwdefaults__
    if defaults is None or "loads" not in defaults:
        raise RuntimeError("aiohttp's ClientResponse.json() has no loads= any more")
    if not isinstance(getattr(kopf_api, "json", None), types.ModuleType):
        raise RuntimeError("kopf's watch stream no longer decodes with json.loads")
    defaults["loads"] = safejson.loads_api
    if not isinstance(getattr(kopf_api, "json"), _Json):  # noqa: B009 (not exported)
        setattr(kopf_api, "json", _shim())  # noqa: B010


def installed() -> bool:
    defaults = aiohttp.ClientResponse.json.__kwdefaults__ or {}
    shim = getattr(kopf_api, "json", None)
    return defaults.get("loads") is safejson.loads_api and isinstance(shim, _Json)
