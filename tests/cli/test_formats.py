"""-o formats as kubectl has them: parsing (a bad one is a usage error) and
what each prints for the same objects."""

from __future__ import annotations

import argparse
import json
import pathlib

import pytest
import yaml

from conveyor.cli import formats


def job(name: str, *, ns: str = "team-a", state: str = "SUCCESS", **labels: str) -> dict:
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineJob",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "generation": len(name)},
        "status": {"state": state},
    }


JOBS = [job("b", team="x"), job("a", state="FAILED")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("wide", "wide"),
        ("name", "name"),
        ("json", "json"),
        ("yaml", "yaml"),
        ("jsonpath={.items[*].metadata.name}", "jsonpath"),
        ("custom-columns=NAME:.metadata.name", "custom-columns"),
    ],
)
def test_parses_the_kubectl_formats(text: str, kind: str) -> None:
    assert formats.parse(text, allowed=formats.LISTING).kind == kind


@pytest.mark.parametrize(
    ("text", "allowed", "error"),
    [
        ("xml", formats.LISTING, "invalid output format 'xml'"),
        ("name", formats.DOCUMENT, "invalid output format 'name'"),
        ("jsonpath", formats.LISTING, "jsonpath needs a template"),
        ("json=x", formats.LISTING, "json takes no argument"),
        ("custom-columns=NAME", formats.LISTING, "is not HEADER:EXPRESSION"),
        ("jsonpath={.a", formats.LISTING, "unclosed"),
        ("jsonpath-file=/nonexistent/x", formats.LISTING, "cannot read /nonexistent/x"),
    ],
)
def test_a_bad_format_is_a_usage_error(text: str, allowed: tuple[str, ...], error: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=error):
        formats.parser(allowed)(text)


def test_template_files_are_read(tmp_path: pathlib.Path) -> None:
    (tmp_path / "t").write_text("{.kind}\n")
    (tmp_path / "c").write_text("NAME          STATE\n.metadata.name .status.state\n")

    path_format = formats.parse(f"jsonpath-file={tmp_path / 't'}", allowed=formats.LISTING)
    columns = formats.parse(f"custom-columns-file={tmp_path / 'c'}", allowed=formats.LISTING)

    assert path_format.template is not None
    assert path_format.template.render({"kind": "List"}) == "List"
    assert [c.header for c in columns.columns] == ["NAME", "STATE"]


def render(
    text: str, objects: list[dict] = JOBS, *, single: bool = False, no_headers: bool = False
) -> str:
    fmt = formats.parse(text, allowed=formats.LISTING)
    return formats.render(fmt, objects=objects, single=single, no_headers=no_headers)


def test_name_is_kind_dot_group_slash_name() -> None:
    assert render("name") == "pipelinejob.conveyor.dev/b\npipelinejob.conveyor.dev/a\n"
    assert (
        formats.name_of({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}) == "pod/p"
    )


def test_json_and_yaml_are_a_list_or_the_one_object_asked_for() -> None:
    listed = json.loads(render("json"))
    one = yaml.safe_load(render("yaml", [JOBS[0]], single=True))

    assert listed == {
        "apiVersion": "v1",
        "items": JOBS,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }
    assert one == JOBS[0]


def test_jsonpath_runs_over_the_list_or_the_object() -> None:
    assert render("jsonpath={.items[*].metadata.name}") == "b a"
    assert render("jsonpath={.metadata.name}", [JOBS[0]], single=True) == "b"


def test_custom_columns_print_none_for_missing_fields() -> None:
    spec = "custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team,STATE:.status.state"

    assert (
        render(spec) == "NAME   TEAM     STATE\nb      x        SUCCESS\na      <none>   FAILED\n"
    )
    assert render(spec, no_headers=True) == "b      x        SUCCESS\na      <none>   FAILED\n"


@pytest.mark.parametrize(
    ("by", "order"),
    [
        (None, ["cc", "a", "b"]),  # namespace, then name
        (".status.state", ["a", "cc", "b"]),  # FAILED < SUCCESS; ties by namespace and name
        ("{.metadata.labels.team}", ["cc", "a", "b"]),  # missing first
    ],
)
def test_sort_by(by: str | None, order: list[str]) -> None:
    objects = [job("b", team="x"), job("a", state="FAILED"), job("cc", ns="other")]

    got = formats.sorted_objects(objects, by=formats.sort_by(by) if by else None)

    assert [o["metadata"]["name"] for o in got] == order


def test_numbers_sort_numerically() -> None:
    objects = [job("x" * 10), job("x" * 9), job("x")]

    got = formats.sorted_objects(objects, by=formats.sort_by(".metadata.generation"))

    assert [len(o["metadata"]["name"]) for o in got] == [1, 9, 10]
