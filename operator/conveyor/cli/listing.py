"""What the listing commands (get, workers, history) share: choosing the
objects (names, -l, --field-selector, --sort-by) and printing them as a
table or in an -o format."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor import API_GROUP, API_VERSION
from conveyor.cli import context, fetch, formats, output
from conveyor.k8s import api

Key = tuple[str, str]


def key(obj: Mapping[str, Any]) -> Key:
    md = obj.get("metadata") or {}
    return (str(md.get("namespace") or ""), str(md.get("name") or ""))


async def chosen(
    ctx: context.Context,
    resource: api.Resource,
    *,
    everything: Sequence[Mapping[str, Any]],
    names: Sequence[str] = (),
) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The objects to show, sorted, and the names asked for that do not exist.

    `everything` is the whole listing (the computed columns need it); with
    -l or --field-selector the API server chooses, as for kubectl."""
    objects: Sequence[Mapping[str, Any]] = everything
    if ctx.selectors:
        objects = await fetch.items(ctx.client, resource, namespace=ctx.scope, **ctx.selectors)
    kind = fetch.KINDS.get(resource, "")
    objects = [_typed(o, kind=kind) for o in objects]
    missing: list[str] = []
    if names:
        present = {key(o)[1] for o in objects}
        missing = [n for n in names if n not in present]
        objects = [o for o in objects if key(o)[1] in set(names)]
    return formats.sorted_objects(objects, by=ctx.sort_by), missing


def report_missing(ctx: context.Context, *, kind: str, missing: Sequence[str]) -> int:
    """One error line per name not found; the exit code."""
    where = "any namespace" if ctx.all_namespaces else f"namespace {ctx.namespace}"
    for name in missing:
        print(f"error: {kind} {name} not found in {where}", file=sys.stderr)
    return 1 if missing else 0


def print_objects(
    ctx: context.Context, objects: Sequence[Mapping[str, Any]], *, single: bool
) -> None:
    text = formats.render(ctx.output, objects=objects, single=single, no_headers=ctx.no_headers)
    sys.stdout.write(text)
    sys.stdout.flush()


def headers(
    base: Sequence[str], *, wide_extra: Sequence[str], all_namespaces: bool, wide: bool
) -> list[str]:
    """A table's column names: the wide ones last, NAMESPACE first across namespaces."""
    heads = [*base, *wide_extra] if wide else list(base)
    return ["NAMESPACE", *heads] if all_namespaces else heads


def print_table(
    ctx: context.Context,
    *,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    painter: output.Painter | None,
) -> None:
    lines = output.table(headers=headers, rows=rows, painter=painter)
    print("\n".join(lines[1:] if ctx.no_headers else lines))


def nothing(ctx: context.Context, *, what: str) -> None:
    where = "any namespace" if ctx.all_namespaces else f"namespace {ctx.namespace}"
    print(f"No {what} found in {where}.", file=sys.stderr)


def _typed(obj: Mapping[str, Any], *, kind: str) -> Mapping[str, Any]:
    """Items of a list may lack apiVersion and kind; -o name and json need them."""
    if not kind or (obj.get("kind") and obj.get("apiVersion")):
        return obj
    return {"apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": kind, **obj}
