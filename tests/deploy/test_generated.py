"""What `make manifests` generates is committed up to date: the chart's CRD
copies, manifests/install.yaml, docs/values.md, docs/argocd/argocd-cm.yaml."""

from __future__ import annotations

import difflib
import importlib.util
import pathlib
import sys
from types import ModuleType

import pytest

from tests.deploy import tools


def _render_module() -> ModuleType:
    path = tools.ROOT / "hack" / "render_manifests.py"
    spec = importlib.util.spec_from_file_location("render_manifests", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


render = _render_module()


def _assert_same(path: pathlib.Path, wanted: str) -> None:
    current = path.read_text() if path.exists() else ""
    if current != wanted:
        diff = "".join(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                wanted.splitlines(keepends=True),
                fromfile=f"{path.relative_to(tools.ROOT)} (committed)",
                tofile="rendered now",
                n=2,
            )
        )
        pytest.fail(f"{path.relative_to(tools.ROOT)} is out of date: run `make manifests`\n{diff}")


def test_the_chart_crds_are_copies_of_crds() -> None:
    copies = render.crd_copies()
    in_chart = set((tools.CHART / "crds").glob("*.yaml"))

    assert in_chart == set(copies), "charts/conveyor/crds/ and crds/ differ: run `make manifests`"
    for path, text in copies.items():
        _assert_same(path, text)


def test_install_yaml_is_the_rendered_chart() -> None:
    tools.require(tools.HELM)
    wanted = render.install_yaml(helm=str(tools.HELM), kube_version=tools.KUBE_VERSION)

    _assert_same(tools.ROOT / "manifests" / "install.yaml", wanted)


def test_values_doc_is_generated_from_the_schema() -> None:
    _assert_same(tools.ROOT / "docs" / "values.md", render.values_doc())


def test_argocd_cm_patch_is_generated_from_the_lua_scripts() -> None:
    _assert_same(tools.ROOT / "docs" / "argocd" / "argocd-cm.yaml", render.argocd_cm())
