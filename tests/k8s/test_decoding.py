"""decoding: kopf and aiohttp decode JSON with safejson, so no depth stops the operator."""

from __future__ import annotations

import json

import aiohttp
from kopf._cogs.clients import api as kopf_api

from conveyor.core import safejson
from conveyor.k8s import decoding


def test_install_points_both_call_sites_at_safejson() -> None:
    decoding.install()
    decoding.install()  # idempotent
    assert decoding.installed()
    assert (aiohttp.ClientResponse.json.__kwdefaults__ or {})["loads"] is safejson.loads_api
    # The watch stream's `json.loads(line)` now survives any depth...
    deep = '{"k":' * 5_000 + "1" + "}" * 5_000
    assert isinstance(kopf_api.json.loads(deep), dict)
    # ...and the rest of the json module is the real one.
    assert kopf_api.json.dumps({"a": 1}) == json.dumps({"a": 1})
    assert kopf_api.json.JSONDecodeError is json.JSONDecodeError


def test_importing_the_handlers_installs_it() -> None:
    from conveyor.handlers import operator  # noqa: F401

    assert decoding.installed()
