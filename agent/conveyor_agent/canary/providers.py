"""Metric providers: one query over a time window, as a list of points.

Each provider answers `points(query, start, end, step)` (epoch seconds) with
the values of the one series the query returns, oldest first; NaN and null
values are left to the scoring to drop. A query returning several series is
refused: aggregate it to one (sum, avg, ...), so that baseline and canary are
compared like for like.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Protocol

from conveyor_agent import credentials, errors, http

DATADOG = "https://api.datadoghq.com"


class Provider(Protocol):
    def points(self, *, query: str, start: float, end: float, step: float) -> list[float]: ...


def _one_series(series: list[list[float]], *, query: str) -> list[float]:
    with_data = [s for s in series if s]
    if len(with_data) > 1:
        raise errors.JobError(
            f"the query returns {len(with_data)} series; aggregate it to one: {query}"
        )
    return with_data[0] if with_data else []


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


@dataclasses.dataclass(frozen=True, kw_only=True)
class Prometheus:
    """/api/v1/query_range (a matrix); a window of one step uses /api/v1/query
    at its end (a vector or scalar)."""

    address: str
    headers: Mapping[str, str]

    def points(self, *, query: str, start: float, end: float, step: float) -> list[float]:
        if end - start < 2 * step:
            target = http.url(self.address, "/api/v1/query", {"query": query, "time": end})
        else:
            window = {"query": query, "start": start, "end": end, "step": f"{step:g}s"}
            target = http.url(self.address, "/api/v1/query_range", window)
        body = http.request("GET", target, headers=self.headers)
        return parse_prometheus(body, query=query)


def parse_prometheus(body: Any, *, query: str) -> list[float]:
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else body
        raise errors.JobError(f"prometheus refused the query {query}: {error}")
    data = body.get("data") or {}
    kind, result = data.get("resultType"), data.get("result") or []
    if kind == "scalar":
        return [_number(result[1])]
    if kind == "vector":
        return _one_series([[_number(r["value"][1])] for r in result], query=query)
    if kind == "matrix":
        return _one_series([[_number(v) for _, v in r["values"]] for r in result], query=query)
    raise errors.JobError(f"prometheus answered a {kind} for {query}; a number is needed")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Datadog:
    """GET /api/v1/query (metrics query, timeseries points)."""

    address: str
    headers: Mapping[str, str]

    def points(self, *, query: str, start: float, end: float, step: float) -> list[float]:
        window = {"from": int(start), "to": int(end), "query": query}
        body = http.request(
            "GET", http.url(self.address, "/api/v1/query", window), headers=self.headers
        )
        if not isinstance(body, dict) or body.get("status") == "error":
            error = body.get("error") if isinstance(body, dict) else body
            raise errors.JobError(f"datadog refused the query {query}: {error}")
        series = body.get("series") or []
        return _one_series([[_number(v) for _, v in s["pointlist"]] for s in series], query=query)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Graphite:
    """GET /render?format=json: [{target, datapoints: [[value, timestamp]]}]."""

    address: str
    headers: Mapping[str, str]

    def points(self, *, query: str, start: float, end: float, step: float) -> list[float]:
        window = {"target": query, "from": int(start), "until": int(end), "format": "json"}
        body = http.request("GET", http.url(self.address, "/render", window), headers=self.headers)
        if not isinstance(body, list):
            raise errors.JobError(f"graphite answered no list of series for {query}")
        return _one_series([[_number(v) for v, _ in s["datapoints"]] for s in body], query=query)


@dataclasses.dataclass(frozen=True, kw_only=True)
class InfluxDB:
    """InfluxQL over the v1 /query API; the query gives its own time range with
    $start and $end (epoch seconds): WHERE time >= ${start}s AND time < ${end}s."""

    address: str
    headers: Mapping[str, str]

    def points(self, *, query: str, start: float, end: float, step: float) -> list[float]:
        body = http.request(
            "GET",
            http.url(self.address, "/query", {"q": query, "epoch": "s"}),
            headers=self.headers,
        )
        results = (body or {}).get("results") or [{}]
        if results[0].get("error") or (body or {}).get("error"):
            error = results[0].get("error") or body.get("error")
            raise errors.JobError(f"influxdb refused the query {query}: {error}")
        series = results[0].get("series") or []
        return _one_series([[_number(row[1]) for row in s["values"]] for s in series], query=query)


def from_params(params: Mapping[str, Any], *, environ: Mapping[str, str]) -> Provider:
    """The provider the params name, with its credentials from the mounted Secret keys."""
    name = params.get("provider") or "prometheus"
    address = params.get("address") or (DATADOG if name == "datadog" else "")
    if not address:
        raise errors.JobError(f"params.address: required for provider {name}")
    if name == "datadog":
        headers = {
            "DD-API-KEY": credentials.file("apiKey", environ=environ),
            "DD-APPLICATION-KEY": credentials.file("appKey", environ=environ),
        }
        return Datadog(address=address, headers=headers)
    token = credentials.file("token", environ=environ)
    bearer = {"Authorization": f"Bearer {token}"} if token else {}
    kinds: dict[str, type[Prometheus | Graphite | InfluxDB]] = {
        "prometheus": Prometheus,
        "graphite": Graphite,
        "influxdb": InfluxDB,
    }
    if name not in kinds:
        raise errors.JobError(f"params.provider: {name} is not built in; use a Worker jobTemplate")
    return kinds[name](address=address, headers=bearer)
