"""The safety-scale trajectory as a simple line chart: 0 to 10 upwards, occasions left to right, one line per
person who rated. Plain geometry for an inline SVG (no JavaScript); lines differ in colour, dash and marker
so the chart still reads when printed in black and white."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

SCALE_MAX = 10
# Text is 14 px: about 7.5 px a character on average (DejaVu Sans); a gap of 10 px keeps labels apart.
CHAR_WIDTH, LABEL_GAP = 7.5, 10.0
LEGEND_CHARS = 16  # what fits beside the chart in the legend's 124 px; longer names wrap
LEGEND_STEP, LEGEND_LINE = 26.0, 17.0

# Dark, high-contrast colours (each at least 4.5:1 on white), with a dash pattern and a marker each.
STYLES: tuple[tuple[str, str, str], ...] = (
    ("#1a4b8c", "", "circle"),
    ("#8a3200", "8 4", "square"),
    ("#1f6b2a", "2 4", "diamond"),
    ("#5e2a84", "12 4 2 4", "circle"),
    ("#000000", "4 2", "square"),
)


@dataclass(frozen=True)
class RaterLine:
    """One person's ratings, each as (occasion key, score)."""

    name: str
    scores: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    score: int


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    dash: str
    marker: str
    points: tuple[Point, ...]
    legend_y: float
    legend_lines: tuple[str, ...] = ()  # the name, wrapped to fit the legend (never cut off)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class ScaleChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    series: tuple[Series, ...]
    legend_x: float


def scale_chart(
    occasions: list[tuple[str, str]], raters: list[RaterLine], *, width: int = 640, height: int = 300
) -> ScaleChart:
    """`occasions` are (key, label) oldest first; a rater's score on an occasion not listed is left out."""
    left, right, top, bottom = 36.0, width - 180.0, 14.0, height - 46.0
    step = (bottom - top) / SCALE_MAX

    def y(score: int) -> float:
        return bottom - max(0, min(SCALE_MAX, score)) * step

    if len(occasions) == 1:
        xs = {occasions[0][0]: (left + right) / 2}
    else:
        # Inset so the first and last dates (centred under their points) stay inside the picture.
        inset = 70.0
        gap = (right - left - 2 * inset) / (len(occasions) - 1)
        xs = {key: left + inset + i * gap for i, (key, _) in enumerate(occasions)}
    series = []
    legend_y = top + 12
    for i, rater in enumerate(raters):
        colour, dash, marker = STYLES[i % len(STYLES)]
        points = tuple(Point(xs[key], y(score), score) for key, score in rater.scores if key in xs)
        lines = tuple(textwrap.wrap(rater.name, LEGEND_CHARS, break_long_words=True)) or (rater.name,)
        series.append(Series(rater.name, colour, dash, marker, points, legend_y=legend_y, legend_lines=lines))
        legend_y += LEGEND_STEP + LEGEND_LINE * (len(lines) - 1)
    return ScaleChart(
        width=width,
        height=max(height, int(legend_y)),  # the legend never runs off the picture
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        y_ticks=tuple(Tick(y(n), str(n)) for n in range(0, SCALE_MAX + 1)),
        x_ticks=_readable(tuple(Tick(xs[key], label) for key, label in occasions)),
        series=tuple(series),
        legend_x=right + 18,
    )


def _readable(ticks: tuple[Tick, ...]) -> tuple[Tick, ...]:
    """Date labels that never overlap: when the occasions are closer than their labels are wide, every k-th
    label is written (always the first and the last; the others keep their point, without a label)."""
    if len(ticks) < 2:
        return ticks
    gap = ticks[1].position - ticks[0].position
    widest = max(len(t.label) for t in ticks) * CHAR_WIDTH + LABEL_GAP
    every = max(1, math.ceil(widest / gap)) if gap > 0 else len(ticks)
    last = len(ticks) - 1
    keep = {i for i in range(0, len(ticks), every)}
    if last not in keep:  # the newest is the one that matters most: drop the kept label too close to it
        keep = {i for i in keep if last - i >= every} | {last}
    return tuple(t if i in keep else Tick(t.position, "") for i, t in enumerate(ticks))
