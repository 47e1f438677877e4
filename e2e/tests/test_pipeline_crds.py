"""What `kubectl apply` refuses for Pipelines and PipelineRuns, on the real API server.

Server-side dry runs: the CRDs' schemas and CEL rules judge each manifest;
nothing is stored and no operator is needed.
"""

from __future__ import annotations

import copy
import json
import subprocess
from typing import Any

import pytest
import yaml

from e2e.tests import cluster as clusters

pytestmark = pytest.mark.e2e

EXAMPLE = clusters.ROOT / "manifests" / "examples" / "pipelines.yaml"
JOB = {"type": "custom", "params": {"image": "alpine:3.20", "command": ["true"]}}


def run(spec: dict[str, Any], name: str = "r") -> dict[str, Any]:
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineRun",
        "metadata": {"name": name},
        "spec": spec,
    }


def step(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "job": copy.deepcopy(JOB), **fields}


def dry_run(cluster: clusters.Cluster, namespace: str, body: Any) -> tuple[bool, str]:
    text = yaml.safe_dump_all(body if isinstance(body, list) else [body])
    out = cluster.kubectl(
        "apply", "--dry-run=server", "-n", namespace, "-f", "-", input=text, check=False
    )
    return bool(out), out


def refusal(cluster: clusters.Cluster, namespace: str, body: Any) -> str:
    text = json.dumps(body)  # JSON: kubectl's YAML would read a name like n as false
    command = (
        [str(clusters.CLUSTER_BIN), "kubectl"] if clusters.CLUSTER_BIN.exists() else ["kubectl"]
    )
    result = subprocess.run(
        [
            *command,
            "--kubeconfig",
            str(cluster.kubeconfig),
            "apply",
            "--dry-run=server",
            "-n",
            namespace,
            "-f",
            "-",
        ],
        capture_output=True,
        text=True,
        input=text,
        timeout=60,
    )
    return result.stderr if result.returncode else ""


def test_the_example_is_accepted(cluster: clusters.Cluster, crds: None, namespace: str) -> None:
    docs = list(yaml.safe_load_all(EXAMPLE.read_text()))
    for doc in docs:
        doc["metadata"]["namespace"] = namespace
    accepted, out = dry_run(cluster, namespace, docs)
    assert accepted, out
    assert "pipelinerun.conveyor.dev/api-ci-42 created (server dry run)" in out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (run({"params": {}}), "spec.pipelineRef or spec.steps must be given"),
        (run({"pipelineRef": {"name": "p"}, "steps": [step("a")]}), "exactly one of the two"),
        (
            run({"pipelineRef": {"name": "p"}, "finally": [step("a")]}),
            "spec.finally comes with the Pipeline",
        ),
        (run({"steps": [step("a"), step("a")]}), "Duplicate value"),
        (
            run({"steps": [step("a")], "finally": [step("a")]}),
            "unique across spec.steps and spec.finally",
        ),
        (
            run({"steps": [step("a", dependsOn=["b"])]}),
            "every dependsOn must name a step in spec.steps",
        ),
        (
            run({"steps": [step("a")], "finally": [step("n", dependsOn=["a"])]}),
            "every dependsOn must name a step in spec.finally",
        ),
        (run({"steps": [step("Build")]}), "spec.steps[0].name"),
        (run({"steps": [step("a", maxParallel=-1)]}), "spec.steps[0].maxParallel"),
        (run({"steps": [{"name": "a", "job": {"type": "nope"}}]}), "spec.steps[0].job.type"),
        (
            run({"steps": [{"name": "a", "job": {**JOB, "timeout": "0s"}}]}),
            "spec.steps.job.timeout must be greater than 0",
        ),
        (run({"steps": [step("a")], "parallelism": -1}), "spec.parallelism"),
        (run({"steps": [step("a")], "timeout": "soon"}), "spec.timeout"),
        (run({"steps": [step(f"s{i}") for i in range(201)]}), "must have at most 200 items"),
        (run({"steps": [step("a")]}, name="r" * 64), "metadata.name must be at most 63 characters"),
    ],
)
def test_apply_refuses(
    cluster: clusters.Cluster, crds: None, namespace: str, body: dict[str, Any], message: str
) -> None:
    error = refusal(cluster, namespace, body)
    assert message in error, error


def test_a_pipeline_without_steps_is_refused(
    cluster: clusters.Cluster, crds: None, namespace: str
) -> None:
    body = {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "Pipeline",
        "metadata": {"name": "p"},
        "spec": {"steps": []},
    }
    assert "spec.steps" in refusal(cluster, namespace, body)


def cron(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineCronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 2 * * *", **spec},
    }


RUN_TEMPLATE = {"spec": {"pipelineRef": {"name": "api-ci"}, "params": {"revision": "main"}}}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"pipelineRunTemplate": RUN_TEMPLATE}, ""),
        ({}, "exactly one of the two"),
        (
            {"pipelineRunTemplate": RUN_TEMPLATE, "jobTemplate": {"spec": JOB}},
            "exactly one of the two",
        ),
        (
            {"pipelineRunTemplate": {"spec": {"steps": [step("a", dependsOn=["b"])]}}},
            "spec.pipelineRunTemplate.spec.steps: every dependsOn must name a step",
        ),
    ],
)
def test_a_cron_takes_a_pipelinerun_template(
    cluster: clusters.Cluster, crds: None, namespace: str, spec: dict[str, Any], message: str
) -> None:
    error = refusal(cluster, namespace, cron(spec))
    assert (message in error) if message else error == "", error
