"""manifests/examples/pipelines.yaml: a valid Pipeline whose every step renders to a
job its type accepts, and a run of it that goes step by step to SUCCESS."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml

from conveyor.core import model, params
from conveyor.core.pipeline import children, spec
from tests.core.pipeline import test_run

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "manifests" / "examples" / "pipelines.yaml"
DIGESTS = [{"digest": "sha256:" + c * 64} for c in "ab"]


def documents() -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(EXAMPLE.read_text()))


def the_pipeline() -> spec.PipelineSpec:
    parsed = spec.parse_pipeline(documents()[0])
    assert isinstance(parsed, spec.PipelineSpec), parsed
    assert spec.check(steps=parsed.steps, finally_=parsed.finally_, prefix="spec") is None
    return parsed


@pytest.mark.parametrize("name", ["build", "test", "deploy", "canary", "promote", "notify"])
def test_every_step_renders_to_params_its_type_accepts(name: str) -> None:
    pipeline = the_pipeline()
    (step,) = [s for s in (*pipeline.steps, *pipeline.finally_) if s.name == name]
    context = {
        "params": {"revision": "3f2a9c1", "platforms": ["linux/amd64", "linux/arm64"]},
        "steps": {"build": {"state": "SUCCESS", "outputs": DIGESTS}},
        "run": {"name": "api-ci-42", "namespace": "team-a", "state": "SUCCESS"},
        "item": "linux/arm64",
        "index": 1,
    }
    job = children.job_spec(step=step, context=context, priority=0, field=f"steps[{name}].job")
    checked = params.validate(job_type=model.JobType(job["type"]), params=job["params"])
    assert not isinstance(checked, model.SpecError), checked


def test_the_example_run_goes_step_by_step_to_success() -> None:
    pipeline, run_body = documents()
    builder = test_run.B("api-ci-42").ref("api-ci").set(**run_body["spec"])
    w = test_run.World(builder, pipeline=pipeline)
    order = []
    for _ in range(10):
        d = w.round()
        if d.status.state is model.State.SUCCESS:
            break
        order.append(sorted(c.step for c in d.create))
        for kid in list(w.kids.values()):
            if kid.active:
                w.end(kid.name, outputs=DIGESTS[kid.index or 0] if kid.step == "build" else {})
    assert order == [["build", "build"], ["test"], ["deploy"], ["canary"], ["promote"], ["notify"]]
    assert w.status["progress"] == "6/6"  # one entry per step, fan-out included
    deploy = next(s for s in w.status["steps"] if s["name"] == "deploy")
    assert deploy["state"] == "SUCCESS"
