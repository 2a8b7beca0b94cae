"""A line chart as plain geometry for an inline SVG (no JavaScript): values upwards, occasions left to right, one
line per series. Lines differ in colour, dash and marker so the chart still reads when printed in black and white.
A value of None leaves a gap (a cell that may not be shown): the line stops there and starts again after it."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
class Line:
    """One series: (occasion key, value) pairs; None is a value that may not be shown (a gap)."""

    name: str
    values: tuple[tuple[str, float | None], ...]


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    score: float
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    dash: str
    marker: str
    points: tuple[Point, ...]
    legend_y: float
    legend_lines: tuple[str, ...] = ()  # the name, wrapped to fit the legend (never cut off)
    segments: tuple[str, ...] = ()  # polylines between gaps

    @property
    def polyline(self) -> str:
        return _polyline(self.points)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    major: bool = False


@dataclass(frozen=True)
class LineChart:
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


def _polyline(points: Sequence[Point]) -> str:
    return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


def line_chart(
    occasions: list[tuple[str, str]],
    lines: list[Line],
    *,
    y_max: float,
    y_ticks: Sequence[tuple[float, str, bool]],
    label: Callable[[float], str],
    width: int = 640,
    height: int = 300,
) -> LineChart:
    """`occasions` are (key, label) oldest first; `y_ticks` (value, label, major) from 0 to `y_max`; `label` writes a
    point's value. A value on an occasion not listed is left out; a None value leaves a gap in its line."""
    # Room on the left for the widest value label ("100%"), above the top line for a point's own label.
    widest = max((len(text) for _, text, _ in y_ticks), default=2)
    left, right, top, bottom = max(36.0, widest * CHAR_WIDTH + 14), width - 180.0, 24.0, height - 46.0
    step = (bottom - top) / y_max

    def y(value: float) -> float:
        return bottom - max(0.0, min(y_max, value)) * step

    if len(occasions) == 1:
        xs = {occasions[0][0]: (left + right) / 2}
    else:
        # Inset so the first and last labels (centred under their points) stay inside the picture.
        inset = 70.0
        gap = (right - left - 2 * inset) / (len(occasions) - 1)
        xs = {key: left + inset + i * gap for i, (key, _) in enumerate(occasions)}
    series = []
    legend_y = top + 12
    for i, line in enumerate(lines):
        colour, dash, marker = STYLES[i % len(STYLES)]
        points: list[Point] = []
        segments: list[list[Point]] = [[]]
        for key, value in line.values:
            if key not in xs:
                continue
            if value is None:
                segments.append([])
                continue
            point = Point(xs[key], y(value), value, label(value))
            points.append(point)
            segments[-1].append(point)
        wrapped = tuple(textwrap.wrap(line.name, LEGEND_CHARS, break_long_words=True)) or (line.name,)
        series.append(
            Series(
                line.name,
                colour,
                dash,
                marker,
                tuple(points),
                legend_y=legend_y,
                legend_lines=wrapped,
                segments=tuple(_polyline(s) for s in segments if len(s) > 1),
            )
        )
        legend_y += LEGEND_STEP + LEGEND_LINE * (len(wrapped) - 1)
    return LineChart(
        width=width,
        height=max(height, int(legend_y)),  # the legend never runs off the picture
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        y_ticks=tuple(Tick(y(value), text, major) for value, text, major in y_ticks),
        x_ticks=_readable(tuple(Tick(xs[key], text) for key, text in occasions)),
        series=tuple(series),
        legend_x=right + 18,
    )


def _readable(ticks: tuple[Tick, ...]) -> tuple[Tick, ...]:
    """Labels that never overlap: when the occasions are closer than their labels are wide, every k-th label is
    written (always the first and the last; the others keep their point, without a label)."""
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
