"""The pipeline-run pages: the list of runs, and one run's steps as a graph
(columns by dependency depth, `finally` steps last), each step coloured by
its state, with its fan-out counts and a link to its job(s).

Reads the status shape of DESIGN.md §3b: status.steps[] = {name, state,
jobs, outputs}; dependsOn comes from the spec (or the Pipeline it names)."""

from __future__ import annotations

import dataclasses
import datetime
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model, progress
from conveyor.presentation import humanize

NODE_W, NODE_H = 170, 54
GAP_X, GAP_Y, PAD = 70, 26, 16
PENDING = "Pending"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Node:
    name: str
    state: str
    x: int
    y: int
    jobs: int
    counts: str  # "2 of 3 done" for a fan-out
    message: str  # why it failed or was skipped
    href: str | None
    final: bool  # a `finally` step

    @property
    def css(self) -> str:
        return "state-" + self.state.lower().replace("-", "")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Edge:
    path: str  # SVG path data


@dataclasses.dataclass(frozen=True, kw_only=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: int
    height: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRow:
    namespace: str
    name: str
    state: str
    reason: str
    message: str
    done: int
    total: int
    age: str
    duration: str

    @property
    def href(self) -> str:
        return f"/runs/{self.namespace}/{self.name}"


def _steps_spec(
    run: Mapping[str, Any], pipelines: Mapping[tuple[str, str], Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    spec = run.get("spec") or {}
    if not spec.get("steps") and spec.get("pipelineRef"):
        ns = str((run.get("metadata") or {}).get("namespace") or "")
        ref = str((spec.get("pipelineRef") or {}).get("name") or "")
        spec = (pipelines.get((ns, ref)) or {}).get("spec") or {}
    return list(spec.get("steps") or []), list(spec.get("finally") or [])


def _layers(steps: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    deps = {str(s.get("name")): [str(d) for d in s.get("dependsOn") or ()] for s in steps}
    depth: dict[str, int] = {}

    def visit(name: str, seen: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        if name in seen or name not in deps:  # a cycle or an unknown name: the operator says so
            return 0
        parents = [visit(d, seen | {name}) + 1 for d in deps[name]]
        depth[name] = max(parents, default=0)
        return depth[name]

    for name in deps:
        visit(name, frozenset())
    return depth


def _fan_out(
    *,
    step_state: str,
    namespace: str,
    run: str,
    step: str,
    jobs: Sequence[str],
    items: int,
    states: Mapping[tuple[str, str], str],
) -> tuple[str, str | None]:
    if not jobs:
        return (f"0 of {items} started" if items > 1 else ""), None
    if len(jobs) == 1 and items <= 1:
        return "", f"/jobs/{namespace}/{jobs[0]}"
    # A child the dashboard does not see (deleted, or another scope) is as its step says.
    known = [states.get((namespace, j), step_state) for j in jobs]
    done = sum(1 for s in known if s in _FINISHED)
    running = sum(1 for s in known if s == model.State.RUNNING)
    total = max(items, len(jobs))  # status.steps[].items: the fan-out's size
    counts = f"{done} of {total} done" + (f", {running} running" if running else "")
    label = f"conveyor.dev/pipelinerun={run},conveyor.dev/step={step}"
    return counts, "/jobs?" + urllib.parse.urlencode({"namespace": namespace, "label": label})


_FINISHED = frozenset(str(s) for s in model.State if s.finished)


def _node(
    *,
    step: str,
    seen: Mapping[str, Any],
    column: int,
    row: int,
    final: bool,
    namespace: str,
    run: str,
    states: Mapping[tuple[str, str], str],
) -> Node:
    """One step's box: `seen` is its entry in status.steps (empty: Pending)."""
    jobs = [str(j) for j in seen.get("jobs") or ()]
    state = str(seen.get("state") or PENDING)
    items = seen.get("items")
    counts, href = _fan_out(
        step_state=state,
        namespace=namespace,
        run=run,
        step=step,
        jobs=jobs,
        items=items if isinstance(items, int) else 0,
        states=states,
    )
    return Node(
        name=step,
        state=state,
        x=PAD + column * (NODE_W + GAP_X),
        y=PAD + row * (NODE_H + GAP_Y),
        jobs=len(jobs),
        counts=counts,
        message=str(seen.get("message") or ""),
        href=href,
        final=final,
    )


def _edges(steps: Sequence[Mapping[str, Any]], nodes: Mapping[str, Node]) -> list[Edge]:
    """A curve from the right of each dependency to the left of its step."""
    edges = []
    for step in steps:
        to = nodes[str(step.get("name"))]
        for dep in step.get("dependsOn") or ():
            frm = nodes.get(str(dep))
            if frm is None:
                continue
            x1, y1 = frm.x + NODE_W, frm.y + NODE_H // 2
            x2, y2 = to.x, to.y + NODE_H // 2
            mid = (x1 + x2) // 2
            edges.append(Edge(path=f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"))
    return edges


def graph(
    *,
    run: Mapping[str, Any],
    states: Mapping[tuple[str, str], str],
    pipelines: Mapping[tuple[str, str], Mapping[str, Any]],
) -> Graph:
    """`states`: the state of each PipelineJob by (namespace, name)."""
    meta = run.get("metadata") or {}
    ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    steps, finals = _steps_spec(run, pipelines)
    status_steps = {str(s.get("name")): s for s in (run.get("status") or {}).get("steps") or ()}
    if not steps and not finals:  # no spec to read: the status alone, without edges
        steps = [{"name": n} for n in status_steps]
    depth = _layers(steps)
    last = max(depth.values(), default=-1) + 1
    rows: dict[int, int] = {}
    nodes: dict[str, Node] = {}
    for step, final in [(s, False) for s in steps] + [(s, True) for s in finals]:
        step_name = str(step.get("name"))
        column = last if final else depth.get(step_name, 0)
        rows[column] = rows.get(column, 0) + 1
        nodes[step_name] = _node(
            step=step_name,
            seen=status_steps.get(step_name) or {},
            column=column,
            row=rows[column] - 1,
            final=final,
            namespace=ns,
            run=name,
            states=states,
        )
    columns = (last + 1) if finals else max(last, 1)
    height = max(rows.values(), default=1)
    return Graph(
        nodes=tuple(nodes.values()),
        edges=tuple(_edges(steps, nodes)),
        width=2 * PAD + columns * NODE_W + (columns - 1) * GAP_X,
        height=2 * PAD + height * NODE_H + (height - 1) * GAP_Y,
    )


def run_row(run: Mapping[str, Any], *, now: datetime.datetime) -> RunRow:
    meta = run.get("metadata") or {}
    st = run.get("status") or {}
    done, total = progress.steps_done(list(st.get("steps") or ()))
    spec = run.get("spec") or {}
    # Before the operator lists every step in status, the inline spec counts them.
    total = max(total, len(spec.get("steps") or ()) + len(spec.get("finally") or ()))
    started = model.parse_time(st.get("startedAt"))
    finished = model.parse_time(st.get("finishedAt"))
    return RunRow(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        state=str(st.get("state") or "-"),
        reason=str(st.get("reason") or ""),
        message=str(st.get("message") or ""),
        done=done,
        total=total,
        age=humanize.age(model.parse_time(meta.get("creationTimestamp")), now=now),
        duration=humanize.between(started, finished, now=now),
    )


def run_rows(
    *, runs: Sequence[Mapping[str, Any]], now: datetime.datetime, namespace: str = ""
) -> list[RunRow]:
    """Newest first."""
    chosen = [
        r for r in runs if not namespace or (r.get("metadata") or {}).get("namespace") == namespace
    ]
    chosen.sort(
        key=lambda r: str((r.get("metadata") or {}).get("creationTimestamp") or ""), reverse=True
    )
    return [run_row(r, now=now) for r in chosen]
