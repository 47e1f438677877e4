"""The DORA maths on a synthetic 90-day history, each expectation worked out
by hand in the comment next to it."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from conveyor.core import insights

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)  # the window's start
UNTIL = T0 + datetime.timedelta(days=90)
H = datetime.timedelta(hours=1)
M = datetime.timedelta(minutes=1)
D = datetime.timedelta(days=1)
E, HI, ME, LO = (insights.Band.ELITE, insights.Band.HIGH, insights.Band.MEDIUM, insights.Band.LOW)


def deploy(
    service: str,
    when: datetime.timedelta,
    *,
    ok: bool = True,
    rev: str | None = None,
    env: str = "prod",
    lead: datetime.timedelta | None = None,
) -> insights.Change:
    finished = T0 + when
    return insights.Change(
        service=service,
        environment=env,
        kind=insights.Kind.DEPLOY,
        finished_at=finished,
        succeeded=ok,
        revision=rev,
        committed_at=None if lead is None else finished - lead,
    )


def canary(
    service: str, when: datetime.timedelta, *, ok: bool, env: str = "prod"
) -> insights.Change:
    return dataclasses.replace(deploy(service, when, ok=ok, env=env), kind=insights.Kind.CANARY)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Expected:
    deploys: int
    successful: int
    frequency: float
    lead: datetime.timedelta | None
    cfr: float | None
    ttr: datetime.timedelta | None
    open: int
    bands: tuple[insights.Band | None, ...]  # DF, LT, CFR, TTR


def check(figures: insights.Figures, want: Expected) -> None:
    assert figures.deploys == want.deploys
    assert figures.successful == want.successful
    assert figures.deployment_frequency == pytest.approx(want.frequency)
    assert figures.lead_time == want.lead
    assert figures.change_failure_rate == (None if want.cfr is None else pytest.approx(want.cfr))
    assert figures.time_to_restore == want.ttr
    assert figures.open_incidents == want.open
    assert tuple(figures.bands().values()) == want.bands


def test_zero_deploys_is_low_frequency_and_nothing_else() -> None:
    report = insights.report(changes=[], since=T0, until=UNTIL)
    assert report.groups == ()
    check(
        report.overall,
        Expected(
            deploys=0, successful=0, frequency=0.0, lead=None, cfr=None, ttr=None, open=0,
            bands=(LO, None, None, None),
        ),
    )  # fmt: skip


def test_a_good_deploy_every_day_two_hours_after_its_commit_is_elite() -> None:
    # 90 deploys in 90 days: 1/day (elite); lead 2h (< 1 day: elite); no failures (elite).
    changes = [deploy("api", n * D + 12 * H, lead=2 * H) for n in range(90)]
    [group] = insights.report(changes=changes, since=T0, until=UNTIL).groups
    assert (group.service, group.environment) == ("api", "prod")
    check(
        group.figures,
        Expected(
            deploys=90, successful=90, frequency=1.0, lead=2 * H, cfr=0.0, ttr=None, open=0,
            bands=(E, E, E, None),
        ),
    )  # fmt: skip


def test_all_failures_is_one_open_incident() -> None:
    # 10 failed deploys, days 0..9: nothing succeeded (0/day: low), 10/10 failed (low);
    # one incident from day 0, never restored: no time to restore, 1 open.
    changes = [deploy("api", n * D, ok=False, env="staging") for n in range(10)]
    [group] = insights.report(changes=changes, since=T0, until=UNTIL).groups
    check(
        group.figures,
        Expected(
            deploys=10, successful=0, frequency=0.0, lead=None, cfr=1.0, ttr=None, open=1,
            bands=(LO, None, LO, None),
        ),
    )  # fmt: skip
    assert group.figures.incidents[0].started_at == T0


def test_a_redeploy_of_an_older_revision_is_a_rollback() -> None:
    # r1, r2, r1 again (the rollback), r3, r3 again (a redeploy, not a rollback):
    # 5 deploys, 1 change failure: 20% (low); 5/90 a day = 0.0556 (>= 1/30: medium).
    changes = [
        deploy("api", 0 * D, rev="r1"),
        deploy("api", 7 * D, rev="r2"),
        deploy("api", 14 * D, rev="r1"),
        deploy("api", 21 * D, rev="r3"),
        deploy("api", 28 * D, rev="r3"),
    ]
    [group] = insights.report(changes=changes, since=T0, until=UNTIL).groups
    assert group.figures.rollbacks == 1
    check(
        group.figures,
        Expected(
            deploys=5, successful=5, frequency=5 / 90, lead=None, cfr=0.2, ttr=None, open=0,
            bands=(ME, None, LO, None),
        ),
    )  # fmt: skip


def overlapping() -> list[insights.Change]:
    return [
        # web: good on day 0; fails twice on day 10 (10:00, 11:00), good at 12:30:
        # one incident of 2h30m (the second failure is part of it); a failed
        # canary on day 40 09:00, good at 09:20: 20m; good again on day 60.
        deploy("web", 0 * D, rev="w1"),
        deploy("web", 10 * D + 10 * H, ok=False, rev="w2"),
        deploy("web", 10 * D + 11 * H, ok=False, rev="w2"),
        deploy("web", 10 * D + 12 * H + 30 * M, rev="w3"),
        canary("web", 40 * D + 9 * H, ok=False),
        canary("web", 39 * D, ok=True),  # a passed analysis counts for nothing
        deploy("web", 40 * D + 9 * H + 20 * M, rev="w4"),
        deploy("web", 60 * D, rev="w5"),
        # db fails at day 10 11:30, in the middle of web's incident; good a day later.
        deploy("db", 10 * D + 11 * H + 30 * M, ok=False, rev="d1"),
        deploy("db", 11 * D + 11 * H + 30 * M, rev="d1"),
    ]


def test_overlapping_incidents_per_service() -> None:
    db, web = insights.report(changes=overlapping(), since=T0, until=UNTIL).groups
    # web: 6 deploys, 4 good (4/90 = 0.044: medium); failures 2 + 1 canary = 3/6 = 50%
    # (low); incidents 150m and 20m: median 85m (< 1 day: high).
    check(
        web.figures,
        Expected(
            deploys=6, successful=4, frequency=4 / 90, lead=None, cfr=0.5, ttr=85 * M, open=0,
            bands=(ME, None, LO, HI),
        ),
    )  # fmt: skip
    # db: 2 deploys, 1 good (1/90: low); 1/2 failed (low); one incident of 1 day
    # (not < 1 day: medium).
    check(
        db.figures,
        Expected(
            deploys=2, successful=1, frequency=1 / 90, lead=None, cfr=0.5, ttr=D, open=0,
            bands=(LO, None, LO, ME),
        ),
    )  # fmt: skip


def test_overlapping_incidents_all_together_stay_separate() -> None:
    overall = insights.report(changes=overlapping(), since=T0, until=UNTIL).overall
    # 8 deploys, 5 good (5/90: medium); failures 3 + 1 = 4/8 (low); incidents
    # 150m, 20m and 1440m, not merged though web's and db's overlap: median 150m (high).
    check(
        overall,
        Expected(
            deploys=8, successful=5, frequency=5 / 90, lead=None, cfr=0.5, ttr=150 * M, open=0,
            bands=(ME, None, LO, HI),
        ),
    )  # fmt: skip
    assert len(overall.incidents) == 3


def test_what_came_before_the_window_is_context_only() -> None:
    # r1 and r2 ran before the window, and a failure at day -1: not counted,
    # and the incident it opened belongs to the earlier window. r1 again on day 1
    # is a rollback in this window: 1 deploy, 1 change failure (100%).
    changes = [
        deploy("api", -5 * D, rev="r1"),
        deploy("api", -2 * D, rev="r2"),
        deploy("api", -1 * D, ok=False, rev="r3"),
        deploy("api", 1 * D, rev="r1"),
        deploy("api", 95 * D, ok=False, rev="r9"),  # after the window: ignored
    ]
    [group] = insights.report(changes=changes, since=T0, until=UNTIL).groups
    check(
        group.figures,
        Expected(
            deploys=1, successful=1, frequency=1 / 90, lead=None, cfr=1.0, ttr=None, open=0,
            bands=(LO, None, LO, None),
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("leads", "median"),
    [
        ((1 * H, 3 * H, 2 * D), 3 * H),  # odd: the middle one
        ((1 * H, 3 * H, 5 * H, 10 * D), 4 * H),  # even: between the middle two
        ((-1 * H,), datetime.timedelta(0)),  # a commit time after the deploy (skew): 0
    ],
)
def test_lead_time_is_the_median(
    leads: tuple[datetime.timedelta, ...], median: datetime.timedelta
) -> None:
    changes = [deploy("api", n * D, lead=lead) for n, lead in enumerate(leads)]
    changes.append(deploy("api", 50 * D))  # no commit time: no lead time
    report = insights.report(changes=changes, since=T0, until=UNTIL)
    assert report.overall.lead_time == median


@pytest.mark.parametrize(
    ("per_day", "band"),
    [(3.0, E), (1.0, E), (0.99, HI), (1 / 7, HI), (0.14, ME), (1 / 30, ME), (0.033, LO), (0, LO)],
)
def test_frequency_bands(per_day: float, band: insights.Band) -> None:
    assert insights.frequency_band(per_day) == band


@pytest.mark.parametrize(
    ("lead", "band"),
    [(23 * H, E), (D, HI), (6 * D, HI), (7 * D, ME), (29 * D, ME), (30 * D, LO), (None, None)],
)
def test_lead_time_bands(lead: datetime.timedelta | None, band: insights.Band | None) -> None:
    assert insights.lead_time_band(lead) == band


@pytest.mark.parametrize(
    ("ttr", "band"),
    [(59 * M, E), (H, HI), (23 * H, HI), (D, ME), (6 * D, ME), (7 * D, LO), (None, None)],
)
def test_restore_bands(ttr: datetime.timedelta | None, band: insights.Band | None) -> None:
    assert insights.restore_band(ttr) == band


@pytest.mark.parametrize(
    ("rate", "band"),
    [(0.0, E), (0.05, E), (0.06, HI), (0.10, HI), (0.15, ME), (0.16, LO), (1.0, LO), (None, None)],
)
def test_failure_rate_bands(rate: float | None, band: insights.Band | None) -> None:
    assert insights.failure_rate_band(rate) == band


def test_failed_canaries_without_deploys_cap_the_rate_at_one() -> None:
    changes = [deploy("api", D), canary("api", 2 * D, ok=False), canary("api", 3 * D, ok=False)]
    [group] = insights.report(changes=changes, since=T0, until=UNTIL).groups
    assert group.figures.change_failures == 2
    assert group.figures.change_failure_rate == 1.0
    assert group.figures.open_incidents == 1
