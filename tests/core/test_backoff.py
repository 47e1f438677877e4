"""backoff: the wait before retry n is delay * factor ** (n - 1), never more than maxDelay."""

from __future__ import annotations

import datetime
import signal
from collections.abc import Iterator

import pytest

from conveyor.core import backoff, model


def policy(delay: str = "5s", factor: float = 2, max_delay: str = "5m") -> model.Backoff:
    """A spec.retry.backoff as a user writes it."""
    return model.Backoff.model_validate({"delay": delay, "factor": factor, "maxDelay": max_delay})


@pytest.mark.parametrize(
    ("delay", "factor", "max_delay", "failures", "seconds"),
    [
        pytest.param("5s", 2, "5m", 0, 0, id="no failure yet: no wait"),
        pytest.param("5s", 2, "5m", -1, 0, id="negative failures: no wait"),
        pytest.param("5s", 2, "5m", 1, 5, id="after the first failure: delay"),
        pytest.param("5s", 2, "5m", 2, 10, id="second: delay * factor"),
        pytest.param("5s", 2, "5m", 3, 20, id="third: delay * factor^2"),
        pytest.param("5s", 2, "5m", 6, 160, id="sixth: still under the cap"),
        pytest.param("5s", 2, "5m", 7, 300, id="seventh: 320s capped at 5m"),
        pytest.param("5s", 2, "5m", 100, 300, id="many failures: the cap"),
        pytest.param("5s", 1, "5m", 1, 5, id="factor 1: constant, first"),
        pytest.param("5s", 1, "5m", 50, 5, id="factor 1: constant, fiftieth"),
        pytest.param("500ms", 3, "1m", 3, 4.5, id="sub-second delay, factor 3"),
        pytest.param("1s", 1.5, "1h", 3, 2.25, id="fractional factor"),
        pytest.param("10s", 2, "10s", 1, 10, id="cap equal to the delay"),
        pytest.param("10s", 2, "10s", 5, 10, id="cap equal to the delay, later"),
        pytest.param("10m", 2, "5m", 1, 300, id="delay above the cap is capped"),
        pytest.param("0s", 2, "5m", 5, 0, id="zero delay: retry at once"),
        pytest.param("1s", 10, "1h", 4, 1000, id="steep factor"),
        pytest.param("1s", 10, "1h", 5, 3600, id="steep factor, capped"),
        pytest.param("5s", 2, "5m", 10_000, 300, id="huge failure count: no overflow"),
        pytest.param("5s", 1e300, "5m", 3, 300, id="huge factor: no overflow"),
    ],
)
def test_delay(delay: str, factor: float, max_delay: str, failures: int, seconds: float) -> None:
    wait = backoff.delay(backoff=policy(delay, factor, max_delay), failures=failures)
    assert wait == datetime.timedelta(seconds=seconds)


def test_the_defaults_are_5s_doubling_up_to_5m() -> None:
    assert backoff.schedule(backoff=model.Backoff(), retries=8) == [
        datetime.timedelta(seconds=s) for s in (5, 10, 20, 40, 80, 160, 300, 300)
    ]


@pytest.mark.parametrize(
    ("retries", "expected"),
    [
        pytest.param(0, [], id="no retries: empty"),
        pytest.param(1, [5], id="one retry"),
        pytest.param(3, [5, 10, 20], id="three retries"),
    ],
)
def test_schedule_lists_the_wait_before_each_retry(retries: int, expected: list[float]) -> None:
    assert backoff.schedule(backoff=policy(), retries=retries) == [
        datetime.timedelta(seconds=s) for s in expected
    ]


@pytest.mark.parametrize(
    ("delay", "factor", "max_delay"),
    [("5s", 2, "5m"), ("1s", 1, "1m"), ("250ms", 1.1, "30s"), ("10m", 3, "5m"), ("0s", 2, "1m")],
)
def test_the_schedule_never_shrinks_and_never_passes_the_cap(
    delay: str, factor: float, max_delay: str
) -> None:
    rule = policy(delay, factor, max_delay)
    waits = backoff.schedule(backoff=rule, retries=60)
    assert waits == sorted(waits)
    assert all(datetime.timedelta(0) <= w <= rule.max_delay for w in waits)


@pytest.fixture
def within_one_second() -> Iterator[None]:
    """Fail the test (instead of hanging the suite) if it takes over a second."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("took longer than a second")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("within_one_second")
@pytest.mark.parametrize(
    ("delay", "factor"),
    [
        pytest.param("5s", 1, id="factor 1 never reaches the cap"),
        pytest.param("0s", 2, id="zero delay never reaches the cap"),
    ],
)
def test_the_delay_is_computed_in_constant_time(delay: str, factor: float) -> None:
    # The wait must not depend on looping `failures` times: a count from the
    # API (or a long-lived retry loop) is not a bound on the work done here.
    wait = backoff.delay(backoff=policy(delay, factor, "5m"), failures=10**9)
    assert wait == min(policy(delay, factor).delay, datetime.timedelta(minutes=5))
