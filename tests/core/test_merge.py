"""merge.merge: pod template fragments merge like a strategic merge patch."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conveyor.core import merge

CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # (id, base, overlay, expected)
    ("empty overlay keeps base", {"a": 1}, {}, {"a": 1}),
    ("empty base takes overlay", {}, {"a": {"b": 1}}, {"a": {"b": 1}}),
    ("scalars: overlay wins", {"a": 1, "b": 2}, {"b": 3}, {"a": 1, "b": 3}),
    (
        "dicts merge recursively",
        {"metadata": {"labels": {"a": "1"}, "annotations": {"x": "1"}}},
        {"metadata": {"labels": {"b": "2"}}},
        {"metadata": {"labels": {"a": "1", "b": "2"}, "annotations": {"x": "1"}}},
    ),
    ("None deletes a key", {"a": 1, "b": 2}, {"b": None}, {"a": 1}),
    ("None for a missing key is a no-op", {"a": 1}, {"b": None}, {"a": 1}),
    (
        "None deletes deep",
        {"spec": {"nodeSelector": {"zone": "a"}, "hostNetwork": True}},
        {"spec": {"nodeSelector": None}},
        {"spec": {"hostNetwork": True}},
    ),
    (
        "None inside a new value is dropped",
        {},
        {"spec": {"nodeSelector": {"zone": "a", "disk": None}}},
        {"spec": {"nodeSelector": {"zone": "a"}}},
    ),
    (
        "a dict replaces a scalar",
        {"a": "text"},
        {"a": {"b": 1}},
        {"a": {"b": 1}},
    ),
    (
        "containers merge by name",
        {"containers": [{"name": "main", "image": "a:1", "args": ["x"]}]},
        {"containers": [{"name": "main", "image": "b:2"}]},
        {"containers": [{"name": "main", "image": "b:2", "args": ["x"]}]},
    ),
    (
        "new names are appended in overlay order",
        {"containers": [{"name": "main", "image": "a"}]},
        {"containers": [{"name": "proxy", "image": "p"}, {"name": "log", "image": "l"}]},
        {
            "containers": [
                {"name": "main", "image": "a"},
                {"name": "proxy", "image": "p"},
                {"name": "log", "image": "l"},
            ]
        },
    ),
    (
        "env merges by name inside a container merged by name",
        {
            "containers": [
                {"name": "main", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
            ]
        },
        {"containers": [{"name": "main", "env": [{"name": "B", "value": "3"}, {"name": "C"}]}]},
        {
            "containers": [
                {
                    "name": "main",
                    "env": [
                        {"name": "A", "value": "1"},
                        {"name": "B", "value": "3"},
                        {"name": "C"},
                    ],
                }
            ]
        },
    ),
    (
        "a matched env entry switches from value to valueFrom",
        {"env": [{"name": "TOKEN", "value": "dev"}]},
        {"env": [{"name": "TOKEN", "value": None, "valueFrom": {"secretKeyRef": {"name": "s"}}}]},
        {"env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s"}}}]},
    ),
    (
        "volumes and volumeMounts merge by name",
        {
            "volumes": [{"name": "work", "emptyDir": {}}],
            "volumeMounts": [{"name": "work", "mountPath": "/w"}],
        },
        {
            "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}],
            "volumeMounts": [{"name": "work", "mountPath": "/workspace"}],
        },
        {
            "volumes": [
                {"name": "work", "emptyDir": {}},
                {"name": "cache", "emptyDir": {"medium": "Memory"}},
            ],
            "volumeMounts": [{"name": "work", "mountPath": "/workspace"}],
        },
    ),
    (
        "named ports merge by name",
        {"ports": [{"name": "http", "containerPort": 80}]},
        {"ports": [{"name": "http", "containerPort": 8080}]},
        {"ports": [{"name": "http", "containerPort": 8080}]},
    ),
    (
        "unnamed ports are replaced",
        {"ports": [{"containerPort": 80}]},
        {"ports": [{"containerPort": 8080}]},
        {"ports": [{"containerPort": 8080}]},
    ),
    (
        "envFrom items have no name and are appended",
        {"envFrom": [{"configMapRef": {"name": "base"}}]},
        {"envFrom": [{"secretRef": {"name": "extra"}}]},
        {"envFrom": [{"configMapRef": {"name": "base"}}, {"secretRef": {"name": "extra"}}]},
    ),
    (
        "other lists are replaced",
        {"args": ["a", "b"], "tolerations": [{"key": "x", "operator": "Exists"}]},
        {"args": ["c"], "tolerations": [{"key": "y", "operator": "Exists"}]},
        {"args": ["c"], "tolerations": [{"key": "y", "operator": "Exists"}]},
    ),
    (
        "a list mixing named and unnamed items is replaced",
        {"items": [{"name": "a"}, {"x": 1}]},
        {"items": [{"name": "a", "y": 2}]},
        {"items": [{"name": "a", "y": 2}]},
    ),
    (
        "an empty overlay list leaves a named list as it is",
        {"env": [{"name": "A", "value": "1"}]},
        {"env": []},
        {"env": [{"name": "A", "value": "1"}]},
    ),
    ("None clears a named list", {"env": [{"name": "A", "value": "1"}]}, {"env": None}, {}),
    (
        "$patch: delete removes a named item",
        {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        {"env": [{"name": "A", "$patch": "delete"}]},
        {"env": [{"name": "B", "value": "2"}]},
    ),
    (
        "$patch: delete of a missing name is a no-op",
        {"env": [{"name": "B", "value": "2"}]},
        {"env": [{"name": "A", "$patch": "delete"}]},
        {"env": [{"name": "B", "value": "2"}]},
    ),
    (
        "$patch: delete never lands in a new list",
        {},
        {"env": [{"name": "A", "$patch": "delete"}, {"name": "B", "value": "2"}]},
        {"env": [{"name": "B", "value": "2"}]},
    ),
    (
        "a whole pod template fragment",
        {
            "metadata": {"labels": {"conveyor.dev/worker": "build"}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "kaniko", "resources": {}}],
            },
        },
        {
            "metadata": {"annotations": {"sim.conveyor.dev/run-time": "5s"}},
            "spec": {
                "nodeSelector": {"pool": "builds"},
                "containers": [
                    {"name": "main", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}
                ],
            },
        },
        {
            "metadata": {
                "labels": {"conveyor.dev/worker": "build"},
                "annotations": {"sim.conveyor.dev/run-time": "5s"},
            },
            "spec": {
                "restartPolicy": "Never",
                "nodeSelector": {"pool": "builds"},
                "containers": [
                    {
                        "name": "main",
                        "image": "kaniko",
                        "resources": {"requests": {"cpu": "2", "memory": "4Gi"}},
                    }
                ],
            },
        },
    ),
]


@pytest.mark.parametrize(
    ("base", "overlay", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_merge(base: dict[str, Any], overlay: dict[str, Any], expected: dict[str, Any]) -> None:
    assert merge.merge(base=base, overlay=overlay) == expected


@pytest.mark.parametrize(("base", "overlay"), [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_merge_never_changes_its_inputs(base: dict[str, Any], overlay: dict[str, Any]) -> None:
    base_before, overlay_before = copy.deepcopy(base), copy.deepcopy(overlay)
    merge.merge(base=base, overlay=overlay)
    assert (base, overlay) == (base_before, overlay_before)


def test_result_shares_nothing_with_the_inputs() -> None:
    base: dict[str, Any] = {
        "spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}]}
    }
    overlay: dict[str, Any] = {"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}
    out = merge.merge(base=base, overlay=overlay)
    out["spec"]["containers"][0]["env"][0]["value"] = "changed"
    out["spec"]["volumes"][0]["emptyDir"]["medium"] = "Memory"
    assert base["spec"]["containers"][0]["env"][0]["value"] == "1"
    assert overlay["spec"]["volumes"][0]["emptyDir"] == {}
