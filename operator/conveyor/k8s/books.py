"""The shell's bookkeeping: one record per object, created and removed here.

What the core does not keep in status but the controllers need between
rounds: which jobs wait for a slot (and with what step), when a waiting
job's message was last written, whether a stuck job was reported, when a
Worker's status was last written. A DELETED event removes an object's
record whole (`drop_job`, `drop_worker`), so nothing grows for ever.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from conveyor.core import lifecycle, model

Key = tuple[str, str]


@dataclasses.dataclass(kw_only=True)
class JobBook:
    """One PipelineJob's bookkeeping."""

    message_written: float = 0.0  # monotonic time of the last message write (0: unknown)
    position_written: int | None = None  # queue position in the written message
    write_due: float | None = None  # admitted, status assumed: write by then (monotonic)
    reported_stuck: bool = False
    events_read: float | None = None  # monotonic time its Job's Events were last read
    # The Job rendered for admission or a retry, off the loop (controllers/renders.py):
    # what it was rendered from, and the manifest or why there is none.
    rendered: tuple[tuple[Any, ...], dict[str, Any] | model.SpecError] | None = None


@dataclasses.dataclass(kw_only=True)
class WorkerBook:
    written: float = 0.0  # monotonic time of the last status write
    # A render error on the Worker's own fields, and the generation it was found
    # for: the Worker is OFFLINE InvalidTemplate until it is edited (core/health.py).
    invalid_template: tuple[int, model.SpecError] | None = None
    # One render per Worker at a time (a bad template costs one deadline, not one
    # per queued job); the jobs that wait for it are looked at when it returns.
    rendering: bool = False
    render_waiters: set[Key] = dataclasses.field(default_factory=set)


class Books:
    def __init__(self) -> None:
        self._jobs: dict[Key, JobBook] = {}
        # Jobs waiting for a slot, per namespace: the step that wants it.
        self._wants: dict[str, dict[Key, lifecycle.Step]] = {}
        self._workers: dict[Key, WorkerBook] = {}
        self.pass_due: dict[str, float] = {}  # no admission pass before (monotonic)
        self.pass_deferred: set[str] = set()  # a pass is on the timer

    # --- PipelineJobs -----------------------------------------------------------

    def job(self, key: Key) -> JobBook:
        """The job's record, created on first use."""
        book = self._jobs.get(key)
        if book is None:
            book = self._jobs[key] = JobBook()
        return book

    def peek(self, key: Key) -> JobBook | None:
        return self._jobs.get(key)

    def want(self, key: Key, step: lifecycle.Step) -> None:
        self._wants.setdefault(key[0], {})[key] = step

    def drop_want(self, key: Key) -> None:
        wants = self._wants.get(key[0])
        if wants is not None:
            wants.pop(key, None)
            if not wants:
                del self._wants[key[0]]

    def wants_in(self, namespace: str) -> dict[Key, lifecycle.Step]:
        return self._wants.get(namespace) or {}

    def wanted(self, key: Key) -> lifecycle.Step | None:
        return self.wants_in(key[0]).get(key)

    def admitted(self, key: Key, *, write_due: float) -> None:
        """A job got its slot: it no longer waits, and its status is written by `write_due`."""
        self.drop_want(key)
        book = self.job(key)
        book.message_written = 0.0
        book.position_written = None
        book.write_due = write_due

    def drop_job(self, key: Key) -> None:
        self.drop_want(key)
        self._jobs.pop(key, None)

    # --- Workers ------------------------------------------------------------------

    def worker(self, key: Key) -> WorkerBook:
        book = self._workers.get(key)
        if book is None:
            book = self._workers[key] = WorkerBook()
        return book

    def drop_worker(self, key: Key) -> None:
        self._workers.pop(key, None)

    def size(self) -> int:
        """Records held (for tests: zero once every object is gone)."""
        return len(self._jobs) + sum(map(len, self._wants.values())) + len(self._workers)
