"""quarantine: one object's exception is logged with a traceback at most once
per LOG_EVERY, then as one line; it is retried, and never escapes."""

from __future__ import annotations

import logging

import pytest

from conveyor.k8s import quarantine


def test_an_exception_is_swallowed_retried_and_its_traceback_rate_limited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    guard = quarantine.Quarantine(monotonic=lambda: now[0])
    retries: list[float] = []
    with caplog.at_level(logging.WARNING):
        for at in (0.0, 1.0, 2.0, quarantine.LOG_EVERY + 1):
            now[0] = at
            with guard.guard("advancing", "ns/j", retry=retries.append):
                raise ValueError("poisoned")
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 2  # at 0 and after LOG_EVERY, not at 1 and 2
    assert len(caplog.records) == 4
    assert retries == [quarantine.RETRY_AFTER] * 4


def test_objects_are_limited_apart() -> None:
    guard = quarantine.Quarantine(monotonic=lambda: 0.0)
    with guard.guard("advancing", "ns/a"):
        raise KeyError("a")
    with guard.guard("advancing", "ns/b"):
        raise KeyError("b")
    assert len(guard._logged) == 2
