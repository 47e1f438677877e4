"""docs/job-types.md: every example PipelineJob is valid and renders on a
default Worker, and every runnable job type has its section and example."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest
import yaml

from conveyor.core import model, params, render
from tests.core import pss

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "job-types.md"


def examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.DOTALL)
    found = [yaml.safe_load(b) for b in blocks]
    return [d for d in found if isinstance(d, dict) and d.get("kind") == "PipelineJob"]


def test_every_runnable_job_type_has_a_section_and_an_example() -> None:
    text = DOC.read_text()
    typed = {e["spec"]["type"] for e in examples()}
    for job_type in model.JobType:
        if model.WORKER_TYPE_OF[job_type] is None:
            continue
        assert f"\n## {job_type.value}\n" in text, job_type
        assert job_type.value in typed, job_type


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["metadata"]["generateName"])
def test_each_example_validates_and_renders(example: dict[str, Any]) -> None:
    job_type = model.JobType(example["spec"]["type"])
    parsed = params.validate(job_type=job_type, params=example["spec"]["params"])
    assert not isinstance(parsed, model.SpecError), parsed
    body = {**example, "metadata": {"name": "example", "namespace": "team-a", "uid": "u"}}
    job = model.parse_pipelinejob(body)
    worker_type = model.WORKER_TYPE_OF[job_type]
    assert worker_type is not None
    worker = model.parse_worker(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "Worker",
            "metadata": {"name": worker_type.value, "namespace": "team-a"},
            "spec": {"type": worker_type.value},
        }
    )
    dumped = parsed.model_dump(by_alias=True, mode="json", exclude_none=True)
    manifest = render.render_job(job=job, worker=worker, attempt=1, params=dumped)
    pod = manifest["spec"]["template"]
    # The doc's table: restricted for all but build.
    assert bool(pss.restricted(pod["spec"])) is (job_type is model.JobType.BUILD)


def test_the_android_build_worker_example_sizes_gradle_and_keeps_artifacts() -> None:
    text = DOC.read_text()
    section = text[text.index("\n## android-build\n") : text.index("\n## android-deploy\n")]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)]
    [body] = [d for d in blocks if d["kind"] == "Worker"]
    job = model.parse_pipelinejob(
        {
            "metadata": {"name": "app-build-7", "namespace": "mobile", "uid": "u"},
            "spec": {"type": "android-build", "params": {"repository": "https://g.example/a.git"}},
        }
    )
    manifest = render.attempt_manifest(job=job, worker=model.parse_worker(body), attempt=1)

    assert not isinstance(manifest, model.SpecError), manifest
    pod = manifest["spec"]["template"]["spec"]
    by_name = {c["name"]: c for c in [*pod["initContainers"], *pod["containers"]]}
    assert by_name["gradle"]["resources"]["limits"] == {"memory": "8Gi"}
    assert {"name": "artifacts", "mountPath": "/artifacts"} in by_name["main"]["volumeMounts"]
    assert not pss.restricted(pod)
