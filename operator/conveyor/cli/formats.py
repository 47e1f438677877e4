"""`-o` as kubectl has it: the default table, `wide`, `name`, `json`, `yaml`,
`jsonpath=TEMPLATE`, `jsonpath-file=FILE`, `custom-columns=SPEC`,
`custom-columns-file=FILE`; and `--sort-by`. Structured output is of the API
objects themselves (a `List` when listing), so it is what kubectl prints."""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from conveyor.cli import jsonpath, output

TABLE = "table"
LISTING = ("wide", "name", "json", "yaml", "jsonpath", "custom-columns")
DOCUMENT = ("json", "yaml", "jsonpath")  # for commands that print one computed document
TEMPLATED = {"jsonpath", "custom-columns"}
NONE = "<none>"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Column:
    header: str
    value: jsonpath.Template


@dataclasses.dataclass(frozen=True, kw_only=True)
class Format:
    kind: str = TABLE
    template: jsonpath.Template | None = None
    columns: tuple[Column, ...] = ()

    @property
    def table(self) -> bool:
        """Conveyor's own table (maybe wide), rather than the objects."""
        return self.kind in (TABLE, "wide")


def choices(allowed: Sequence[str]) -> list[str]:
    """What to offer for completion and in --help."""
    return [f"{k}=" if k in TEMPLATED else k for k in allowed]


def parser(allowed: Sequence[str]) -> Callable[[str], Format]:
    """An argparse `type=` for -o: a bad format is a usage error (exit 2)."""

    def parse_arg(text: str) -> Format:
        try:
            return parse(text, allowed=allowed)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse_arg


def parse(text: str, *, allowed: Sequence[str]) -> Format:
    kind, sep, arg = text.partition("=")
    if kind.endswith("-file") and kind[: -len("-file")] in TEMPLATED:
        kind = kind[: -len("-file")]
        try:
            arg = pathlib.Path(arg).expanduser().read_text().strip()
        except OSError as exc:
            raise ValueError(f"cannot read {arg}: {exc.strerror}") from None
    if kind not in allowed:
        raise ValueError(
            f"invalid output format {text!r} (choose from {', '.join(choices(allowed))})"
        )
    if kind in TEMPLATED and not arg:
        raise ValueError(f"{kind} needs a template: -o {kind}=...")
    if kind not in TEMPLATED and sep:
        raise ValueError(f"{kind} takes no argument")
    if kind == "jsonpath":
        return Format(kind=kind, template=jsonpath.parse(arg))
    if kind == "custom-columns":
        return Format(kind=kind, columns=custom_columns(arg))
    return Format(kind=kind)


def custom_columns(spec: str) -> tuple[Column, ...]:
    """`NAME:.metadata.name,STATE:.status.state` (a file may put it on two
    lines, headers then expressions, as kubectl reads it)."""
    lines = [line.split() for line in spec.splitlines() if line.strip()]
    if len(lines) == 2 and ":" not in spec:
        pairs = list(zip(lines[0], lines[1], strict=False))
    else:
        pairs = []
        for part in spec.replace("\n", ",").split(","):
            if not part.strip():
                continue
            header, sep, expr = part.partition(":")
            if not sep or not header or not expr:
                raise ValueError(f"custom-columns: {part!r} is not HEADER:EXPRESSION")
            pairs.append((header.strip(), expr.strip()))
    return tuple(Column(header=h, value=jsonpath.parse(e)) for h, e in pairs)


def sort_by(text: str) -> jsonpath.Template:
    """An argparse `type=` for --sort-by: one JSONPath expression."""
    try:
        return jsonpath.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def sorted_objects(
    objects: Sequence[Mapping[str, Any]], *, by: jsonpath.Template | None
) -> list[Mapping[str, Any]]:
    """By the --sort-by field (numbers as numbers; missing first), else by namespace and name."""
    if by is None:
        return sorted(objects, key=_key)

    def field(obj: Mapping[str, Any]) -> tuple[int, Any]:
        found = [
            v
            for node in by.nodes
            if isinstance(node, jsonpath.Expr)
            for v in jsonpath.values(node, obj)
        ]
        if not found:
            return (0, "")
        value = found[0]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return (2, jsonpath.show(value))
        return (1, value)

    return sorted(sorted(objects, key=_key), key=field)


def list_document(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What `kubectl get -o json` prints for more than one object."""
    return {
        "apiVersion": "v1",
        "items": list(items),
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }


def name_of(obj: Mapping[str, Any]) -> str:
    """`kind.group/name`, as `kubectl get -o name` prints it."""
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    kind = str(obj.get("kind") or "").lower()
    name = (obj.get("metadata") or {}).get("name")
    return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


def render(
    fmt: Format, *, objects: Sequence[Mapping[str, Any]], single: bool, no_headers: bool
) -> str:
    """The objects in a non-table format ("" when there is nothing to print)."""
    doc: Any = objects[0] if single and len(objects) == 1 else list_document(objects)
    if fmt.kind in ("json", "yaml"):
        shown = [_without_managed_fields(o) for o in objects]
        doc = shown[0] if single and len(shown) == 1 else list_document(shown)
        if fmt.kind == "json":  # as kubectl: four spaces, keys sorted
            return json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
        return yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, width=1 << 16)
    if fmt.kind == "name":
        return "".join(name_of(o) + "\n" for o in objects)
    if fmt.kind == "jsonpath":
        assert fmt.template is not None
        return fmt.template.render(doc)
    if fmt.kind == "custom-columns":
        lines = column_lines(fmt.columns, objects=objects, no_headers=no_headers)
        return "".join(line + "\n" for line in lines)
    raise ValueError(f"not an object format: {fmt.kind}")


def column_lines(
    columns: Sequence[Column], *, objects: Sequence[Mapping[str, Any]], no_headers: bool
) -> list[str]:
    headers = [c.header for c in columns]
    rows = [[_cell(c.value, o) for c in columns] for o in objects]
    lines = output.table(headers=headers, rows=rows)
    return lines[1:] if no_headers else lines


def _without_managed_fields(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """As kubectl prints JSON and YAML: managedFields are noise to a reader."""
    md = obj.get("metadata")
    if not isinstance(md, Mapping) or "managedFields" not in md:
        return obj
    return {**obj, "metadata": {k: v for k, v in md.items() if k != "managedFields"}}


def _cell(value: jsonpath.Template, obj: Mapping[str, Any]) -> str:
    """Several values joined by commas, as kubectl's custom columns do."""
    found = [
        jsonpath.show(v)
        for node in value.nodes
        if isinstance(node, jsonpath.Expr)
        for v in jsonpath.values(node, obj)
    ]
    return ",".join(found) or NONE


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    md = obj.get("metadata") or {}
    return (str(md.get("namespace") or ""), str(md.get("name") or ""))
