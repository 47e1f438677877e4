"""The peer table: one column per scenario of the same runs, medians."""

from __future__ import annotations

from typing import Any

from bench import common, compare, peer, report
from bench import run as bench_run


def run(index: int, *, scale: float = 1.0) -> dict[str, Any]:
    return {
        "run": index,
        "errors": {},
        "baseline": {"jobs": 300, "seconds": 20.0 * scale, "jobs_per_second": 15.0, "limit": 50,
                     "cpu": {"kube-apiserver": 14.0, "etcd": 1.0, "bench": 9.0}},
        "kueue-shipped": {"jobs": 300, "seconds": 60.0 * scale, "jobs_per_second": 5.0,
                          "most_running": 30,
                          "controller_cpu_per_1000_jobs": 25.0, "writes_all_per_job": 8.0,
                          "writes_but_events_per_job": 6.0, "events_per_job": 2.0,
                          "cpu": {"kube-apiserver": 30.0, "kueue": 7.5}},
        "kueue-tuned": {"jobs": 300, "seconds": 34.0 * scale, "jobs_per_second": 9.0,
                        "most_running": 50,
                        "controller_cpu_per_1000_jobs": 20.0, "writes_all_per_job": 8.2,
                        "writes_but_events_per_job": 6.2, "events_per_job": 2.0,
                        "cpu": {"kube-apiserver": 28.0, "kueue": 6.0}},
        "drain": {"jobs": 300, "seconds": 30.0 * scale, "jobs_per_second": 10.0,
                  "operator_cpu_per_1000_jobs": 28.0, "writes_all_per_job": 7.0,
                  "api": {"writes_total": 4.2}, "events_per_job": 2.8,
                  "cpu": {"kube-apiserver": 25.0, "operator": 8.4, "other processes": 50.0,
                          "machine busy": 90.0, "machine total": 120.0, "wall": 60.0}},
    }  # fmt: skip


def by_name(summary: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["figure"]: row for row in summary}


def test_each_row_has_a_column_per_scenario() -> None:
    rows = by_name(compare.summarize([run(1)], 50))

    assert rows["drain: first create -> last Job finished"] == {
        "figure": "drain: first create -> last Job finished",
        "unit": "s",
        "baseline": 20.0,
        "Kueue (shipped)": 60.0,
        "Kueue (tuned)": 34.0,
        "Conveyor": 30.0,
    }
    ratio = rows["ratio to the baseline of the same run"]
    assert [ratio[t] for t, _ in compare.COLUMNS] == [1.0, 3.0, 1.7, 1.5]
    cpu = rows["controller CPU per 1,000 jobs"]
    assert [cpu[t] for t, _ in compare.COLUMNS] == [None, 25.0, 20.0, 28.0]
    writes = rows["controller's API writes per job, all but Events"]
    assert [writes[t] for t, _ in compare.COLUMNS] == [None, 6.0, 6.2, 4.2]
    slots = rows["most Jobs running at once (of 50)"]
    assert [slots[t] for t, _ in compare.COLUMNS] == [50, 30, 50, None]
    apiserver = rows["kube-apiserver CPU during the drain"]
    assert [apiserver[t] for t, _ in compare.COLUMNS] == [14.0, 30.0, 28.0, 25.0]


def test_the_systems_cpu_is_the_control_plane_and_the_controller_per_1000_jobs() -> None:
    rows = by_name(compare.summarize([run(1)], 50))

    system = rows["control plane + controller CPU per 1,000 jobs"]
    # The benchmark itself, other processes and the machine's totals are not the system.
    assert [system[t] for t, _ in compare.COLUMNS] == [50.0, 125.0, 113.3, 111.3]


def test_the_ratio_is_taken_per_run_then_the_median() -> None:
    runs = [run(1), run(2, scale=2.0), run(3, scale=10.0)]

    ratio = by_name(compare.summarize(runs, 50))["ratio to the baseline of the same run"]

    assert ratio["Kueue (shipped)"] == 3.0


def test_the_table_prints_all_four_columns_or_nothing() -> None:
    lines = compare.table(compare.summarize([run(1)], 50), report._fmt)

    assert lines[0] == (
        "| peer comparison (median of runs) | unit | baseline | Kueue (shipped) "
        "| Kueue (tuned) | Conveyor |"
    )
    assert "| ratio to the baseline of the same run | x | 1.0 | 3.0 | 1.7 | 1.5 |" in lines
    without_kueue = [{k: v for k, v in run(1).items() if not k.startswith("kueue")}]
    assert compare.table(compare.summarize(without_kueue, 50), report._fmt) == []


def test_slots_count_admitted_unfinished_jobs() -> None:
    slots = peer.Slots()
    suspended = {"metadata": {"name": "a"}, "spec": {"suspend": True}}
    admitted = {"metadata": {"name": "a"}, "spec": {"suspend": False}}
    other = {"metadata": {"name": "b"}, "spec": {"suspend": False}}
    done = {
        "metadata": {"name": "a"},
        "spec": {"suspend": False},
        "status": {"conditions": [{"type": "Complete", "status": "True"}]},
    }

    slots("ADDED", suspended, 1.0)
    assert slots.running == set()
    slots("MODIFIED", admitted, 2.0)
    slots("ADDED", other, 2.5)
    slots("MODIFIED", done, 3.0)

    assert slots.running == {"b"}
    assert slots.most == 2
    assert slots.jobs.finished == {"a": 3.0}


def test_events_count_their_occurrences_by_reporting_component() -> None:
    events = [
        {"source": {"component": "kueue-admission"}, "count": 1},
        {"source": {"component": "kueue-admission"}, "count": 3},  # aggregated: 3 writes
        {"reportingComponent": "conveyor-operator", "source": {"component": "x"}, "count": 1},
        {"reportingComponent": "kueue-job-controller", "series": {"count": 2}},
        {"source": {}},
    ]

    assert common.tally_events(events) == {
        "?": 1,
        "conveyor-operator": 1,
        "kueue-admission": 4,
        "kueue-job-controller": 2,
    }


def test_kueue_selects_both_settings_in_their_place() -> None:
    assert [s.name for s in bench_run.selected({"kueue"})] == ["kueue-shipped", "kueue-tuned"]
    everything = bench_run.parse_args([]).only.split(",")
    assert [s.name for s in bench_run.selected(set(everything))] == [
        "baseline",
        "kueue-shipped",
        "kueue-tuned",
        "drain",
        "latency",
        "pipelines",
        "memory",
        "scale",
    ]
