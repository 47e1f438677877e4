"""Terminal output: aligned tables, state colours (only on a terminal, and
never with NO_COLOR set), and JSON/YAML for scripts."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

import yaml
from pydantic import alias_generators

FORMATS = ("json", "yaml")

_CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "dim": "2"}

# Colours of PipelineJob and Worker states.
STATE_COLOURS: Mapping[str, str] = {
    "IN-QUEUE": "yellow",
    "RUNNING": "blue",
    "SUCCESS": "green",
    "FAILED": "red",
    "REVOKED": "magenta",
    "ONLINE": "green",
    "DEGRADED": "yellow",
    "OFFLINE": "red",
    "PAUSED": "magenta",
}

# Paints one cell: (column header, plain text) -> text with colour codes.
Painter = Callable[[str, str], str]


def wants_colour(stream: TextIO) -> bool:
    """Colour only for a person at a terminal who has not asked for none."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def paint(text: str, colour: str | None) -> str:
    code = _CODES.get(colour or "")
    return f"\x1b[{code}m{text}\x1b[0m" if code else text


def state_painter(*columns: str) -> Painter:
    """Colour the states in these columns."""

    def painter(header: str, text: str) -> str:
        return paint(text, STATE_COLOURS.get(text)) if header in columns else text

    return painter


def widths(*, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    """The width of each column: its longest cell (colour codes are added later)."""
    out = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            out[i] = max(out[i], len(cell))
    return out


def row_line(
    *,
    cells: Sequence[str],
    headers: Sequence[str],
    widths: Sequence[int],
    painter: Painter | None = None,
) -> str:
    """One line: cells padded to their column widths, three spaces apart, no
    trailing spaces."""
    parts = []
    last = len(cells) - 1
    for i, (header, cell, width) in enumerate(zip(headers, cells, widths, strict=True)):
        pad = "" if i == last else " " * (width - len(cell))
        parts.append((painter(header, cell) if painter else cell) + pad)
    return "   ".join(parts).rstrip()


def table(
    *, headers: Sequence[str], rows: Sequence[Sequence[str]], painter: Painter | None = None
) -> list[str]:
    """A header line and one line per row, columns aligned."""
    sizes = widths(headers=headers, rows=rows)
    lines = [row_line(cells=headers, headers=headers, widths=sizes)]
    lines += [row_line(cells=r, headers=headers, widths=sizes, painter=painter) for r in rows]
    return lines


def dump(data: Any, *, fmt: str) -> str:
    """`data` as JSON or YAML text, for scripts."""
    if fmt == "json":
        return json.dumps(data, indent=2, default=str)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip("\n")


def record(row: Any) -> dict[str, Any]:
    """A dataclass row as a JSON object with Kubernetes-style camelCase keys."""
    return {alias_generators.to_camel(k): v for k, v in dataclasses.asdict(row).items()}
