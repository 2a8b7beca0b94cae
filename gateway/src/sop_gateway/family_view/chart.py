"""The safety-scale trajectory as a line chart (`sop_gateway.pages.chart`): 0 to 10 upwards, occasions left to
right, one line per person who rated."""

from __future__ import annotations

from dataclasses import dataclass

from sop_gateway.pages.chart import Line, LineChart, line_chart

SCALE_MAX = 10
ScaleChart = LineChart


@dataclass(frozen=True)
class RaterLine:
    """One person's ratings, each as (occasion key, score)."""

    name: str
    scores: tuple[tuple[str, int], ...]


def scale_chart(
    occasions: list[tuple[str, str]], raters: list[RaterLine], *, width: int = 640, height: int = 300
) -> ScaleChart:
    """`occasions` are (key, label) oldest first; a rater's score on an occasion not listed is left out."""
    return line_chart(
        occasions,
        [Line(rater.name, tuple((key, float(score)) for key, score in rater.scores)) for rater in raters],
        y_max=SCALE_MAX,
        y_ticks=[(n, str(n), n in (0, 5, 10)) for n in range(0, SCALE_MAX + 1)],
        label=lambda value: str(int(value)),
        width=width,
        height=height,
    )
