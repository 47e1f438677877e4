"""The peer table: the baseline, Kueue (shipped and tuned settings) and
Conveyor side by side, from the same runs (medians), as report.table prints it."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Getter = Callable[[Mapping[str, Any]], float | None]

# (column title, the scenario's key in a run)
COLUMNS = (
    ("baseline", "baseline"),
    ("Kueue (shipped)", "kueue-shipped"),
    ("Kueue (tuned)", "kueue-tuned"),
    ("Conveyor", "drain"),
)


def at(*keys: str, scale: float = 1.0) -> Getter:
    """The number at `keys` in a run (None if absent or not a number)."""

    def get(run: Mapping[str, Any]) -> float | None:
        value: Any = run
        for key in keys:
            if not isinstance(value, Mapping) or key not in value:
                return None
            value = value[key]
        return float(value) * scale if isinstance(value, int | float) else None

    return get


def ratio(scenario: str) -> Getter:
    """The scenario's drain time over the baseline's of the same run."""

    def get(run: Mapping[str, Any]) -> float | None:
        mine, base = at(scenario, "seconds")(run), at("baseline", "seconds")(run)
        return mine / base if mine and base else None

    return get


# What the CPU meter records beside the control plane and the controller.
NOT_THE_SYSTEM = frozenset({"bench", "other processes", "wall", "machine busy", "machine total"})


def system_cpu_per_1000(scenario: str) -> Getter:
    """The control plane's CPU (API server, etcd, controller-manager,
    scheduler, kwok) plus the controller's (none for the baseline), per
    1,000 jobs of the scenario: what running the jobs this way costs."""

    def get(run: Mapping[str, Any]) -> float | None:
        result = run.get(scenario)
        if not isinstance(result, Mapping) or not result.get("jobs"):
            return None
        cpu = result.get("cpu") or {}
        used = sum(v for k, v in cpu.items() if k not in NOT_THE_SYSTEM)
        return float(used) / float(result["jobs"]) * 1000

    return get


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    name: str
    unit: str
    # One getter per column (scenario key -> getter); a missing key is "-".
    cells: Callable[[str], Getter | None]
    digits: int = 2


def _controller(key: str, conveyor: tuple[str, ...]) -> Callable[[str], Getter | None]:
    """Kueue's figure at `key`, Conveyor's at `conveyor`; none for the baseline."""

    def cell(scenario: str) -> Getter | None:
        if scenario == "baseline":
            return None
        return at("drain", *conveyor) if scenario == "drain" else at(scenario, key)

    return cell


def rows(concurrency: int) -> list[Row]:
    return [
        Row(name="drain: first create -> last Job finished", unit="s",
            cells=lambda s: at(s, "seconds")),
        Row(name="ratio to the baseline of the same run", unit="x", cells=ratio),
        Row(name="throughput", unit="jobs/s", cells=lambda s: at(s, "jobs_per_second")),
        Row(name=f"most Jobs running at once (of {concurrency})", unit="Jobs", digits=0,
            cells=lambda s: at(s, "limit") if s == "baseline"
            else None if s == "drain" else at(s, "most_running")),
        Row(name="controller CPU per 1,000 jobs", unit="CPU-s",
            cells=_controller("controller_cpu_per_1000_jobs", ("operator_cpu_per_1000_jobs",))),
        Row(name="kube-apiserver CPU during the drain", unit="CPU-s", digits=1,
            cells=lambda s: at(s, "cpu", "kube-apiserver")),
        Row(name="control plane + controller CPU per 1,000 jobs", unit="CPU-s", digits=1,
            cells=system_cpu_per_1000),
        Row(name="controller's API writes per job, Events included", unit="writes",
            cells=_controller("writes_all_per_job", ("writes_all_per_job",))),
        Row(name="controller's API writes per job, all but Events", unit="writes",
            cells=_controller("writes_but_events_per_job", ("api", "writes_total"))),
        Row(name="Events per job (Event objects it reported)", unit="Events",
            cells=_controller("events_per_job", ("events_per_job",))),
    ]  # fmt: skip


def median(runs: Sequence[Mapping[str, Any]], get: Getter | None) -> float | None:
    if get is None:
        return None
    values = [v for run in runs if (v := get(run)) is not None]
    return statistics.median(values) if values else None


def summarize(runs: Sequence[Mapping[str, Any]], concurrency: int) -> list[dict[str, Any]]:
    """One dict per row: name, unit and the median of each column (or None)."""
    out = []
    for row in rows(concurrency):
        values = {}
        for title, scenario in COLUMNS:
            value = median(runs, row.cells(scenario))
            values[title] = None if value is None else round(value, row.digits)
        out.append({"figure": row.name, "unit": row.unit, **values})
    return out


def table(summary: Sequence[Mapping[str, Any]], fmt: Callable[[Any], str]) -> list[str]:
    """The rows as Markdown lines; nothing if no Kueue scenario ran."""
    kueue_titles = [t for t, s in COLUMNS if s.startswith("kueue")]
    if not any(row.get(t) is not None for row in summary for t in kueue_titles):
        return []
    titles = [t for t, _ in COLUMNS]
    lines = [
        f"| peer comparison (median of runs) | unit | {' | '.join(titles)} |",
        "|---|---|" + "--:|" * len(titles),
    ]
    for row in summary:
        cells = " | ".join(fmt(row.get(t)) for t in titles)
        lines.append(f"| {row['figure']} | {row['unit']} | {cells} |")
    return lines
