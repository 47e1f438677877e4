"""Summaries over runs: the printed table and the JSON written to bench/results/."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bench import compare
from bench.infra import ROOT

MiB = 2**20
# The scenarios whose CPU split by process the table prints.
CPU_SCENARIOS = ("baseline", "kueue-shipped", "kueue-tuned", "drain", "latency")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Figure:
    name: str
    unit: str
    get: Callable[[Mapping[str, Any]], float | None]
    digits: int = 2
    goal: str = ""


_path = compare.at
_ratio = compare.ratio("drain")


def _rebuilt_bytes(total: int) -> Callable[[Mapping[str, Any]], float | None]:
    def get(run: Mapping[str, Any]) -> float | None:
        rebuilt, idle = _path("memory", "rss_at_view")(run), _path("memory", "rss_idle")(run)
        return (rebuilt - idle) / total if rebuilt and idle else None

    return get


def figures(run_sample: Sequence[Mapping[str, Any]], sizes: Mapping[str, Any]) -> list[Figure]:
    n, c = sizes["drain_jobs"], sizes["drain_concurrency"]
    rate, secs = sizes["latency_rate"], sizes["latency_seconds"]
    out = [
        Figure(
            name=f"1. drain: {n} PipelineJobs, concurrency {c}",
            unit="s",
            get=_path("drain", "seconds"),
        ),
        Figure(name="1. drain throughput", unit="jobs/s", get=_path("drain", "jobs_per_second")),
        Figure(
            name=f"2. baseline: {n} plain Jobs, {c} at a time",
            unit="s",
            get=_path("baseline", "seconds"),
        ),
        Figure(
            name="2. baseline throughput", unit="jobs/s", get=_path("baseline", "jobs_per_second")
        ),
        Figure(name="2. overhead ratio (drain / baseline)", unit="x", get=_ratio, goal="<= 1.2"),
    ]
    latency_rows = (
        ("created_to_job", "created -> Job created"),
        ("pod_phase_to_status", "pod phase -> status (Running and Succeeded)"),
        ("pod_running_to_status", "  pod Running -> RUNNING"),
        ("pod_succeeded_to_status", "  pod Succeeded -> SUCCESS"),
        ("job_finished_to_status", "  Job finished -> SUCCESS"),
    )
    for key, label in latency_rows:
        for p in ("p50", "p95", "p99"):
            out.append(
                Figure(
                    name=f"3. latency @{rate:g}/s for {secs:g}s: {label} {p}",
                    unit="ms",
                    get=_path("latency", key, p),
                    digits=0,
                )
            )
    out.append(
        Figure(
            name="4. API writes per job (all but Events)",
            unit="writes",
            get=_path("drain", "api", "writes_total"),
            goal="<= 3",
        )
    )
    kinds: set[str] = set()
    events: set[str] = set()
    for run in run_sample:
        api = (run.get("drain") or {}).get("api") or {}
        kinds |= set(api.get("writes") or {})
        events |= set(api.get("events") or {})
    for kind in sorted(kinds):
        out.append(
            Figure(name=f"4.   {kind}", unit="writes", get=_path("drain", "api", "writes", kind))
        )
    for kind in sorted(events):
        out.append(
            Figure(
                name=f"4. Events per job: {kind}",
                unit="writes",
                get=_path("drain", "api", "events", kind),
            )
        )
    out += [
        Figure(
            name="4. Events per job (Event objects the operator reported)",
            unit="Events",
            get=_path("drain", "events_per_job"),
        ),
        Figure(
            name="4. API writes per job, Events included",
            unit="writes",
            get=_path("drain", "writes_all_per_job"),
        ),
    ]
    out.append(
        Figure(
            name="5. operator CPU per 1,000 jobs (drain)",
            unit="CPU-s",
            get=_path("drain", "operator_cpu_per_1000_jobs"),
        )
    )
    out.append(
        Figure(
            name="5. operator RSS, idle",
            unit="MiB",
            get=_path("memory", "rss_idle", scale=1 / MiB),
            digits=1,
        )
    )
    for stage in sizes["memory_stages"]:
        out.append(
            Figure(
                name=f"5. operator RSS, {stage:,} PipelineJobs present",
                unit="MiB",
                get=_path("memory", f"rss_at_{stage}", scale=1 / MiB),
                digits=1,
            )
        )
        out.append(
            Figure(
                name=f"5. bytes per PipelineJob ({stage:,} present)",
                unit="bytes",
                get=_path("memory", f"bytes_per_object_at_{stage}"),
                digits=0,
            )
        )
    total, queued = sizes["memory_stages"][-1], sizes["cold_queued"]
    cold = f"6. cold start ({total:,} present, {queued:,} queued):"
    out += [
        Figure(name=f"{cold} /metrics up", unit="s", get=_path("memory", "cold_metrics_up")),
        Figure(name=f"{cold} view rebuilt", unit="s", get=_path("memory", "cold_view_rebuilt")),
        Figure(
            name=f"{cold} first admission", unit="s", get=_path("memory", "cold_first_admission")
        ),
        Figure(
            name=f"{cold} all {min(queued, sizes['cold_concurrency'])} slots filled",
            unit="s",
            get=_path("memory", "cold_all_slots"),
        ),
        Figure(
            name=f"{cold} bytes per PipelineJob when rebuilt",
            unit="bytes",
            get=_rebuilt_bytes(total),
            digits=0,
        ),
        Figure(
            name=f"{cold} RSS when rebuilt",
            unit="MiB",
            get=_path("memory", "rss_at_view", scale=1 / MiB),
            digits=1,
        ),
    ]
    runs = sizes.get("pipeline_runs", 0)
    out += [
        Figure(
            name=f"7. pipelines: {runs} runs of the example's shape (7 steps)",
            unit="runs/min",
            get=_path("pipelines", "runs_per_minute"),
        ),
        Figure(
            name="7. API writes per step (child PipelineJob, all but Events)",
            unit="writes",
            get=_path("pipelines", "api", "writes_total"),
        ),
        Figure(
            name="7. largest PipelineRun object",
            unit="bytes",
            get=_path("pipelines", "largest_run_bytes"),
            digits=0,
        ),
    ]
    return out + _peer_figures(n, c)


def _peer_figures(n: int, c: int) -> list[Figure]:
    out = []
    for key, label in (("kueue-shipped", "shipped settings"), ("kueue-tuned", "tuned")):
        name = f"8. Kueue ({label}):"
        out += [
            Figure(name=f"{name} {n} Jobs, {c} at a time", unit="s", get=_path(key, "seconds")),
            Figure(name=f"{name} ratio to the baseline", unit="x", get=compare.ratio(key)),
            Figure(
                name=f"{name} most Jobs running at once",
                unit="Jobs",
                get=_path(key, "most_running"),
                digits=0,
            ),
            Figure(
                name=f"{name} controller CPU per 1,000 jobs",
                unit="CPU-s",
                get=_path(key, "controller_cpu_per_1000_jobs"),
            ),
            Figure(
                name=f"{name} API writes per job, Events included",
                unit="writes",
                get=_path(key, "writes_all_per_job"),
            ),
            Figure(
                name=f"{name} API writes per job, all but Events",
                unit="writes",
                get=_path(key, "writes_but_events_per_job"),
            ),
            Figure(name=f"{name} Events per job", unit="Events", get=_path(key, "events_per_job")),
        ]
    return out


def summarize(runs: Sequence[Mapping[str, Any]], sizes: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for figure in figures(runs, sizes):
        values = [v for run in runs if (v := figure.get(run)) is not None]
        row: dict[str, Any] = {"figure": figure.name, "unit": figure.unit, "runs": len(values)}
        if values:
            row |= {
                "min": round(min(values), figure.digits),
                "median": round(statistics.median(values), figure.digits),
                "max": round(max(values), figure.digits),
            }
        if figure.goal:
            row["goal"] = figure.goal
        rows.append(row)
    return rows


def cpu_split(runs: Sequence[Mapping[str, Any]], scenario: str) -> dict[str, float]:
    """Median CPU-seconds per process over the runs of one scenario."""
    per: dict[str, list[float]] = {}
    for run in runs:
        for name, value in ((run.get(scenario) or {}).get("cpu") or {}).items():
            per.setdefault(name, []).append(value)
    return {name: round(statistics.median(v), 1) for name, v in per.items()}


def environment() -> dict[str, Any]:
    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    model = ""
    try:
        for line in open("/proc/cpuinfo").read().splitlines():  # noqa: SIM115
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "kopf": version("kopf"),
        "aiohttp": version("aiohttp"),
        "kubernetes": (ROOT / "e2e" / "cluster" / "KUBE_VERSION").read_text().strip(),
        "conveyor_commit": commit,
        "platform": platform.platform(),
        "executable": sys.executable,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 100:
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(result: Mapping[str, Any]) -> str:
    """The summary as a Markdown table (also readable as plain text)."""
    env, sizes = result["environment"], result["sizes"]
    lines = [
        f"Conveyor benchmark, {result['mode']} ({result['runs']} run"
        f"{'s' if result['runs'] != 1 else ''}), {result['started']}",
        "",
        f"Machine: {env['cores']} cores ({env['cpu_model']}), load average at start "
        f"{' '.join(str(x) for x in env['load_average_at_start'])}; Python {env['python']}, "
        f"kopf {env['kopf']}, Kubernetes {env['kubernetes']} (local control plane, --load-test), "
        f"conveyor {env['conveyor_commit']}"
        + (f", Kueue {env['kueue']}" if env.get("kueue") else "")
        + f"; simulated run time {sizes['run_time']}.",
        "",
        "| figure | unit | min | median | max | runs | goal |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for row in result["summary"]:
        lines.append(
            f"| {row['figure']} | {row['unit']} | {_fmt(row.get('min'))} | "
            f"{_fmt(row.get('median'))} | {_fmt(row.get('max'))} | {row['runs']} | "
            f"{row.get('goal', '')} |"
        )
    peer = compare.table(result.get("peer") or [], _fmt)
    if peer:
        lines += ["", *peer]
    for scenario in CPU_SCENARIOS:
        split = dict(result["cpu"].get(scenario) or {})
        if not split:
            continue
        wall, total = split.pop("wall", 0.0), split.pop("machine total", 0.0)
        busy = split.pop("machine busy", 0.0)
        parts = ", ".join(f"{k} {v}" for k, v in sorted(split.items(), key=lambda kv: -kv[1]))
        lines += [
            "",
            f"CPU-seconds during the {scenario} (median of runs; {wall:g} s wall, "
            f"{total:g} available on all cores, {busy:g} busy): {parts}",
        ]
    errors = [
        (run["run"], step, text)
        for run in result["per_run"]
        for step, text in run["errors"].items()
    ]
    if errors:
        lines += ["", "ERRORS:"]
        lines += [f"- run {run}, {step}: {text}" for run, step, text in errors]
    return "\n".join(lines)
