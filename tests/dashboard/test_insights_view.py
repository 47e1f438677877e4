"""The insights page's data: the DORA figures and bands per service and
environment (the core's, as `conveyor insights` prints them), the filters,
and the charts' buckets over the window."""

from __future__ import annotations

import datetime
import itertools

import pytest

from conveyor.archive import changes
from conveyor.core import insights
from conveyor.dashboard.views import insights as view_
from tests.dashboard import deliveries

NOW = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(scope="module")
def history() -> list[insights.Change]:
    return changes.changes(deliveries.records(now=NOW, namespace="team-a"))


def shown(row: view_.Row) -> dict[str, tuple[str, str]]:
    return {m.key: (m.value, m.band) for m in row.metrics}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, view_.Filters(window=30)),
        ({"window": "7"}, view_.Filters(window=7)),
        ({"window": "90", "service": "api"}, view_.Filters(window=90, service="api")),
        ({"window": "13"}, view_.Filters(window=30)),  # only the offered windows
        ({"window": "a week"}, view_.Filters(window=30)),
        (
            {"environment": "prod", "namespace": "team-a"},
            view_.Filters(environment="prod", namespace="team-a"),
        ),
    ],
)
def test_filters_from_the_address(query: dict[str, str], expected: view_.Filters) -> None:
    assert view_.Filters.from_query(query) == expected


def test_the_figures_and_bands_per_service_and_environment(
    history: list[insights.Change],
) -> None:
    view = view_.view(changes=history, filters=view_.Filters(), now=NOW)
    rows = {(r.service, r.environment): r for r in view.rows}
    assert list(rows) == [("api", "prod"), ("web", "staging"), ("worker", "prod")]
    # Hand-worked in tests/dashboard/deliveries.py.
    assert rows["api", "prod"].deploys == 31
    assert shown(rows["api", "prod"]) == {
        "deployment_frequency": ("1.00", "elite"),
        "lead_time": ("3h", "elite"),
        "change_failure_rate": ("6%", "high"),
        "time_to_restore": ("120m", "high"),
    }
    assert rows["web", "staging"].deploys == 8
    assert shown(rows["web", "staging"]) == {
        "deployment_frequency": ("0.20", "high"),
        "lead_time": ("2d", "high"),
        "change_failure_rate": ("25%", "low"),
        "time_to_restore": ("4d", "medium"),
    }
    assert view.overall.service == view_.ALL
    assert view.overall.deploys == 40
    assert view.archived == len(history)


def test_a_service_filter_keeps_its_environments_only(history: list[insights.Change]) -> None:
    view = view_.view(changes=history, filters=view_.Filters(environment="prod"), now=NOW)
    assert [(r.service, r.environment) for r in view.rows] == [("api", "prod"), ("worker", "prod")]
    assert view.overall.deploys == 31 + 1
    # The options still list everything the archive has.
    assert view.services == ("api", "web", "worker")
    assert view.environments == ("prod", "staging")


def test_the_window_is_the_cli_window(history: list[insights.Change]) -> None:
    """The same figures as core/insights over [now - window, now), which
    `conveyor insights --since 7d` computes."""
    view = view_.view(changes=history, filters=view_.Filters(window=7, service="api"), now=NOW)
    report = insights.report(
        changes=[c for c in history if c.service == "api"], since=NOW - 7 * DAY, until=NOW
    )
    [group] = report.groups
    [row] = view.rows
    assert row.deploys == group.figures.deploys == 7
    assert shown(row)["deployment_frequency"] == ("1.00", "elite")
    # The failure was on day 10; day 5's rollback is 1 of 7.
    assert shown(row)["change_failure_rate"] == ("14%", "medium")
    assert shown(row)["time_to_restore"] == ("-", "-")


@pytest.mark.parametrize(
    ("days", "per", "labels"),
    [
        # NOW is 12:00 UTC on Monday 1 June: half a day at each end.
        (
            7,
            "day",
            ["25 May", "26 May", "27 May", "28 May", "29 May", "30 May", "31 May", "01 Jun"],
        ),
        (30, "day", 31),
        (90, "week", 14),  # from Monday 2 March, the window's start 3 March 12:00
    ],
)
def test_buckets_are_calendar_days_or_weeks(days: int, per: str, labels: list[str] | int) -> None:
    got, spans = view_.buckets(until=NOW, days=days)
    assert got == per
    if isinstance(labels, list):
        assert [label for label, _, _ in spans] == labels
    else:
        assert len(spans) == labels
    assert spans[0][1] == NOW - days * DAY  # clipped to the window
    assert spans[-1][2] == NOW
    assert all(a[2] == b[1] for a, b in itertools.pairwise(spans))
    if per == "week":
        assert spans[0][0] == "02 Mar"
        assert spans[1][1].weekday() == 0


@pytest.mark.parametrize(
    ("peak", "unit"),
    [
        (datetime.timedelta(0), "m"),
        (90 * datetime.timedelta(minutes=1), "m"),
        (5 * HOUR, "h"),
        (3 * DAY, "d"),
    ],
)
def test_the_lead_time_chart_counts_in_a_readable_unit(peak: datetime.timedelta, unit: str) -> None:
    assert view_.lead_unit(peak)[0] == unit


def test_the_charts_count_each_day(history: list[insights.Change]) -> None:
    view = view_.view(changes=history, filters=view_.Filters(window=7, service="api"), now=NOW)
    assert view.per == "day"
    # api deploys once a day at 09:00, all good in the last week: seven
    # green bars (25 May's 09:00 is before the window's 12:00 start).
    assert [r.css for r in view.deploys.rects] == ["ok"] * 7
    # 0% every day but 27 May's rollback: one bar.
    assert [r.title for r in view.failure_rate.rects] == ["27 May: 100% rate"]
    assert view.lead_unit == "h"
    assert {r.title for r in view.lead_time.rects} >= {"01 Jun: 3h lead"}
    assert not view.deploys.empty


def test_the_failure_rate_chart_shows_the_failing_week(history: list[insights.Change]) -> None:
    view = view_.view(changes=history, filters=view_.Filters(window=90, service="web"), now=NOW)
    assert view.per == "week"
    rates = [r.title for r in view.failure_rate.rects]
    assert len(rates) == 2  # the weeks of days 12 and 24
    assert all("%" in t for t in rates)


def test_no_deploys_in_the_window_is_empty_charts(history: list[insights.Change]) -> None:
    later = NOW + 200 * DAY
    view = view_.view(changes=history, filters=view_.Filters(window=7), now=later)
    assert view.deploys.empty
    assert all(r.deploys == 0 for r in view.rows)
    assert shown(view.overall)["change_failure_rate"] == ("-", "-")


def test_an_empty_archive() -> None:
    view = view_.view(changes=[], filters=view_.Filters(), now=NOW)
    assert (view.rows, view.archived, view.services) == ((), 0, ())
    assert view.deploys.empty
