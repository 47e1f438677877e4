"""manifests: reading what a deploy applies, and pinning a promoted image."""

from __future__ import annotations

import pathlib

import pytest

from conveyor_agent import deploy, errors, manifests

DIGEST = "sha256:" + "a" * 64


def test_read_files_directories_and_lists(tmp_path: pathlib.Path) -> None:
    (tmp_path / "k8s" / "sub").mkdir(parents=True)
    (tmp_path / "k8s" / "a.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
    )
    (tmp_path / "k8s" / "sub" / "c.json").write_text(
        '{"apiVersion": "v1", "kind": "List",'
        ' "items": [{"kind": "Secret", "metadata": {"name": "c"}}]}'
    )
    (tmp_path / "k8s" / "README.md").write_text("not a manifest")
    (tmp_path / "one.yml").write_text("kind: Service\nmetadata: {name: d}\n---\n")

    objects = manifests.read(["k8s", "one.yml"], workdir=str(tmp_path))

    assert [o["metadata"]["name"] for o in objects] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("a: [", "not valid YAML"), ("- 1\n- 2\n", "not a Kubernetes object")],
)
def test_bad_manifests_are_refused(text: str, message: str) -> None:
    with pytest.raises(errors.JobError, match=message):
        manifests.parse(text, source="x.yaml")


def test_a_missing_manifest_is_named(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.JobError, match="manifest k8s/ not found"):
        manifests.read(["k8s/"], workdir=str(tmp_path))


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("registry.example/api", True),
        ("registry.example/api:1.2", True),
        ("registry.example/api@sha256:" + "0" * 64, True),
        ("registry.example/api-worker:1.2", False),
        ("registry.example/other", False),
    ],
)
def test_pin_replaces_the_promoted_image_only(image: str, pinned: bool) -> None:
    objects = [
        {
            "kind": "Deployment",
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}},
        }
    ]
    reference = f"registry.example/api@{DIGEST}"

    result = manifests.pin(objects, image="registry.example/api", reference=reference)

    container = result[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == (reference if pinned else image)
    assert objects[0]["spec"]["template"]["spec"]["containers"][0]["image"] == image  # a copy


@pytest.mark.parametrize(
    ("chart", "args"),
    [
        (
            {"name": "api", "repository": "https://charts.example"},
            ["api", "--repo", "https://charts.example"],
        ),
        (
            {"name": "api", "repository": "oci://ghcr.io/acme/charts/", "version": "1.2.3"},
            ["oci://ghcr.io/acme/charts/api", "--version", "1.2.3"],
        ),
        ({"name": "./charts/api"}, ["./charts/api"]),
    ],
)
def test_chart_reference(chart: dict[str, str], args: list[str]) -> None:
    assert deploy._chart_args(chart) == args
