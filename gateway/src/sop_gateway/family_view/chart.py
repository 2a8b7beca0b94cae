"""The safety-scale trajectory as a simple line chart: 0 to 10 upwards, occasions left to right, one line per
person who rated. Plain geometry for an inline SVG (no JavaScript); lines differ in colour, dash and marker
so the chart still reads when printed in black and white."""

from __future__ import annotations

from dataclasses import dataclass

SCALE_MAX = 10

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
    for i, rater in enumerate(raters):
        colour, dash, marker = STYLES[i % len(STYLES)]
        points = tuple(Point(xs[key], y(score), score) for key, score in rater.scores if key in xs)
        series.append(Series(rater.name, colour, dash, marker, points, legend_y=top + 12 + i * 26))
    return ScaleChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        y_ticks=tuple(Tick(y(n), str(n)) for n in range(0, SCALE_MAX + 1)),
        x_ticks=tuple(Tick(xs[key], label) for key, label in occasions),
        series=tuple(series),
        legend_x=right + 18,
    )
