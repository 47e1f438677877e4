"""PipelineRuns as text, from their bodies alone (no I/O): the `conveyor get
runs` rows, the step that holds a run (`conveyor why`), and the DAG with
each step's state (`conveyor graph`)."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model
from conveyor.presentation import humanize

HEADERS = ("NAME", "STATE", "STEPS", "REASON", "PIPELINE", "AGE", "DURATION")
ACTIVE = ("IN-QUEUE", "RUNNING")
WRONG = ("FAILED", "REVOKED")
# One glyph per step state, so a graph reads without colour too.
GLYPHS = {
    "Pending": "○",
    "IN-QUEUE": "◔",
    "RUNNING": "◑",
    "SUCCESS": "●",
    "FAILED": "✗",
    "REVOKED": "⊘",
    "Skipped": "◌",
}


def _status(body: Mapping[str, Any]) -> Mapping[str, Any]:
    return body.get("status") or {}


def source(body: Mapping[str, Any]) -> str:
    """Which definition a run used: `<pipeline>@<generation>`, or inline."""
    spec, status = body.get("spec") or {}, _status(body)
    ref = (spec.get("pipelineRef") or {}).get("name")
    if not ref:
        return "inline"
    generation = status.get("pipelineGeneration")
    return f"{ref}@{generation}" if generation is not None else f"{ref}@?"


def row(body: Mapping[str, Any], *, now: datetime.datetime, all_namespaces: bool) -> list[str]:
    md, status = body.get("metadata") or {}, _status(body)
    started = model.parse_time(status.get("startedAt"))
    finished = model.parse_time(status.get("finishedAt"))
    cells = [
        str(md.get("name") or ""),
        str(status.get("state") or "-"),
        str(status.get("progress") or "-"),
        str(status.get("reason") or "-"),
        source(body),
        humanize.age(model.parse_time(md.get("creationTimestamp")), now=now),
        humanize.between(started, finished, now=now),
    ]
    return [str(md.get("namespace") or ""), *cells] if all_namespaces else cells


def headers(*, all_namespaces: bool) -> list[str]:
    return ["NAMESPACE", *HEADERS] if all_namespaces else list(HEADERS)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Hold:
    """The step that holds a run, and the child PipelineJob to explain."""

    step: str
    state: str
    child: str | None
    message: str | None


def holding(body: Mapping[str, Any]) -> Hold | None:
    """A finished run: the step that failed it; a running one: its first
    active step (the first one still waiting, if any waits). None: no step holds it."""
    steps = list(_status(body).get("steps") or ())
    wrong = [s for s in steps if s.get("state") in WRONG]
    waiting = [s for s in steps if s.get("state") == "IN-QUEUE"]
    running = [s for s in steps if s.get("state") == "RUNNING"]
    for candidates in (wrong, waiting, running):
        if candidates:
            s = candidates[0]
            jobs = list(s.get("jobs") or ())
            failed = list(s.get("failedItems") or ())
            child = jobs[failed[0]] if failed and failed[0] < len(jobs) else (jobs or [None])[-1]
            return Hold(
                step=str(s.get("name")),
                state=str(s.get("state")),
                child=child,
                message=s.get("message"),
            )
    return None


def _levels(steps: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Each step's depth in the DAG: 0 without dependencies, else one past its deepest."""
    depends = {str(s.get("name")): list(s.get("dependsOn") or ()) for s in steps}
    levels: dict[str, int] = {}

    def level(name: str, seen: frozenset[str]) -> int:
        if name in levels:
            return levels[name]
        if name in seen:  # a cycle (refused elsewhere): do not recurse for ever
            return 0
        parents = [d for d in depends.get(name, ()) if d in depends]
        levels[name] = 1 + max((level(d, seen | {name}) for d in parents), default=-1)
        return levels[name]

    for name in depends:
        level(name, frozenset())
    return levels


def graph(body: Mapping[str, Any]) -> list[str]:
    """The run's DAG, a column per depth, each step with its state and what it waits for."""
    md, status = body.get("metadata") or {}, _status(body)
    defined = status.get("pipelineSpec") or body.get("spec") or {}
    recorded = {str(s.get("name")): s for s in status.get("steps") or ()}
    head = f"pipelinerun {md.get('namespace')}/{md.get('name')}: {status.get('state') or '-'}"
    lines = [head + (f" ({status.get('progress')} steps done)" if status.get("progress") else "")]
    for title, steps in (
        ("steps", defined.get("steps") or ()),
        ("finally", defined.get("finally") or ()),
    ):
        if not steps:
            continue
        lines.append(f"{title}:")
        levels = _levels(steps)
        width = max(len(str(s.get("name"))) for s in steps)
        for s in sorted(steps, key=lambda s: levels[str(s.get("name"))]):
            name = str(s.get("name"))
            entry = recorded.get(name) or {}
            lines.append(_step_line(step=s, entry=entry, depth=levels[name], width=width))
    return lines


def _step_line(*, step: Mapping[str, Any], entry: Mapping[str, Any], depth: int, width: int) -> str:
    name = str(step.get("name"))
    state = str(entry.get("state") or "Pending")
    glyph = GLYPHS.get(state, "?")
    indent = "    " * depth
    after = list(step.get("dependsOn") or ())
    notes: list[str] = []
    if entry.get("items") is not None or step.get("forEach") is not None:
        items = entry.get("items")
        raw = entry.get("outputs")
        outputs: list[Any] = raw if isinstance(raw, list) else []
        done = len([o for o in outputs if o is not None])
        notes.append(f"{done}/{items if items is not None else '?'} items")
    if entry.get("reusedFrom"):
        notes.append(f"reused from {entry['reusedFrom']}")
    if state in (*WRONG, "Skipped") and entry.get("message"):
        notes.append(str(entry["message"]))
    arrow = f"{indent}{'└▶ ' if after else ''}"
    text = f"{arrow}{glyph} {name.ljust(width)}  {state}"
    if after:
        text += f"  after {', '.join(after)}"
    return text + (f"  ({'; '.join(notes)})" if notes else "")
