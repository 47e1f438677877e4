"""The run's state machine, driven round by round against a fake world of children.

Each round: `decide` from the run (with the status written last round) and the
observed children; the world then creates and revokes what was decided, and
the test says how children end.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from conveyor.core import model
from conveyor.core.pipeline import children, naming, run
from tests.builders import clock
from tests.core.pipeline import builders

B = builders.pipelinerun


@dataclasses.dataclass
class World:
    body: builders.PipelineRunBuilder
    pipeline: dict[str, Any] | None = None
    earlier: dict[str, Any] | None = None
    kids: dict[str, children.Child] = dataclasses.field(default_factory=dict)
    t: float = 0
    created_ever: list[str] = dataclasses.field(default_factory=list)
    last: run.Decision | None = None

    def round(self, **advance: float) -> run.Decision:
        self.t += advance.get("seconds", 1)
        if "pipelineSpec" not in self.body.status:
            self.resolve()
        decision = run.decide(
            run=self.body.parsed(),
            pipeline=self.pipeline,
            earlier=self.earlier,
            observed=list(self.kids.values()),
            now=clock.at(self.t),
        )
        for new in decision.create:
            if new.name not in self.kids:
                self.created_ever.append(new.name)
            labels = new.manifest["metadata"]["labels"]
            index = labels.get(naming.INDEX_LABEL)
            self.kids.setdefault(
                new.name,
                children.Child(
                    name=new.name,
                    step=labels[naming.STEP_LABEL],
                    index=int(index) if index else None,
                    state=model.State.IN_QUEUE,
                ),
            )
        for name in decision.revoke:
            self.kids[name] = dataclasses.replace(
                self.kids[name], state=model.State.REVOKED, revoke_requested=True
            )
        self.body.with_status(builders.as_status(decision))
        self.last = decision
        return decision

    def resolve(self) -> run.Decision:
        """The run's first decision: it records what it runs, and creates nothing yet."""
        decision = run.decide(
            run=self.body.parsed(),
            pipeline=self.pipeline,
            earlier=self.earlier,
            observed=list(self.kids.values()),
            now=clock.at(self.t),
        )
        assert (decision.create, decision.revoke) == ((), ())
        self.body.with_status(builders.as_status(decision))
        return decision

    def end(self, name: str, state: str = "SUCCESS", **fields: Any) -> None:
        kid = self.kids[name]
        fields.setdefault("attempt", max(kid.attempt, 1))  # it ran at least once
        self.kids[name] = dataclasses.replace(kid, state=model.State(state), **fields)

    def end_all(self, step: str, state: str = "SUCCESS", **fields: Any) -> None:
        for name, kid in list(self.kids.items()):
            if kid.step == step and kid.active:
                self.end(name, state, **fields)

    @property
    def steps(self) -> dict[str, str]:
        assert self.last is not None
        return builders.steps_of(self.last)

    @property
    def status(self) -> dict[str, Any]:
        return self.body.status


def example() -> builders.PipelineRunBuilder:
    """The §3b shape: build fan-out -> test -> deploy (when) ; finally notify."""
    return (
        B("r")
        .set(params={"platforms": ["linux/amd64", "linux/arm64"], "revision": "3f2a"})
        .step(
            "build",
            for_each="{{ params.platforms }}",
            params={
                "image": "api:{{ params.revision }}-{{ item | replace('/', '-') }}",
                "command": ["make"],
            },
        )
        .step("test", depends_on=["build"])
        .step(
            "deploy",
            depends_on=["test"],
            when="steps.build.state == 'SUCCESS'",
            params={"image": "{{ steps.build.outputs[1].digest }}", "command": ["deploy"]},
        )
        .final("notify", params={"image": "n", "command": ["notify", "{{ run.state }}"]})
    )


def test_the_example_runs_step_by_step_and_outputs_flow() -> None:
    w = World(example())
    d = w.round()
    assert builders.created(d) == ["r-build-0", "r-build-1"]
    assert d.create[1].manifest["spec"]["params"]["image"] == "api:3f2a-linux-arm64"
    assert d.create[0].manifest["metadata"]["ownerReferences"][0]["uid"] == "uid-r"
    assert (d.status.state, d.status.progress) == (model.State.IN_QUEUE, "0/4")
    assert w.status["pipelineSpec"]["params"]["revision"] == "3f2a"
    w.end("r-build-0", outputs={"digest": "sha256:0"})
    w.end("r-build-1", outputs={"digest": "sha256:1"})
    assert builders.created(w.round()) == ["r-test"]
    assert w.status["steps"][0]["outputs"] == [{"digest": "sha256:0"}, {"digest": "sha256:1"}]
    w.end("r-test")
    d = w.round()
    assert d.create[0].manifest["spec"]["params"]["image"] == "sha256:1"
    w.end("r-deploy")
    d = w.round()
    assert d.create[0].manifest["spec"]["params"]["command"] == ["notify", "SUCCESS"]
    w.end("r-notify")
    d = w.round()
    assert (d.status.state, d.status.reason, d.status.progress) == (
        model.State.SUCCESS,
        "Succeeded",
        "4/4",
    )
    assert (d.status.finished_at is not None, d.wake_at) == (True, None)
    assert [c["type"] for c in w.status["conditions"] if c["status"] == "True"] == ["Ready"]
    assert w.round().create == ()  # finished: nothing more


def test_a_failed_step_skips_its_dependents_runs_finally_and_fails_the_run() -> None:
    w = World(example())
    w.round()
    w.end_all("build", outputs={"digest": "d"})
    w.round()
    w.end("r-test", "FAILED", attempt=3, attempts_allowed=3, exit_code=1)
    d = w.round()
    assert w.steps == {
        "build": "SUCCESS",
        "test": "FAILED",
        "deploy": "Skipped",
        "notify": "IN-QUEUE",
    }
    assert d.create[0].manifest["spec"]["params"]["command"] == ["notify", "FAILED"]
    assert d.status.state is model.State.RUNNING
    w.end("r-notify")
    d = w.round()
    assert (d.status.state, d.status.reason) == (model.State.FAILED, "StepFailed")
    assert d.status.message == "step test failed: attempt 3 of 3 (exit code 1)"
    assert w.status["steps"][2]["message"] == "skipped: step test FAILED"


def test_a_false_when_skips_the_step_and_its_dependents_still_run() -> None:
    w = World(B("r").step("a", when="1 == 2").step("b", depends_on=["a"]))
    assert builders.created(w.round()) == ["r-b"]
    assert w.steps == {"a": "Skipped", "b": "IN-QUEUE"}
    w.end("r-b")
    assert w.round().status.message == "1 steps succeeded, 1 skipped"


def test_a_failing_template_fails_the_step_naming_step_and_field() -> None:
    w = World(
        B("r")
        .step("a")
        .step("b", depends_on=["a"], params={"image": "{{ steps.a.outputs.digest }}"})
    )
    w.round()
    w.end("r-a")
    d = w.round()
    assert d.create == ()
    assert (d.status.state, d.status.reason) == (model.State.FAILED, "StepFailed")
    assert d.status.message == (
        "step b failed: steps[b].job.params.image: 'dict object' has no attribute 'digest'"
    )


@pytest.mark.parametrize(
    ("for_each", "reason", "message"),
    [
        # Rendered, but not a list of at most 256: the definition is wrong.
        (
            "{{ params.n }}",
            "InvalidSpec",
            "spec.steps[a].forEach: must render to a list, not int: 3",
        ),
        (
            "{{ range(300) | list }}",
            "InvalidSpec",
            "spec.steps[a].forEach: renders to 300 items, more than 256",
        ),
        # A template that fails to render at run time fails the step.
        (
            "{{ params.missing }}",
            "StepFailed",
            "step a failed: steps[a].forEach: 'dict object' has no attribute 'missing'",
        ),
    ],
)
def test_a_bad_fan_out_fails_the_run_after_running_steps_and_finally(
    for_each: str, reason: str, message: str
) -> None:
    body = B("r").set(params={"n": 3}).step("slow").step("a", for_each=for_each)
    w = World(body.step("after", depends_on=["a"]).final("notify"))
    assert builders.created(w.round()) == ["r-slow"]
    assert w.steps == {"slow": "IN-QUEUE", "a": "FAILED", "after": "Skipped", "notify": "Pending"}
    assert w.status["steps"][1]["message"] == message
    w.end("r-slow")
    assert builders.created(w.round()) == ["r-notify"]  # finally runs, as for any failure
    w.end("r-notify")
    d = w.round()
    assert (d.status.state, d.status.reason, d.status.message) == (
        model.State.FAILED,
        reason,
        message,
    )


def test_a_bad_fan_out_in_finally_fails_a_successful_run_as_invalid_spec() -> None:
    w = World(B("r").step("a").final("notify", for_each="{{ 3 }}"))
    w.round()
    w.end("r-a")
    d = w.round()
    assert (d.status.state, d.status.reason, d.status.message) == (
        model.State.FAILED,
        "InvalidSpec",
        "spec.steps[notify].forEach: must render to a list, not int: 3",
    )


@pytest.mark.parametrize(
    ("parallelism", "max_parallel", "first", "peak"),
    [(0, None, 6, 6), (0, 2, 4, 4), (3, None, 3, 3), (3, 2, 3, 3), (1, 2, 1, 1)],
)
def test_parallelism_and_max_parallel_are_never_exceeded(
    parallelism: int, max_parallel: int | None, first: int, peak: int
) -> None:
    body = B("r").set(parallelism=parallelism)
    body.step("a", for_each=list(range(4)), max_parallel=max_parallel)
    body.step("b", for_each=[0, 1], max_parallel=max_parallel)
    w = World(body)
    assert len(w.round().create) == first
    seen = 0
    for _ in range(20):
        active = [k for k in w.kids.values() if k.active]
        seen = max(seen, len(active))
        by_step = {s: sum(1 for k in active if k.step == s) for s in ("a", "b")}
        if max_parallel:
            assert max(by_step.values()) <= max_parallel
        if active:
            w.end(active[0].name)
        if w.round().status.state is model.State.SUCCESS:
            break
    assert w.last is not None
    assert w.last.status.state is model.State.SUCCESS
    assert seen == peak
    assert len(w.created_ever) == len(set(w.created_ever)) == 6


def test_revoke_revokes_running_children_and_starts_nothing_new() -> None:
    w = World(B("r").step("a").step("b").step("c", depends_on=["a"]).final("n"))
    w.round()
    w.end("r-a")
    w.body.set(revoke=True)
    d = w.round()
    assert (d.revoke, d.create) == (("r-b",), ())
    assert (d.status.state, d.status.reason) == (model.State.RUNNING, "Revoked")
    d = w.round()  # the revoked child has ended
    assert w.steps == {"a": "SUCCESS", "b": "REVOKED", "c": "Skipped", "n": "Skipped"}
    assert (d.status.state, d.status.reason) == (model.State.REVOKED, "Revoked")


def test_revoke_before_start_needs_no_children() -> None:
    d = World(B("r").step("a").set(revoke=True)).round()
    assert (d.status.state, d.create) == (model.State.REVOKED, ())


def test_timeout_revokes_running_steps_and_finally_still_runs() -> None:
    w = World(B("r").set(timeout="1h").step("a").step("b", depends_on=["a"]).final("n"))
    d = w.round()
    assert d.wake_at == clock.at(1, hours=1)
    d = w.round(seconds=3600)
    assert (d.revoke, d.status.reason) == (("r-a",), "Timeout")
    d = w.round()
    assert builders.created(d) == ["r-n"]
    assert w.steps == {"a": "REVOKED", "b": "Skipped", "n": "IN-QUEUE"}
    w.end("r-n")
    d = w.round()
    assert (d.status.state, d.status.reason) == (model.State.FAILED, "Timeout")
    assert d.status.message == "the run timed out after 1h"


def test_a_failing_finally_step_fails_a_successful_run() -> None:
    w = World(B("r").step("a").final("n"))
    w.round()
    w.end("r-a")
    w.round()
    w.end("r-n", "FAILED", exit_code=2)
    d = w.round()
    assert (d.status.state, d.status.message) == (
        model.State.FAILED,
        "step n failed: attempt 1 of 1 (exit code 2)",
    )


def test_a_restart_never_starts_a_step_twice() -> None:
    """A child seen (or recorded) is never created again under another name; one that
    was recorded but is not seen yet is created again by the same name (adoption)."""
    w = World(example())
    first = w.round()
    again = run.decide(
        run=w.body.parsed(),
        pipeline=None,
        earlier=None,
        observed=list(w.kids.values()),
        now=clock.at(9),
    )
    assert again.create == ()
    lagging = run.decide(
        run=w.body.parsed(), pipeline=None, earlier=None, observed=[], now=clock.at(9)
    )
    assert builders.created(lagging) == builders.created(first)


def test_the_pipeline_is_resolved_once_and_recorded() -> None:
    pipeline = (
        builders.pipeline("api-ci")
        .param("revision")
        .param("platforms", default=["linux/amd64"])
        .step("build", for_each="{{ params.platforms }}")
        .obj()
    )
    pipeline["metadata"]["generation"] = 7
    w = World(B("r").ref("api-ci").set(params={"revision": "x"}), pipeline=pipeline)
    assert builders.created(w.round()) == ["r-build-0"]
    assert w.status["pipelineGeneration"] == 7
    assert w.status["pipelineSpec"]["params"] == {"revision": "x", "platforms": ["linux/amd64"]}
    w.pipeline = None  # the Pipeline deleted (or changed): the run goes on from its record
    w.end("r-build-0")
    assert w.round().status.state is model.State.SUCCESS


@pytest.mark.parametrize(
    ("pipeline", "params", "state", "reason", "field"),
    [
        (None, {}, "IN-QUEUE", "PipelineNotFound", None),
        (
            builders.pipeline("p").param("revision").step("a").obj(),
            {},
            "FAILED",
            "InvalidSpec",
            "spec.params.revision",
        ),
        (
            builders.pipeline("p").step("a", depends_on=["b"]).step("b", depends_on=["a"]).obj(),
            {},
            "FAILED",
            "InvalidSpec",
            "Pipeline p spec.steps",
        ),
    ],
)
def test_resolution_waits_or_fails_naming_the_field(
    pipeline: dict[str, Any] | None,
    params: dict[str, Any],
    state: str,
    reason: str,
    field: str | None,
) -> None:
    d = World(B("r").ref("p").set(params=params), pipeline=pipeline).round()
    assert (str(d.status.state), d.status.reason, d.create) == (state, reason, ())
    assert d.wake_at == (clock.at(1) + run.WAIT_RETRY if state == "IN-QUEUE" else None)
    if field:
        assert f"invalid spec: {field}:" in (d.status.message or "")


def test_resume_reuses_succeeded_steps_and_succeeded_items() -> None:
    shape = (
        B("old")
        .set(params={"n": 3})
        .step("prep")
        .step(
            "build", depends_on=["prep"], for_each=["a", "b", "c"], params={"image": "{{ item }}"}
        )
        .step("test", depends_on=["build"])
    )
    old = World(shape)
    old.round()
    old.end("old-prep", outputs={"v": 1})
    old.round()
    old.end("old-build-0", outputs={"d": "a"})
    old.end("old-build-1", "FAILED", exit_code=1)
    old.end("old-build-2", outputs={"d": "c"})
    assert old.round().status.state is model.State.FAILED

    new = World(
        dataclasses.replace(shape, name="new", status={}).set(resumeFrom="old"),
        earlier=old.body.obj(),
    )
    d = new.round()
    assert builders.created(d) == ["new-build-1"]
    assert new.status["resumedFrom"] == "old"
    assert new.status["steps"][0] == {
        "name": "prep",
        "state": "SUCCESS",
        "reason": "Reused",
        "outputs": {"v": 1},
        "reusedFrom": "old",
        "message": "reused from PipelineRun old",
    }
    new.end("new-build-1", outputs={"d": "b"})
    new.round()
    assert new.status["steps"][1]["outputs"] == [{"d": "a"}, {"d": "b"}, {"d": "c"}]
    new.end("new-test")
    assert new.round().status.state is model.State.SUCCESS


def test_resume_waits_for_the_earlier_run_to_finish() -> None:
    running = B("old").step("a").with_status({"state": "RUNNING"}).obj()
    d = World(B("new").step("a").set(resumeFrom="old"), earlier=running).round()
    assert (d.status.state, d.status.reason) == (model.State.IN_QUEUE, "ResumeSourceRunning")


def test_a_200_step_dag_runs_to_the_end() -> None:
    """A wide DAG: each step joins two earlier ones, about eight levels deep."""
    body = B("r")
    for i in range(200):
        deps = sorted({f"s{(i - 1) // 2}", f"s{i // 3}"}) if i else None
        body.step(f"s{i}", depends_on=deps)
    w = World(body)
    levels = 0
    while w.round().status.state is not model.State.SUCCESS:
        levels += 1
        assert levels < 20
        for name, kid in list(w.kids.items()):
            if kid.active:
                w.end(name)
    assert w.last is not None
    assert (w.last.status.progress, levels) == ("200/200", 8)
    assert len(w.created_ever) == len(set(w.created_ever)) == 200


def test_a_run_of_256_items_and_20_steps_keeps_a_compact_status() -> None:
    body = B("api-ci-20260101-1234").set(params={"targets": list(range(256))})
    body.step("fan", for_each="{{ params.targets }}", params={"image": "build:{{ item }}"})
    for i in range(19):
        body.step(f"step-{i}", depends_on=["fan"])
    w = World(body)
    w.round()
    w.end_all("fan", outputs={"digest": "sha256:" + "a" * 64, "image": "registry.example/api:x"})
    w.round()
    for i in range(19):
        w.end_all(f"step-{i}", outputs={"result": "ok"})
    d = w.round()
    assert d.status.state is model.State.SUCCESS
    size = len(json.dumps(w.status))
    print(f"status of a run with 256 fan-out items and 20 steps: {size} bytes")
    assert size < 256 * 1024


def test_a_failed_item_starts_no_more_items_and_running_ones_finish() -> None:
    w = World(
        B("r").step("fan", for_each=[0, 1, 2, 3], max_parallel=2).step("after", depends_on=["fan"])
    )
    assert builders.created(w.round()) == ["r-fan-0", "r-fan-1"]
    w.end("r-fan-0", "FAILED", exit_code=1)
    d = w.round()
    assert (d.create, d.revoke, w.steps["fan"]) == ((), (), "IN-QUEUE")  # r-fan-1 queued
    w.end("r-fan-1", outputs={"d": 1})
    d = w.round()
    assert w.steps == {"fan": "FAILED", "after": "Skipped"}
    assert d.status.message == "step fan item 0 failed: attempt 1 of 1 (exit code 1)"
    assert w.status["steps"][0]["outputs"] == [None, {"d": 1}, None, None]
    assert w.status["steps"][0]["failedItems"] == [0]


def test_a_child_revoked_by_hand_revokes_its_step_and_fails_the_run() -> None:
    w = World(B("r").step("a").step("b", depends_on=["a"]))
    w.round()
    w.end("r-a", "REVOKED")
    d = w.round()
    assert w.steps == {"a": "REVOKED", "b": "Skipped"}
    assert (d.status.state, d.status.message) == (model.State.FAILED, "step a was revoked")


def test_a_finished_step_stays_finished_when_its_child_is_deleted() -> None:
    w = World(B("r").step("a").step("b", depends_on=["a"]))
    w.round()
    w.end("r-a", outputs={"x": 1})
    w.round()
    del w.kids["r-a"]  # deleted by hand
    d = w.round()
    assert (d.create, w.steps["a"], w.status["steps"][0]["outputs"]) == ((), "SUCCESS", {"x": 1})


def test_a_template_may_read_a_step_evaluated_later_in_the_pass() -> None:
    w = World(B("r").step("a", params={"image": "{{ steps.b.state }}"}).step("b"))
    d = w.round()
    assert d.create[0].manifest["spec"]["params"]["image"] == "Pending"


def test_the_run_priority_is_the_default_of_its_children() -> None:
    d = World(B("r").set(priority=5).step("a").step("b", priority=-1)).round()
    assert [c.manifest["spec"]["priority"] for c in d.create] == [5, -1]


def test_an_invalid_spec_after_the_start_fails_the_run_and_revokes_its_children() -> None:
    w = World(B("r").step("a"))
    w.round()
    w.body.set(parallelism=-1)  # the CRD refuses it; a run must survive it anyway
    d = w.round()
    assert (d.status.state, d.status.reason, d.revoke) == (
        model.State.FAILED,
        "InvalidSpec",
        ("r-a",),
    )
    assert "spec.parallelism" in (d.status.message or "")


def test_long_names_give_children_within_the_limits() -> None:
    d = World(B("r" * 63).step("s" * 63, for_each=[0])).round()
    (child,) = d.create
    assert len(child.name) <= naming.MAX_CHILD_NAME
    assert child.manifest["metadata"]["labels"][naming.RUN_LABEL] == "r" * 63


def test_the_first_decision_records_what_the_run_runs_and_creates_nothing() -> None:
    w = World(example())
    d = w.resolve()
    assert d.wake_at == clock.at(0)
    assert (d.status.state, d.status.progress, d.status.message) == (
        model.State.IN_QUEUE,
        "0/4",
        "resolved 4 steps (inline); starting",
    )
    assert w.status["startedAt"] == clock.ts(clock.at(0))
    assert builders.created(w.round()) == ["r-build-0", "r-build-1"]


def _reasons(w: World) -> dict[str, str | None]:
    return {s["name"]: s.get("reason") for s in w.status["steps"]}


def _one_fails(w: World) -> None:
    w.round()
    w.end("r-a", "FAILED", exit_code=1)
    w.round()


def _fan_item_fails(w: World) -> None:
    w.round()
    w.end("r-a-0", "FAILED", exit_code=1)
    w.round()


def _revoked_by_hand(w: World) -> None:
    w.round()
    w.end("r-a", "REVOKED")
    w.round()


def _run_revoked(w: World) -> None:
    w.round()
    w.body.set(revoke=True)
    w.round()
    w.round()


def _all_succeed(w: World) -> None:
    w.round()
    w.end_all("a")
    w.round()
    w.end_all("b")
    w.round()


@pytest.mark.parametrize(
    ("body", "drive", "reasons"),
    [
        (B("r").step("a").step("b", depends_on=["a"]), _all_succeed, ["Succeeded", "Succeeded"]),
        (
            B("r").step("a").step("b", depends_on=["a"]),
            _one_fails,
            ["JobFailed", "DependencyFailed"],
        ),
        (B("r").step("a", when="1 == 2"), World.round, ["WhenFalse"]),
        (B("r").step("a", for_each="{{ 3 }}"), World.round, ["InvalidSpec"]),
        (B("r").step("a", for_each="{{ params.missing }}"), World.round, ["RenderFailed"]),
        (
            B("r").step("a", params={"image": "{{ steps.nope.outputs.x }}"}),
            World.round,
            ["RenderFailed"],
        ),
        (
            B("r").step("a").step("b", depends_on=["a"]),
            _revoked_by_hand,
            ["Revoked", "DependencyFailed"],
        ),
        (B("r").step("a").final("n"), _run_revoked, ["Revoked", "RunStopped"]),
        # An item failed, the others still run: the entry already says why it will fail.
        (B("r").step("a", for_each=[0, 1]), _fan_item_fails, ["JobFailed"]),
        (B("r").step("a").step("b", depends_on=["a"]), World.resolve, [None, None]),
    ],
)
def test_each_step_entry_says_why_in_its_reason(
    body: builders.PipelineRunBuilder, drive: Any, reasons: list[str | None]
) -> None:
    w = World(body)
    drive(w)
    assert list(_reasons(w).values()) == reasons


@pytest.mark.parametrize(
    ("reason", "message", "run_reason"),
    [
        # The step's reason decides, whatever its message says.
        (
            "InvalidSpec",
            "spec.steps[a].forEach: renders to 300 items, more than 256",
            "InvalidSpec",
        ),
        ("InvalidSpec", "the definition is wrong", "InvalidSpec"),
        ("JobFailed", "spec.tests failed in the child", "StepFailed"),
        ("RenderFailed", "step a failed: steps[a].job.params.x: undefined", "StepFailed"),
        (None, "spec.steps[a].forEach: written before step reasons", "StepFailed"),
    ],
)
def test_the_run_is_invalid_spec_when_its_failed_step_says_so(
    reason: str | None, message: str, run_reason: str
) -> None:
    w = World(B("r").step("a"))
    w.round()
    entry = {"name": "a", "state": "FAILED", "message": message, "jobs": ["r-a"]}
    w.status["steps"] = [{**entry, "reason": reason} if reason else entry]
    d = w.round()
    assert (d.status.state, d.status.reason, d.status.message) == (
        model.State.FAILED,
        run_reason,
        message,
    )
