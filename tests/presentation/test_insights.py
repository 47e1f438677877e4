"""The DORA figures as people read them, shared by `conveyor insights` and
the dashboard's insights page, and the bands' legend from the core's bounds."""

from __future__ import annotations

import datetime

import pytest

from conveyor.core import insights
from conveyor.presentation import insights as shown

HOUR = datetime.timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (shown.per_day(1.0), "1.00"),
        (shown.per_day(1 / 7), "0.14"),
        (shown.span(None), "-"),
        (shown.span(3 * HOUR + 10 * datetime.timedelta(minutes=1)), "3h10m"),
        (shown.span(52 * HOUR), "2d4h"),
        (shown.rate(None), "-"),
        (shown.rate(0.0645), "6%"),
        (shown.rate(1.0), "100%"),
        (shown.band(None), "-"),
        (shown.band(insights.Band.ELITE), "elite"),
    ],
)
def test_figures_for_people(text: str, expected: str) -> None:
    assert text == expected


def test_every_metric_has_a_value_and_a_band() -> None:
    f = insights.Figures(
        deploys=4,
        successful=3,
        failed=1,
        failed_canaries=0,
        rollbacks=0,
        days=3.0,
        lead_times=(2 * HOUR,),
        incidents=(),
    )
    assert shown.values(f) == {
        "deployment_frequency": "1.00",
        "lead_time": "120m",  # as kubectl prints it
        "change_failure_rate": "25%",
        "time_to_restore": "-",
    }
    assert [key for key, _ in shown.METRICS] == list(f.bands())


def test_the_legend_reads_the_core_bounds() -> None:
    """The table docs/history.md gives, from the numbers the bands are computed with."""
    assert [(r.band, r.bounds) for r in shown.legend()] == [
        ("elite", ("≥ 1 a day", "< 1 day", "≤ 5%", "< 1 hour")),
        ("high", ("≥ 1 every 7 days", "< 7 days", "≤ 10%", "< 1 day")),
        ("medium", ("≥ 1 every 30 days", "< 30 days", "≤ 15%", "< 7 days")),
        ("low", ("less", "longer", "more", "longer")),
    ]
    # Each bound is where the band starts (inclusive for the frequency and the
    # failure rate, exclusive for the durations).
    for i, band in enumerate(insights.RANKED):
        assert insights.frequency_band(insights.FREQUENCY_BOUNDS[i]) == band
        assert insights.failure_rate_band(insights.FAILURE_RATE_BOUNDS[i]) == band
        assert insights.lead_time_band(insights.LEAD_TIME_BOUNDS[i]) != band
        assert insights.restore_band(insights.RESTORE_BOUNDS[i] - HOUR / 60) == band
