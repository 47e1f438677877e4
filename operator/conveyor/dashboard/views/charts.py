"""Chart geometry for inline SVG drawn on the server: bars as rectangles with
coordinates, classes and titles; the templates only place them."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

WIDTH, HEIGHT = 720, 180
LEFT, BOTTOM, TOP = 40, 22, 8


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    css: str
    title: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Label:
    x: float
    y: float
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Chart:
    rects: tuple[Rect, ...]
    labels: tuple[Label, ...]  # under the bars
    ticks: tuple[Label, ...]  # on the left axis
    width: int
    height: int
    empty: bool


Segment = tuple[str, float]  # (css class, value)


def nice_max(value: float) -> float:
    """A round number at least `value` for the top of the axis."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def stacked_bars(
    *,
    columns: Sequence[tuple[str, Sequence[Segment]]],
    top: float | None = None,
    unit: str = "",
    every: int = 1,
) -> Chart:
    """One bar per column, its segments stacked; a label under every `every`-th."""
    inner_w, inner_h = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    peak = max((sum(v for _, v in segs) for _, segs in columns), default=0.0)
    ymax = top if top is not None else nice_max(peak)
    slot = inner_w / max(len(columns), 1)
    rects, labels = [], []
    for i, (label, segments) in enumerate(columns):
        x = LEFT + i * slot + slot * 0.1
        base = 0.0
        for css, value in segments:
            if value <= 0:
                continue
            h = value / ymax * inner_h
            y = TOP + inner_h - (base + h)
            rects.append(
                Rect(
                    x=round(x, 1),
                    y=round(y, 1),
                    w=round(slot * 0.8, 1),
                    h=round(h, 1),
                    css=css,
                    title=f"{label}: {value:g}{unit} {css}",
                )
            )
            base += h
        if i % every == 0:
            labels.append(Label(x=round(x + slot * 0.4, 1), y=HEIGHT - 6, text=label))
    ticks = tuple(
        Label(x=LEFT - 4, y=round(TOP + inner_h - f * inner_h + 4, 1), text=f"{ymax * f:g}{unit}")
        for f in (0.0, 0.5, 1.0)
    )
    return Chart(
        rects=tuple(rects),
        labels=tuple(labels),
        ticks=ticks,
        width=WIDTH,
        height=HEIGHT,
        empty=peak <= 0,
    )
