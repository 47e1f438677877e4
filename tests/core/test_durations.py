"""durations: Go-style durations ("500ms", "5s", "1m30s", "2h") as kubectl users write them."""

from __future__ import annotations

import datetime
import re

import pytest

from conveyor.core import durations

S = datetime.timedelta(seconds=1)
MS = datetime.timedelta(milliseconds=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("0s", datetime.timedelta(0), id="zero"),
        pytest.param("500ms", 500 * MS, id="milliseconds"),
        pytest.param("5s", 5 * S, id="seconds"),
        pytest.param("5m", 300 * S, id="minutes"),
        pytest.param("2h", 7200 * S, id="hours"),
        pytest.param("1m30s", 90 * S, id="minutes and seconds"),
        pytest.param("1h30m", 5400 * S, id="hours and minutes"),
        pytest.param("1h2m3s4ms", 3723 * S + 4 * MS, id="every unit"),
        pytest.param("1.5h", 5400 * S, id="fractional hours"),
        pytest.param("0.5s", 500 * MS, id="fractional seconds"),
        pytest.param("90s", 90 * S, id="seconds over a minute"),
        pytest.param("168h", datetime.timedelta(days=7), id="a week"),
        pytest.param("1m1ms", 60 * S + MS, id="ms is not read as m then s"),
        pytest.param("30s30s", 60 * S, id="repeated units add up as in Go"),
    ],
)
def test_parse(text: str, expected: datetime.timedelta) -> None:
    assert durations.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("5", id="no unit"),
        pytest.param("s", id="no number"),
        pytest.param("-5s", id="negative"),
        pytest.param("+5s", id="signed"),
        pytest.param("5 s", id="inner space"),
        pytest.param(" 5s", id="leading space"),
        pytest.param("5s ", id="trailing space"),
        pytest.param("5s\n", id="trailing newline"),
        pytest.param("5d", id="days are not a Go unit"),
        pytest.param("5us", id="microseconds are not accepted"),
        pytest.param("5S", id="units are lower case"),
        pytest.param(".5s", id="no leading digit"),
        pytest.param("5.s", id="no digit after the point"),
        pytest.param("PT5M", id="ISO 8601"),
        pytest.param("1h 30m", id="space between parts"),
    ],
)
def test_parse_refuses_malformed_text_with_a_value_error_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        durations.parse(text)


@pytest.mark.parametrize(
    "value",
    [pytest.param(5, id="int"), pytest.param(None, id="None"), pytest.param(5.0, id="float")],
)
def test_parse_refuses_what_is_not_text(value: object) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        durations.parse(value)  # type: ignore[arg-type]


def test_a_duration_too_long_for_a_timedelta_is_a_value_error() -> None:
    # Matches the CRD pattern and its maxLength (64), so the API server lets it
    # through; callers (pydantic validators) only turn ValueErrors into
    # InvalidSpec, so anything else would crash the parse of a user's object.
    with pytest.raises(ValueError, match="9999999999999h"):
        durations.parse("9999999999999h")


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        pytest.param("1h30m", True, id="1h30m"),
        pytest.param("500ms", True, id="500ms"),
        pytest.param("1h 30m", False, id="inner space"),
        pytest.param("5s\n", False, id="trailing newline"),
        pytest.param("5d", False, id="days"),
    ],
)
def test_the_crd_pattern_accepts_exactly_what_parse_accepts(text: str, accepted: bool) -> None:
    # The API server matches the whole value (Go regexp: `$` is the end of text).
    assert (
        re.fullmatch(durations.PATTERN.removeprefix("^").removesuffix("$"), text) is not None
    ) is accepted
    try:
        durations.parse(text)
    except ValueError:
        parsed = False
    else:
        parsed = True
    assert parsed is accepted


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(datetime.timedelta(0), "0s", id="zero"),
        pytest.param(500 * MS, "500ms", id="milliseconds"),
        pytest.param(5 * S, "5s", id="seconds"),
        pytest.param(60 * S, "1m", id="one minute, no zero seconds"),
        pytest.param(90 * S, "1m30s", id="minutes and seconds"),
        pytest.param(3600 * S, "1h", id="one hour"),
        pytest.param(5400 * S, "1h30m", id="hours and minutes"),
        pytest.param(3601 * S, "1h1s", id="hours and seconds, no zero minutes"),
        pytest.param(3723 * S + 4 * MS, "1h2m3s4ms", id="every unit"),
        pytest.param(datetime.timedelta(days=2), "48h", id="days as hours"),
        pytest.param(1500 * MS, "1s500ms", id="seconds and milliseconds"),
        pytest.param(datetime.timedelta(microseconds=400), "0s", id="below a millisecond"),
        pytest.param(datetime.timedelta(microseconds=1500), "2ms", id="rounded to milliseconds"),
    ],
)
def test_format_is_the_shortest_go_style_text(value: datetime.timedelta, text: str) -> None:
    assert durations.format(value) == text


@pytest.mark.parametrize(
    "text",
    ["0s", "500ms", "5s", "1m", "1m30s", "1h", "1h30m", "1h1s", "1h2m3s4ms", "48h", "1s500ms"],
)
def test_canonical_text_round_trips(text: str) -> None:
    assert durations.format(durations.parse(text)) == text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        pytest.param("90s", "1m30s", id="seconds over a minute"),
        pytest.param("60m", "1h", id="minutes to an hour"),
        pytest.param("0.5s", "500ms", id="fraction"),
        pytest.param("1.5h", "1h30m", id="fractional hours"),
        pytest.param("0h0m5s", "5s", id="zero parts dropped"),
        pytest.param("1000ms", "1s", id="milliseconds to a second"),
    ],
)
def test_format_canonicalizes_what_parse_accepts(text: str, canonical: str) -> None:
    assert durations.format(durations.parse(text)) == canonical


@pytest.mark.parametrize(
    "millis", [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 86_400_123]
)
def test_every_millisecond_value_round_trips_through_text(millis: int) -> None:
    value = datetime.timedelta(milliseconds=millis)
    assert durations.parse(durations.format(value)) == value
