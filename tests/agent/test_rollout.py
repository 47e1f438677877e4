"""rollout.status: when a workload counts as rolled out, and what is said when not."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor_agent import rollout


def deployment(*, want: int = 3, generation: int = 2, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "prod", "generation": generation},
        "spec": {"replicas": want},
        "status": {"observedGeneration": 2, **status},
    }


READY = {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "readyReplicas": 3}


@pytest.mark.parametrize(
    ("case", "workload", "message"),
    [
        ("rolled out", deployment(**READY), "ready"),
        (
            "not observed yet",
            deployment(generation=3, **READY),
            "the controller has not seen the new spec",
        ),
        ("updating", deployment(**{**READY, "updatedReplicas": 1}), "1 of 3 replicas updated"),
        (
            "old replicas left",
            deployment(**{**READY, "replicas": 4}),
            "1 old replicas pending termination",
        ),
        (
            "not available",
            deployment(**{**READY, "availableReplicas": 2}),
            "2 of 3 updated replicas available",
        ),
        (
            "deadline exceeded",
            deployment(
                **READY,
                conditions=[
                    {
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": 'ReplicaSet "api-7d" has timed out progressing.',
                    }
                ],
            ),
            "progress deadline exceeded: ReplicaSet",
        ),
        ("scaled to zero", deployment(want=0), "ready"),
        (
            "statefulset ready",
            {
                "kind": "StatefulSet",
                "metadata": {"name": "db"},
                "spec": {"replicas": 2},
                "status": {
                    "readyReplicas": 2,
                    "updatedReplicas": 2,
                    "currentRevision": "db-1",
                    "updateRevision": "db-1",
                },
            },
            "ready",
        ),
        (
            "statefulset updating",
            {
                "kind": "StatefulSet",
                "metadata": {"name": "db"},
                "spec": {"replicas": 2},
                "status": {"readyReplicas": 2, "updatedReplicas": 1},
            },
            "1 of 2 replicas updated",
        ),
        (
            "statefulset partitioned",
            {
                "kind": "StatefulSet",
                "metadata": {"name": "db"},
                "spec": {
                    "replicas": 3,
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
                },
                "status": {"readyReplicas": 3, "updatedReplicas": 1},
            },
            "ready",
        ),
        (
            "daemonset",
            {
                "kind": "DaemonSet",
                "metadata": {"name": "agent"},
                "status": {
                    "desiredNumberScheduled": 4,
                    "updatedNumberScheduled": 4,
                    "numberAvailable": 3,
                },
            },
            "3 of 4 updated pods available",
        ),
    ],
)
def test_status(case: str, workload: dict[str, Any], message: str) -> None:
    result = rollout.status(workload)

    assert result.ready is (message == "ready"), case
    assert result.message.startswith(message)


def pod(name: str, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": status}


def test_the_pods_say_why() -> None:
    pods = [
        pod(
            "api-1",
            containerStatuses=[
                {
                    "name": "api",
                    "ready": False,
                    "state": {
                        "waiting": {
                            "reason": "ImagePullBackOff",
                            "message": 'Back-off pulling image "api:9"',
                        }
                    },
                }
            ],
        ),
        pod(
            "api-2",
            conditions=[
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available: 3 Insufficient cpu.",
                }
            ],
        ),
        pod(
            "api-3",
            containerStatuses=[
                {
                    "name": "api",
                    "ready": False,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"reason": "Error", "exitCode": 1}},
                }
            ],
        ),
    ]
    result = rollout.status(deployment(**{**READY, "availableReplicas": 0}), pods=pods)

    assert not result.ready
    assert result.workload == "Deployment/api"
    assert result.message == (
        "0 of 3 updated replicas available; "
        'pod api-1: api: ImagePullBackOff Back-off pulling image "api:9"; '
        "pod api-2: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.; "
        "pod api-3: api: CrashLoopBackOff Error"
    )


OBJECTS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {
            "template": {
                "spec": {
                    "initContainers": [{"name": "migrate", "image": "api:1"}],
                    "containers": [
                        {"name": "api", "image": "api:1"},
                        {"name": "p", "image": "proxy:2"},
                    ],
                }
            }
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "data"},
        "spec": {"template": {"spec": {"containers": [{"name": "db", "image": "postgres:16"}]}}},
    },
    {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report"},
        "spec": {
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"name": "r", "image": "report:3"}]}}}
            }
        },
    },
]


def test_workloads_and_images_of_what_was_deployed() -> None:
    assert rollout.workloads_of(OBJECTS, namespace="prod") == [
        ("Deployment", "prod", "api"),
        ("StatefulSet", "data", "db"),
    ]
    assert rollout.images_of(OBJECTS) == ["api:1", "postgres:16", "proxy:2", "report:3"]
