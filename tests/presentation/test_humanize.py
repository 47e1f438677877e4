"""humanize: ages and durations as `kubectl get` prints them."""

from __future__ import annotations

import datetime

import pytest

from conveyor.presentation import humanize
from tests import builders as b


def seconds(value: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(seconds(0), "0s", id="zero"),
        pytest.param(seconds(0.9), "0s", id="under a second rounds down"),
        pytest.param(seconds(-5), "0s", id="clock skew is 0s"),
        pytest.param(seconds(59), "59s", id="seconds"),
        pytest.param(seconds(119), "119s", id="seconds up to two minutes"),
        pytest.param(seconds(120), "2m", id="whole minutes"),
        pytest.param(seconds(192), "3m12s", id="minutes and seconds under ten minutes"),
        pytest.param(seconds(10 * 60 + 5), "10m", id="minutes only from ten minutes"),
        pytest.param(seconds(179 * 60), "179m", id="minutes up to three hours"),
        pytest.param(seconds(3 * 3600), "3h", id="whole hours"),
        pytest.param(seconds(5 * 3600 + 7 * 60), "5h7m", id="hours and minutes under 8h"),
        pytest.param(seconds(30 * 3600), "30h", id="hours up to two days"),
        pytest.param(seconds(3 * 86400 + 4 * 3600), "3d4h", id="days and hours under 8d"),
        pytest.param(seconds(2 * 86400), "2d", id="whole days"),
        pytest.param(seconds(100 * 86400), "100d", id="days up to two years"),
        pytest.param(seconds(3 * 365 * 86400 + 86400), "3y1d", id="years and days"),
        pytest.param(seconds(9 * 365 * 86400), "9y", id="years"),
    ],
)
def test_duration(value: datetime.timedelta, text: str) -> None:
    assert humanize.duration(value) == text


@pytest.mark.parametrize(
    ("when", "text"),
    [
        pytest.param(None, "-", id="unknown"),
        pytest.param(b.at(-45), "45s", id="in the past"),
        pytest.param(b.at(3), "0s", id="in the future (skew)"),
    ],
)
def test_age(when: datetime.datetime | None, text: str) -> None:
    assert humanize.age(when, now=b.T0) == text


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        pytest.param(None, None, "-", id="not started"),
        pytest.param(b.at(-90), None, "90s", id="still going: until now"),
        pytest.param(b.at(-600), b.at(-300), "5m", id="finished"),
    ],
)
def test_between(start: datetime.datetime | None, end: datetime.datetime | None, text: str) -> None:
    assert humanize.between(start, end, now=b.T0) == text


@pytest.mark.parametrize(
    ("when", "text"),
    [
        pytest.param(b.at(-1), "now", id="due"),
        pytest.param(b.T0, "now", id="exactly now"),
        pytest.param(b.at(0.2), "in 1s", id="rounds up"),
        pytest.param(b.at(150), "in 2m30s", id="minutes"),
    ],
)
def test_until(when: datetime.datetime, text: str) -> None:
    assert humanize.until(when, now=b.T0) == text
