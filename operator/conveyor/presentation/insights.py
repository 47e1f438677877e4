"""Delivery insights (core/insights) as people read them: one text per
figure and the bands' legend, the same in `conveyor insights` and on the
dashboard's insights page. Pure."""

from __future__ import annotations

import dataclasses
import datetime

from conveyor.core import insights
from conveyor.presentation import humanize

# The four metrics, in the order the DORA report (and every table here) gives them.
METRICS = (
    ("deployment_frequency", "Deployment frequency"),
    ("lead_time", "Lead time for changes"),
    ("change_failure_rate", "Change failure rate"),
    ("time_to_restore", "Time to restore"),
)
BANDS = (insights.Band.ELITE, insights.Band.HIGH, insights.Band.MEDIUM, insights.Band.LOW)


def per_day(value: float) -> str:
    return f"{value:.2f}"


def span(value: datetime.timedelta | None) -> str:
    return "-" if value is None else humanize.duration(value)


def rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def band(value: insights.Band | None) -> str:
    return str(value) if value else "-"


def values(f: insights.Figures) -> dict[str, str]:
    """Each metric's figure as `conveyor insights` prints it."""
    return {
        "deployment_frequency": per_day(f.deployment_frequency),
        "lead_time": span(f.lead_time),
        "change_failure_rate": rate(f.change_failure_rate),
        "time_to_restore": span(f.time_to_restore),
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class LegendRow:
    band: str
    bounds: tuple[str, ...]  # one per metric, in METRICS' order


def _words(value: datetime.timedelta) -> str:
    days, rest = divmod(value, insights.DAY)
    if not rest:
        return f"{days} day" + ("s" if days != 1 else "")
    hours = round(value / insights.HOUR)
    return f"{hours} hour" + ("s" if hours != 1 else "")


def _frequency(per_day: float) -> str:
    return f"≥ {per_day:g} a day" if per_day >= 1 else f"≥ 1 every {round(1 / per_day)} days"


def legend() -> tuple[LegendRow, ...]:
    """What each band takes, read from the core's bounds (docs/history.md has the table)."""
    rows = [
        LegendRow(
            band=str(level),
            bounds=(
                _frequency(insights.FREQUENCY_BOUNDS[i]),
                f"< {_words(insights.LEAD_TIME_BOUNDS[i])}",
                f"≤ {insights.FAILURE_RATE_BOUNDS[i]:.0%}",
                f"< {_words(insights.RESTORE_BOUNDS[i])}",
            ),
        )
        for i, level in enumerate(insights.RANKED)
    ]
    rows.append(LegendRow(band=str(insights.Band.LOW), bounds=("less", "longer", "more", "longer")))
    return tuple(rows)
