"""scheduling: which Worker runs a job, and which waiting jobs a Worker admits
now — in queue order, never more than its concurrency — and why the others wait."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import pytest

from conveyor.core import model, ordering, scheduling
from tests import builders as b

Reason = model.Reason


# --- resolve_worker ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "workers", "expected"),
    [
        pytest.param(
            b.pipelinejob().worker("fast").model(),
            [b.worker("build").model(), b.worker("fast").model()],
            "fast",
            id="spec.worker names it",
        ),
        pytest.param(
            b.pipelinejob().model(),
            [b.worker("pool-a").model()],
            "pool-a",
            id="the only Worker of the type, whatever its name",
        ),
        pytest.param(
            b.pipelinejob().type("build").model(),
            [b.worker("pool-a").model(), b.worker("deploy").type("deploy").model()],
            "pool-a",
            id="Workers of other types do not count",
        ),
        pytest.param(
            b.pipelinejob().model(),
            [b.worker("pool-a").model(), b.worker("build").model(), b.worker("pool-z").model()],
            "build",
            id="several of the type: the one named like the type",
        ),
        pytest.param(
            b.pipelinejob().type("deploy").model(),
            [
                b.worker("deploy").type("deploy").model(),
                b.worker("deploy-2").type("deploy").model(),
            ],
            "deploy",
            id="deploy jobs: the deploy Worker",
        ),
        pytest.param(
            b.pipelinejob().type("clone-env").model(),
            [b.worker("clone-env").type("clone-env").model(), b.worker("build").model()],
            "clone-env",
            id="clone-env jobs: the clone-env Worker",
        ),
        pytest.param(
            b.pipelinejob().model(),
            [b.worker("old").deleting(True).model(), b.worker("new").model()],
            "new",
            id="a Worker being deleted is ignored",
        ),
        pytest.param(
            b.pipelinejob().model(),
            [b.worker("theirs", "team-b").model(), b.worker("ours").model()],
            "ours",
            id="Workers of other namespaces are ignored",
        ),
    ],
)
def test_resolve_worker_finds(
    job: model.PipelineJob, workers: Sequence[model.Worker], expected: str
) -> None:
    found = scheduling.resolve_worker(job=job, workers=workers)
    assert isinstance(found, model.Worker), found
    assert found.meta.name == expected


@pytest.mark.parametrize(
    ("job", "workers", "fragments", "worker"),
    [
        pytest.param(
            b.pipelinejob().model(),
            [],
            ["no Worker of type build in namespace team-a", "create one"],
            None,
            id="no Worker at all",
        ),
        pytest.param(
            b.pipelinejob().type("deploy").model(),
            [b.worker("build").model()],
            ["no Worker of type deploy"],
            None,
            id="no Worker of the type",
        ),
        pytest.param(
            b.pipelinejob().worker("fast").model(),
            [b.worker("build").model()],
            ["no Worker named 'fast'", "team-a"],
            None,
            id="the named Worker is missing",
        ),
        pytest.param(
            b.pipelinejob().worker("fast").model(),
            [b.worker("fast").deleting(True).model(), b.worker("build").model()],
            ["no Worker named 'fast'"],
            None,
            id="the named Worker is being deleted",
        ),
        pytest.param(
            b.pipelinejob().worker("fast").model(),
            [b.worker("fast", "team-b").model()],
            ["no Worker named 'fast'"],
            None,
            id="the named Worker is in another namespace",
        ),
        pytest.param(
            b.pipelinejob().type("custom").worker("deploy").model(),
            [b.worker("deploy").type("deploy").model(), b.worker("build").model()],
            ["Worker 'deploy' runs deploy jobs", "needs a build Worker"],
            "deploy",
            id="the named Worker is of the wrong type",
        ),
        pytest.param(
            b.pipelinejob().model(),
            [b.worker("pool-b").model(), b.worker("pool-a").model()],
            ["2 Workers of type build (pool-a, pool-b)", "set spec.worker"],
            None,
            id="several of the type, none named like it: ambiguous, names listed",
        ),
        pytest.param(
            b.pipelinejob().model(),
            [b.worker("build").deleting(True).model()],
            ["no Worker of type build"],
            None,
            id="the only Worker is being deleted",
        ),
    ],
)
def test_resolve_worker_explains_why_there_is_none(
    job: model.PipelineJob,
    workers: Sequence[model.Worker],
    fragments: Sequence[str],
    worker: str | None,
) -> None:
    found = scheduling.resolve_worker(job=job, workers=workers)
    assert isinstance(found, scheduling.Waiting), found
    assert found.reason is Reason.NO_WORKER
    for fragment in fragments:
        assert fragment in found.message
    assert found.worker == worker


# --- admit -------------------------------------------------------------------------------


def holding(name: str, *, worker: str = "build") -> model.PipelineJob:
    """A job holding one of the Worker's slots (its pod running)."""
    return (
        b.pipelinejob(name).state("RUNNING").reason("Running").assigned(worker).attempt(1).model()
    )


def waiting(name: str, *, priority: int = 0, created: float = 0) -> model.PipelineJob:
    return (
        b.pipelinejob(name)
        .state("IN-QUEUE")
        .reason("Queued")
        .priority(priority)
        .created(b.at(created))
        .model()
    )


def admitted_names(decision: scheduling.Decision) -> list[str]:
    return [j.meta.name for j in decision.admitted]


def key(name: str) -> tuple[str, str]:
    return (b.NAMESPACE, name)


def test_free_slots_go_to_the_head_of_the_queue_in_order() -> None:
    queue = [
        waiting("late", created=30),
        waiting("urgent", priority=10, created=50),
        waiting("early", created=10),
        waiting("middle", created=20),
    ]
    decision = scheduling.admit(
        worker=b.worker().concurrency(3).model(), holders=[holding("busy")], waiting=queue
    )
    assert admitted_names(decision) == ["urgent", "early"]
    assert set(decision.waiting) == {key("middle"), key("late")}
    assert all(w.reason is Reason.CONCURRENCY_LIMIT for w in decision.waiting.values())
    assert all(w.worker == "build" for w in decision.waiting.values())


def test_the_waiting_learn_who_holds_the_slots_and_their_place_in_the_queue() -> None:
    queue = [waiting(f"q{n}", created=n) for n in range(1, 6)]
    decision = scheduling.admit(
        worker=b.worker().concurrency(3).model(),
        holders=[holding("build-7"), holding("build-12"), holding("build-9")],
        waiting=queue,
    )
    assert decision.admitted == ()
    assert decision.waiting[key("q2")].message == (
        "3 of 3 slots busy (build-12, build-7, build-9); position 2 of 5"
    )
    positions = [decision.waiting[key(f"q{n}")].message.rsplit("; ", 1)[1] for n in range(1, 6)]
    assert positions == [f"position {n} of 5" for n in range(1, 6)]


def test_jobs_admitted_now_count_as_holders_in_the_message() -> None:
    decision = scheduling.admit(
        worker=b.worker().concurrency(2).model(),
        holders=[holding("a")],
        waiting=[waiting("b", created=1), waiting("c", created=2)],
    )
    assert admitted_names(decision) == ["b"]
    assert decision.waiting[key("c")].message == "2 of 2 slots busy (a, b); position 1 of 1"


def test_a_paused_worker_admits_nothing_and_says_so() -> None:
    decision = scheduling.admit(
        worker=b.worker().concurrency(5).paused(True).model(),
        holders=[],
        waiting=[waiting("a"), waiting("b")],
    )
    assert decision.admitted == ()
    assert {w.reason for w in decision.waiting.values()} == {Reason.WORKER_PAUSED}
    assert "Worker build is paused" in decision.waiting[key("a")].message
    assert decision.waiting[key("a")].worker == "build"


def test_an_offline_worker_admits_nothing_while_its_pods_cannot_start() -> None:
    decision = scheduling.admit(
        worker=b.worker().concurrency(5).model(),
        holders=[holding("stuck")],
        waiting=[waiting("a")],
        offline_cause="its pods cannot pull their image (ImagePullBackOff)",
    )
    assert decision.admitted == ()
    only = decision.waiting[key("a")]
    assert only.reason is Reason.WORKER_OFFLINE
    assert only.message == (
        "Worker build is offline: its pods cannot pull their image (ImagePullBackOff)"
    )


def test_an_offline_worker_with_no_slot_held_lets_one_job_probe() -> None:
    decision = scheduling.admit(
        worker=b.worker().concurrency(5).model(),
        holders=[],
        waiting=[waiting("a"), waiting("b")],
        offline_cause="its pods cannot pull their image (ImagePullBackOff)",
    )
    assert [j.meta.name for j in decision.admitted] == ["a"]
    assert decision.waiting[key("b")].reason is Reason.WORKER_OFFLINE


def test_concurrency_0_holds_the_queue() -> None:
    decision = scheduling.admit(
        worker=b.worker().concurrency(0).model(), holders=[], waiting=[waiting("a"), waiting("b")]
    )
    assert decision.admitted == ()
    assert decision.waiting[key("b")].reason is Reason.CONCURRENCY_LIMIT
    assert decision.waiting[key("b")].message == (
        "Worker build has concurrency 0 (on hold); position 2 of 2"
    )


def test_lowered_concurrency_admits_nothing_and_stops_no_one() -> None:
    decision = scheduling.admit(
        worker=b.worker().concurrency(1).model(),
        holders=[holding("a"), holding("b"), holding("c")],
        waiting=[waiting("d")],
    )
    assert decision.admitted == ()
    assert decision.waiting[key("d")].message == "3 of 1 slots busy (a, b, c); position 1 of 1"


def test_raised_concurrency_admits_the_waiting_at_once() -> None:
    queue = [waiting(f"q{n}", created=n) for n in range(4)]
    holders = [holding("a"), holding("b")]
    before = scheduling.admit(
        worker=b.worker().concurrency(2).model(), holders=holders, waiting=queue
    )
    after = scheduling.admit(
        worker=b.worker().concurrency(5).model(), holders=holders, waiting=queue
    )
    assert admitted_names(before) == []
    assert admitted_names(after) == ["q0", "q1", "q2"]


def test_nothing_waiting_nothing_decided() -> None:
    decision = scheduling.admit(worker=b.worker().model(), holders=[holding("a")], waiting=[])
    assert decision == scheduling.Decision()


@pytest.mark.parametrize("seed", range(300))
def test_admission_never_exceeds_the_concurrency(seed: int) -> None:
    rng = random.Random(seed)
    concurrency = rng.randint(0, 6)
    paused = rng.random() < 0.15
    holders = [holding(f"h{n}") for n in range(rng.randint(0, 8))]
    queue = [
        waiting(f"w{n:02d}", priority=rng.choice([0, 0, 1, 5]), created=rng.randint(0, 5))
        for n in rng.sample(range(50), rng.randint(0, 12))
    ]
    rng.shuffle(queue)

    decision = scheduling.admit(
        worker=b.worker().concurrency(concurrency).paused(paused).model(),
        holders=holders,
        waiting=queue,
    )

    free = 0 if paused else max(concurrency - len(holders), 0)
    assert len(decision.admitted) == min(free, len(queue))
    # The admitted are the head of the queue, in order; everyone else is told why.
    in_order = ordering.ordered(queue)
    assert list(decision.admitted) == in_order[: len(decision.admitted)]
    rest = in_order[len(decision.admitted) :]
    assert list(decision.waiting) == [j.key for j in rest]
    for position, job in enumerate(rest, start=1):
        why = decision.waiting[job.key]
        if paused:
            assert why.reason is Reason.WORKER_PAUSED
        else:
            assert why.reason is Reason.CONCURRENCY_LIMIT
            assert why.message.endswith(f"position {position} of {len(rest)}")


def test_admission_rounds_never_exceed_the_concurrency() -> None:
    """Rounds of admit/finish as the operator runs them: the holders are always
    the admitted that have not finished, and there are never too many."""
    rng = random.Random(7)
    worker = b.worker().concurrency(3).model()
    queue = [waiting(f"w{n:03d}", priority=rng.choice([0, 1]), created=n) for n in range(60)]
    holders: list[model.PipelineJob] = []
    started: list[str] = []
    for _ in range(200):
        decision = scheduling.admit(worker=worker, holders=holders, waiting=queue)
        holders += decision.admitted
        started += [j.meta.name for j in decision.admitted]
        queue = [j for j in queue if j not in decision.admitted]
        assert len(holders) <= 3
        for done in [h for h in holders if rng.random() < 0.4]:
            holders.remove(done)
        if not queue:
            break
    assert not queue
    assert sorted(started) == sorted(set(started))
    assert len(started) == 60


def test_a_worker_with_a_spec_the_operator_cannot_read_is_offline_not_paused() -> None:
    # E.g. a field from a newer CRD: workers.status reports OFFLINE/InvalidSpec,
    # so the waiting jobs must not be told the Worker is paused (spec.paused).
    broken = b.worker().whole_spec({"type": "build", "concurrency": 2, "replicas": 3}).model()
    assert broken.spec is None
    decision = scheduling.admit(worker=broken, holders=[], waiting=[waiting("a")])
    assert decision.admitted == ()
    why = decision.waiting[key("a")]
    assert why.reason is Reason.WORKER_OFFLINE
    assert "spec.replicas" in why.message
    assert "paused" not in why.message


# --- rewrite_in: when a waiting job's status is written again ---------------------------

_WAITING = model.JobStatus(
    state=model.State.IN_QUEUE,
    reason=Reason.CONCURRENCY_LIMIT,
    message="2 of 2 slots busy (a, b); position 8 of 9",
    worker="build",
)


def _waiting(**changes: object) -> model.JobStatus:
    return dataclasses.replace(_WAITING, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("new", "old_position", "new_position", "since", "expected"),
    [
        pytest.param(_WAITING, 8, 8, 100.0, None, id="nothing changed: no write"),
        pytest.param(
            _waiting(message="2 of 2 slots busy (a, c); position 7 of 8"),
            8,
            7,
            100.0,
            None,
            id="a step forward: no write",
        ),
        pytest.param(
            _waiting(message="2 of 2 slots busy (c, d); position 4 of 5"),
            8,
            4,
            100.0,
            0.0,
            id="position halved, interval passed: now",
        ),
        pytest.param(
            _waiting(message="2 of 2 slots busy (c, d); position 4 of 5"),
            8,
            4,
            10.0,
            20.0,
            id="position halved within the interval: when it has passed",
        ),
        pytest.param(
            _waiting(message="2 of 2 slots busy (c, d); position 1 of 2"),
            2,
            1,
            30.0,
            0.0,
            id="next to start: 2 -> 1 is a halving",
        ),
        pytest.param(
            _waiting(message="2 of 2 slots busy (c, d); position 1 of 9"),
            None,
            1,
            100.0,
            None,
            id="position unknown (after a restart): the object's message stands",
        ),
        pytest.param(
            _waiting(reason=Reason.WORKER_PAUSED, message="Worker build is paused"),
            8,
            None,
            0.0,
            0.0,
            id="another reason: now, whatever the interval",
        ),
        pytest.param(_waiting(worker="fast"), 8, 8, 0.0, 0.0, id="another Worker: now"),
        pytest.param(
            _waiting(reason=Reason.WORKER_OFFLINE, message="offline: cause B"),
            None,
            None,
            10.0,
            0.0,
            id="reason changes are never held back",
        ),
    ],
)
def test_rewrite_in(
    new: model.JobStatus,
    old_position: int | None,
    new_position: int | None,
    since: float,
    expected: float | None,
) -> None:
    wait = scheduling.rewrite_in(
        old=_WAITING,
        new=new,
        old_position=old_position,
        new_position=new_position,
        since_written=since,
        interval=30.0,
    )
    assert wait == expected


def test_rewrite_in_holds_back_a_message_change_of_the_same_reason() -> None:
    offline = _waiting(reason=Reason.WORKER_OFFLINE, message="Worker build is offline: A")
    changed = dataclasses.replace(offline, message="Worker build is offline: B")
    kwargs = {"old_position": None, "new_position": None, "interval": 30.0}
    assert scheduling.rewrite_in(old=offline, new=changed, since_written=5.0, **kwargs) == 25.0
    assert scheduling.rewrite_in(old=offline, new=changed, since_written=31.0, **kwargs) == 0.0


def test_a_waiting_job_is_rewritten_a_logarithmic_number_of_times() -> None:
    """Draining a queue of 256 one by one rewrites each job at most log2(256) times."""
    worst = 0
    for start in range(1, 257):
        written, writes = start, 0
        for position in range(start - 1, 0, -1):
            wait = scheduling.rewrite_in(
                old=_WAITING,
                new=_waiting(message=f"position {position}"),
                old_position=written,
                new_position=position,
                since_written=1000.0,
                interval=30.0,
            )
            if wait == 0.0:
                written, writes = position, writes + 1
        worst = max(worst, writes)
    assert worst == 8
