"""The steps' dependency graph: order, cycles, and which step may run.

Pure: no I/O. A step runs when every step it depends on succeeded or was
skipped; it is skipped when one of them failed or was revoked; otherwise it
waits (blocked).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence


class StepState(enum.StrEnum):
    PENDING = "Pending"
    IN_QUEUE = "IN-QUEUE"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REVOKED = "REVOKED"
    SKIPPED = "Skipped"

    @property
    def finished(self) -> bool:
        return self in _FINISHED

    @property
    def went_wrong(self) -> bool:
        """Dependents of a step in this state are skipped, and the run fails."""
        return self in (StepState.FAILED, StepState.REVOKED)


_FINISHED = frozenset({StepState.SUCCESS, StepState.FAILED, StepState.REVOKED, StepState.SKIPPED})


class Readiness(enum.Enum):
    BLOCKED = "blocked"  # a dependency has not finished
    READY = "ready"  # every dependency succeeded or was skipped
    SKIP = "skip"  # a dependency failed or was revoked


def readiness(
    *, depends_on: Sequence[str], states: Mapping[str, StepState]
) -> tuple[Readiness, str | None]:
    """Whether a step may run, and (when skipped) the dependency that went wrong."""
    blocked = False
    for name in depends_on:
        state = states.get(name, StepState.PENDING)
        if state.went_wrong:
            return Readiness.SKIP, name
        if not state.finished:
            blocked = True
    return (Readiness.BLOCKED if blocked else Readiness.READY), None


def order(*, graph: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """A topological order (dependencies first), stable in the given order.

    Raises ValueError on a cycle; `find_cycle` names it.
    """
    done: set[str] = set()
    out: list[str] = []
    pending = list(graph)
    while pending:
        rest = []
        for name in pending:
            if all(dep in done or dep not in graph for dep in graph[name]):
                done.add(name)
                out.append(name)
            else:
                rest.append(name)
        if len(rest) == len(pending):
            raise ValueError(f"cycle among {', '.join(rest)}")
        pending = rest
    return tuple(out)


def find_cycle(*, graph: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The steps of one cycle, first repeated last (`a -> b -> a`); () when none."""
    color: dict[str, int] = {}  # 1: on the current path, 2: explored
    for root in graph:
        if color.get(root):
            continue
        path: list[str] = [root]
        iterators = [iter(graph[root])]
        color[root] = 1
        while iterators:
            dep = next(iterators[-1], None)
            if dep is None:
                color[path.pop()] = 2
                iterators.pop()
            elif dep in graph and color.get(dep) == 1:
                return (*path[path.index(dep) :], dep)
            elif dep in graph and not color.get(dep):
                color[dep] = 1
                path.append(dep)
                iterators.append(iter(graph[dep]))
    return ()
