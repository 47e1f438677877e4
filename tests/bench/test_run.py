"""bench.run writes its JSON after every run, so an interrupted `make bench`
keeps the runs that finished."""

from __future__ import annotations

import datetime
import json
import pathlib

from bench import run


def outcome(path: pathlib.Path) -> run.Outcome:
    return run.Outcome(
        mode="full",
        runs=3,
        sizes=run.FULL,
        environment={},
        path=path,
        started=datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC),
    )


def test_each_write_holds_the_runs_so_far_and_says_whether_all_finished(
    tmp_path: pathlib.Path,
) -> None:
    out = outcome(tmp_path / "results" / "r.json")

    out.per_run.append({"run": 1, "errors": {}})
    out.write()
    first = json.loads(out.path.read_text())
    out.per_run.extend([{"run": 2, "errors": {}}, {"run": 3, "errors": {}}])
    out.write()
    last = json.loads(out.path.read_text())

    assert ([r["run"] for r in first["per_run"]], first["complete"]) == ([1], False)
    assert ([r["run"] for r in last["per_run"]], last["complete"]) == ([1, 2, 3], True)


def test_an_interrupted_benchmark_is_not_complete(tmp_path: pathlib.Path) -> None:
    out = outcome(tmp_path / "r.json")
    out.per_run.extend({"run": i, "errors": {}} for i in (1, 2, 3))
    out.failure = "interrupted (Ctrl-C)"

    assert out.write()["complete"] is False
