"""Transient API failures: which they are, and one line per interval with
the count instead of a line (or a traceback) each."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from conveyor.k8s import api, transient


@pytest.mark.parametrize(
    ("exc", "is_transient"),
    [
        pytest.param(api.ApiError(status=0, reason="ConnectionError", message=""), True, id="conn"),
        pytest.param(api.ApiError(status=503, reason="", message=""), True, id="503"),
        pytest.param(api.ApiError(status=429, reason="", message=""), True, id="429"),
        pytest.param(api.NotLeading(), True, id="not leading"),
        pytest.param(aiohttp.ClientConnectionError(), True, id="aiohttp"),
        pytest.param(TimeoutError(), True, id="timeout"),
        pytest.param(api.ApiError(status=422, reason="Invalid", message=""), False, id="422"),
        pytest.param(api.ApiError(status=403, reason="Forbidden", message=""), False, id="403"),
        pytest.param(ValueError(), False, id="a bug"),
    ],
)
def test_what_counts_as_transient(exc: BaseException, is_transient: bool) -> None:
    assert transient.is_transient(exc) is is_transient


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_interval_with_the_count(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    tally = transient.Tally(logger=logging.getLogger("t"), interval=10, monotonic=clock)
    exc = api.ApiError(status=503, reason="ServiceUnavailable", message="down")
    with caplog.at_level(logging.WARNING, logger="t"):
        for _ in range(50):  # 50 failures over 25 s
            tally.failed("applying decisions", exc)
            clock.now += 0.5
        tally.failed("posting events", exc)
    lines = [r.getMessage() for r in caplog.records]
    assert [r.levelname for r in caplog.records] == ["WARNING"] * 4
    assert lines[0].startswith("applying decisions: 1 transient failure in the last 10s")
    assert lines[1].startswith("applying decisions: 20 transient failures")
    assert lines[2].startswith("applying decisions: 20 transient failures")
    assert lines[3].startswith("posting events: 1 transient failure")
    assert "ServiceUnavailable" in lines[0]
    assert not any(r.exc_info for r in caplog.records)


def test_kopf_retry_lines_are_folded_into_one_warning() -> None:
    clock = Clock()
    tally = transient.Tally(logger=logging.getLogger("t"), interval=10, monotonic=clock)
    folded = transient.KopfRetries(tally=tally)

    def record(name: str, msg: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)

    retry = "Request attempt #2/7 failed; will retry: GET /apis -> ClientConnectorError()"
    passed = [r for _ in range(30) if folded.filter(r := record("kopf._cogs.clients.api", retry))]
    assert len(passed) == 1
    assert passed[0].levelname == "WARNING"
    clock.now += 10
    last = record("kopf._cogs.clients.watching", retry)
    assert folded.filter(last)
    assert "(30 retried attempts in the last 10s)" in last.getMessage()
    # Other lines, kopf's or ours, pass as they are.
    other = record("kopf.objects", "Handler failed")
    assert folded.filter(other)
    assert other.levelname == "ERROR"
    assert folded.filter(record("conveyor.controller", retry))
