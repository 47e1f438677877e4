"""canary-analysis against fake metric providers that answer as the real APIs do."""

from __future__ import annotations

import json
import math
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from conveyor_agent import cli, errors
from conveyor_agent.canary import providers, run
from tests.agent import fakes

START = 1_700_000_000.0


def prometheus_matrix(values: list[float | str], *, series: int = 1) -> dict[str, Any]:
    result = [
        {
            "metric": {"app": f"api-{i}"},
            "values": [[START + n * 5, str(v)] for n, v in enumerate(values)],
        }
        for i in range(series)
    ]
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


def prometheus_vector(value: str | None) -> dict[str, Any]:
    result = [] if value is None else [{"metric": {}, "value": [START, value]}]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


# -- each provider: the request it sends, the answer it reads ---------------------


def test_prometheus_range_query(fake_api: fakes.FakeApi) -> None:
    fake_api.route("GET", "/api/v1/query_range", prometheus_matrix([1, 2, "NaN", 4]))
    prometheus = providers.Prometheus(address=fake_api.url, headers={"Authorization": "Bearer t"})

    points = prometheus.points(query="sum(up)", start=START, end=START + 60, step=5)

    assert points[:2] == [1.0, 2.0]
    assert math.isnan(points[2])
    (request,) = fake_api.requests
    assert request.query == {
        "query": "sum(up)",
        "start": str(START),
        "end": str(START + 60),
        "step": "5s",
    }
    assert request.headers["authorization"] == "Bearer t"


@pytest.mark.parametrize(
    ("answer", "points"),
    [
        (prometheus_vector("0.25"), [0.25]),
        (prometheus_vector(None), []),
        ({"status": "success", "data": {"resultType": "scalar", "result": [START, "3"]}}, [3.0]),
    ],
)
def test_prometheus_instant_query(
    fake_api: fakes.FakeApi, answer: dict[str, Any], points: list[float]
) -> None:
    fake_api.route("GET", "/api/v1/query", answer)
    prometheus = providers.Prometheus(address=fake_api.url, headers={})

    # A window of one step asks for the value at its end.
    assert prometheus.points(query="up", start=START, end=START + 5, step=5) == points
    assert fake_api.requests[0].query == {"query": "up", "time": str(START + 5)}


def test_prometheus_errors_and_many_series_are_refused(fake_api: fakes.FakeApi) -> None:
    prometheus = providers.Prometheus(address=fake_api.url, headers={})
    fake_api.route("GET", "/api/v1/query_range", prometheus_matrix([1, 2], series=2))
    with pytest.raises(errors.JobError, match="returns 2 series; aggregate"):
        prometheus.points(query="up", start=START, end=START + 60, step=5)
    fake_api.route(
        "GET",
        "/api/v1/query_range",
        {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"},
        status=400,
    )
    with pytest.raises(errors.JobError, match="HTTP 400"):
        prometheus.points(query="up(", start=START, end=START + 60, step=5)


def test_datadog(fake_api: fakes.FakeApi) -> None:
    answer = {
        "status": "ok",
        "res_type": "time_series",
        "series": [
            {
                "metric": "trace.http.errors",
                "pointlist": [[START * 1000, 1.5], [START * 1000, None]],
            }
        ],
    }
    fake_api.route("GET", "/api/v1/query", answer)
    datadog = providers.Datadog(address=fake_api.url, headers={"DD-API-KEY": "k"})

    points = datadog.points(query="sum:errors{v:a}", start=START, end=START + 60, step=5)

    assert points[0] == 1.5
    assert math.isnan(points[1])
    request = fake_api.requests[0]
    assert request.query == {
        "from": str(int(START)),
        "to": str(int(START + 60)),
        "query": "sum:errors{v:a}",
    }
    assert request.headers["dd-api-key"] == "k"


def test_graphite(fake_api: fakes.FakeApi) -> None:
    answer = [{"target": "errors.a", "tags": {}, "datapoints": [[2.0, START], [None, START + 10]]}]
    fake_api.route("GET", "/render", answer)
    graphite = providers.Graphite(address=fake_api.url, headers={})

    points = graphite.points(query="errors.a", start=START, end=START + 60, step=10)

    assert points[0] == 2.0
    assert math.isnan(points[1])
    assert fake_api.requests[0].query == {
        "target": "errors.a",
        "from": str(int(START)),
        "until": str(int(START + 60)),
        "format": "json",
    }


def test_influxdb(fake_api: fakes.FakeApi) -> None:
    answer = {
        "results": [
            {
                "statement_id": 0,
                "series": [
                    {
                        "name": "http",
                        "columns": ["time", "mean"],
                        "values": [[START, 7], [START, 9]],
                    }
                ],
            }
        ]
    }
    fake_api.route("GET", "/query", answer)
    influx = providers.InfluxDB(address=fake_api.url, headers={})

    assert influx.points(query="SELECT ...", start=START, end=START + 60, step=5) == [7.0, 9.0]
    assert fake_api.requests[0].query == {"q": "SELECT ...", "epoch": "s"}
    fake_api.route("GET", "/query", {"results": [{"statement_id": 0, "error": "bad query"}]})
    with pytest.raises(errors.JobError, match="bad query"):
        influx.points(query="SELECT", start=START, end=START + 60, step=5)


def test_credentials_come_from_the_mounted_keys(tmp_path: pathlib.Path) -> None:
    (tmp_path / "token").write_text("s3cret\n")
    (tmp_path / "apiKey").write_text("api")
    (tmp_path / "appKey").write_text("app")
    environ = {"CONVEYOR_CREDENTIALS_DIR": str(tmp_path)}

    prometheus = providers.from_params({"address": "http://p"}, environ=environ)
    datadog = providers.from_params({"provider": "datadog"}, environ=environ)

    assert isinstance(prometheus, providers.Prometheus)
    assert prometheus.headers == {"Authorization": "Bearer s3cret"}
    assert isinstance(datadog, providers.Datadog)
    assert datadog.address == providers.DATADOG
    assert datadog.headers == {"DD-API-KEY": "api", "DD-APPLICATION-KEY": "app"}
    unmounted = providers.from_params({"address": "http://p"}, environ={})
    assert isinstance(unmounted, providers.Prometheus)
    assert unmounted.headers == {}


# -- the analysis loop, on a fake clock ----------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class ScriptedProvider:
    """Points by (variant found in the query, interval number)."""

    def __init__(self, answer: Callable[[str, float], list[float]]) -> None:
        self.answer = answer
        self.queries: list[tuple[str, float, float]] = []

    def points(self, *, query: str, start: float, end: float, step: float) -> list[float]:
        self.queries.append((query, start, end))
        return self.answer(query, end)


PARAMS: dict[str, Any] = {
    "baseline": "api-baseline",
    "canary": "api-canary",
    "provider": "prometheus",
    "address": "http://prometheus:9090",
    "interval": "1m",
    "duration": "3m",
    "passScore": 90,
    "metrics": [
        {"name": "errors", "query": 'sum(rate(errors{app="$variant",ns="${namespace}"}[1m]))'},
        {"name": "latency", "query": 'p99{app="$variant"}', "direction": "increase"},
    ],
}


def test_every_interval_is_judged_over_the_window_just_past() -> None:
    clock = FakeClock()
    provider = ScriptedProvider(lambda query, end: [1.0, 1.0])

    outputs = run.main(
        PARAMS, environ={"NAMESPACE": "team-a"}, clock=clock, sleep=clock.sleep, provider=provider
    )

    assert outputs["result"] == "pass"
    assert outputs["score"] == 100.0
    assert outputs["intervals"] == 3
    assert clock.slept == [60.0, 60.0, 60.0]
    assert provider.queries[0] == (
        'sum(rate(errors{app="api-baseline",ns="team-a"}[1m]))',
        START,
        START + 60,
    )
    assert provider.queries[1][0] == 'sum(rate(errors{app="api-canary",ns="team-a"}[1m]))'
    assert [q[1] for q in provider.queries[::4]] == [START, START + 60, START + 120]
    assert outputs["metrics"][0] == {
        "name": "errors",
        "result": "pass",
        "baseline": 1.0,
        "canary": 1.0,
        "deviation": 0.0,
        "pValue": None,
    }


def test_a_critical_failure_stops_the_analysis_early() -> None:
    params = {**PARAMS, "metrics": [{**PARAMS["metrics"][1], "critical": True}]}
    clock = FakeClock()
    provider = ScriptedProvider(lambda query, end: [3.0] if "canary" in query else [1.0])

    with pytest.raises(errors.CheckFailed) as failed:
        run.main(params, environ={}, clock=clock, sleep=clock.sleep, provider=provider)

    outputs = failed.value.outputs
    assert outputs["result"] == "fail"
    assert outputs["intervals"] == 1
    assert outputs["failed"] == ["latency"]
    assert outputs["metrics"][0]["deviation"] == 200.0


def test_no_data_is_inconclusive_and_fails_the_job() -> None:
    clock = FakeClock()
    with pytest.raises(errors.CheckFailed) as failed:
        run.main(
            PARAMS,
            environ={},
            clock=clock,
            sleep=clock.sleep,
            provider=ScriptedProvider(lambda q, e: []),
        )
    assert failed.value.outputs["result"] == "inconclusive"
    assert failed.value.outputs["noData"] == ["errors", "latency"]


def test_a_zero_baseline_deviation_is_written_as_text() -> None:
    clock = FakeClock()
    provider = ScriptedProvider(lambda query, end: [1.0] if "canary" in query else [0.0])
    with pytest.raises(errors.CheckFailed) as failed:
        run.main(PARAMS, environ={}, clock=clock, sleep=clock.sleep, provider=provider)
    assert failed.value.outputs["metrics"][0]["deviation"] == "+inf"
    json.dumps(failed.value.outputs, allow_nan=False)  # valid JSON, no Infinity


# -- the whole command, as a pod runs it ---------------------------------------------


def test_the_command_against_a_fake_prometheus(
    fake_api: fakes.FakeApi, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(request: fakes.Request) -> tuple[int, Any]:
        worse = "api-canary" in request.query["query"]
        return 200, prometheus_matrix([5.0 if worse else 1.0] * 12)

    fake_api.route("GET", "/api/v1/query_range", answer)
    params = {**PARAMS, "address": fake_api.url, "interval": "2s", "duration": "2s"}
    (tmp_path / "params.json").write_text(json.dumps(params))
    output = tmp_path / "termination-log"

    code = cli.main(
        ["canary-analysis", "--params", str(tmp_path / "params.json"), "--output", str(output)],
        environ={"NAMESPACE": "team-a", "CONVEYOR_CREDENTIALS_DIR": str(tmp_path)},
    )

    assert code == errors.EXIT_FAILED
    outputs = json.loads(output.read_text())
    assert outputs["result"] == "fail"
    assert outputs["failed"] == ["errors", "latency"]
    assert outputs["metrics"][1]["pValue"] < 0.05  # 12 points each: the U test ran
    assert len(fake_api.requests) == 4
