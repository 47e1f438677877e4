"""Admission: which waiting jobs a Worker starts now, and why the others wait.

One decision per Worker over a snapshot of its jobs (as Kueue's scheduler
does), so concurrency is counted in one place and never exceeded.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from conveyor.core import model, ordering, reasons


@dataclasses.dataclass(frozen=True, kw_only=True)
class Waiting:
    """Why a job is not admitted: the reason and sentence for its status.

    `text` is shared by the whole queue of a Worker; the position is the job's
    own, so a pass over a long queue formats nothing per job.
    """

    reason: model.Reason
    text: str
    worker: str | None = None
    position: int | None = None  # 1 = next to start
    of: int | None = None  # jobs waiting for the Worker

    @property
    def message(self) -> str:
        if self.position is None or self.of is None:
            return self.text
        return reasons.with_position(self.text, position=self.position, waiting=self.of)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decision:
    admitted: tuple[model.PipelineJob, ...] = ()
    waiting: Mapping[tuple[str, str], Waiting] = dataclasses.field(default_factory=dict)


def resolve_worker(
    *, job: model.PipelineJob, workers: Sequence[model.Worker]
) -> model.Worker | Waiting:
    """The Worker that runs `job`, from the Workers of its namespace.

    spec.worker names it; otherwise the only Worker of the matching type, or
    the one named after the type when there are several.
    """
    assert job.spec is not None
    needed = model.WORKER_TYPE_OF[job.spec.type]
    assert needed is not None, "delay jobs have no worker"
    namespace = job.meta.namespace
    live = [w for w in workers if not w.meta.deleting and w.meta.namespace == namespace]
    if job.spec.worker:
        named = next((w for w in live if w.meta.name == job.spec.worker), None)
        if named is None:
            return Waiting(
                reason=model.Reason.NO_WORKER,
                text=reasons.no_worker(
                    namespace=namespace, worker_type=needed, named=job.spec.worker
                ),
            )
        if named.spec is not None and named.spec.type != needed:
            return Waiting(
                reason=model.Reason.NO_WORKER,
                text=reasons.wrong_worker_type(
                    worker=named.meta.name, has=named.spec.type, needs=needed
                ),
                worker=named.meta.name,
            )
        return named
    matching = sorted(
        (w for w in live if w.spec is not None and w.spec.type == needed),
        key=lambda w: w.meta.name,
    )
    if len(matching) == 1:
        return matching[0]
    by_type_name = next((w for w in matching if w.meta.name == needed), None)
    if by_type_name is not None:
        return by_type_name
    if not matching:
        return Waiting(
            reason=model.Reason.NO_WORKER,
            text=reasons.no_worker(namespace=namespace, worker_type=needed, named=None),
        )
    return Waiting(
        reason=model.Reason.NO_WORKER,
        text=reasons.ambiguous_worker(worker_type=needed, names=[w.meta.name for w in matching]),
    )


def admit(
    *,
    worker: model.Worker,
    holders: Sequence[model.PipelineJob],
    waiting: Sequence[model.PipelineJob],
    offline_cause: str | None = None,
) -> Decision:
    """Admit waiting jobs in queue order while the Worker has free slots.

    `holders` are the jobs that hold one of its slots now (admitted, not
    finished). A paused or offline Worker admits nothing; running jobs are
    never touched here.
    """
    name = worker.meta.name
    queue = ordering.ordered(list(waiting))
    if worker.spec is None:
        cause = f"its spec cannot be read: {worker.spec_error}" if worker.spec_error else None
        message = reasons.worker_offline(worker=name, cause=cause or "its spec cannot be read")
        return Decision(
            waiting=_all_wait(queue, reason=model.Reason.WORKER_OFFLINE, text=message, worker=name)
        )
    if worker.spec.paused:
        message = reasons.worker_paused(worker=name)
        return Decision(
            waiting=_all_wait(queue, reason=model.Reason.WORKER_PAUSED, text=message, worker=name)
        )
    if offline_cause is not None:
        # Nothing new starts while its pods cannot start; once no slot is held,
        # one job goes ahead as a probe (a circuit breaker's half-open state).
        probe = tuple(queue[:1]) if not holders and worker.spec.concurrency > 0 else ()
        message = reasons.worker_offline(worker=name, cause=offline_cause)
        rest = queue[len(probe) :]
        return Decision(
            admitted=probe,
            waiting=_all_wait(rest, reason=model.Reason.WORKER_OFFLINE, text=message, worker=name),
        )
    assert worker.spec is not None
    limit = worker.spec.concurrency
    free = max(limit - len(holders), 0)
    admitted = tuple(queue[:free])
    rest = queue[free:]
    holder_names = sorted(h.meta.name for h in (*holders, *admitted))
    text = reasons.slots_busy(
        worker=name, busy=len(holder_names), limit=limit, holders=holder_names
    )
    return Decision(
        admitted=admitted,
        waiting={
            j.key: Waiting(
                reason=model.Reason.CONCURRENCY_LIMIT,
                text=text,
                worker=name,
                position=position,
                of=len(rest),
            )
            for position, j in enumerate(rest, start=1)
        },
    )


def _all_wait(
    jobs: Sequence[model.PipelineJob], *, reason: model.Reason, text: str, worker: str
) -> dict[tuple[str, str], Waiting]:
    """The same reason to wait for each of `jobs`."""
    return {j.key: Waiting(reason=reason, text=text, worker=worker) for j in jobs}


def waiting_status(*, pending: model.JobStatus, why: Waiting, generation: int) -> model.JobStatus:
    """The status a waiting job is written with: its pending status (from the
    state machine) with why it waits, acknowledging spec `generation`."""
    return dataclasses.replace(
        pending,
        reason=why.reason,
        message=why.message,
        worker=why.worker or pending.worker,
        observed_generation=generation,
    )


def rewrite_in(
    *,
    old: model.JobStatus,
    new: model.JobStatus,
    old_position: int | None,
    new_position: int | None,
    since_written: float,
    interval: float,
) -> float | None:
    """Seconds until a waiting job's status `old` should be rewritten as `new`:
    0 for now, None for not at all.

    A waiting job's position changes with every admission; rewriting each
    time would cost O(queue) writes per admission. So a new position alone is
    written once it has at least halved (O(log queue) writes per wait), and a
    message alone changes at most once per `interval` seconds. Anything else
    (state, reason, Worker) is written at once.
    """
    if new == old:
        return None
    if dataclasses.replace(new, message=old.message) != old:
        return 0.0
    return message_rewrite_in(
        changed=True,
        old_position=old_position,
        new_position=new_position,
        since_written=since_written,
        interval=interval,
    )


def message_rewrite_in(
    *,
    changed: bool,
    old_position: int | None,
    new_position: int | None,
    since_written: float,
    interval: float,
) -> float | None:
    """`rewrite_in` for a status whose message alone may change (`changed`
    says whether it does): the controller's fast path over a long queue."""
    if new_position is not None:
        if old_position is None or new_position > old_position // 2:
            return None
    elif not changed:
        return None
    return max(interval - since_written, 0.0)
