"""The dashboards' pages: the practice trend of a unit as one chart and one table per measure (the unit's line and
the state average's), a unit's training due, a coach's queue and caseload; all in the reader's words. A suppressed
cell is said as "fewer than 5", never as a number, and leaves a gap in its line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sop_gateway.dashboards.labels import MEASURES
from sop_gateway.family_view.labels import PageWords
from sop_gateway.pages.chart import Line, LineChart, line_chart
from sop_gateway.pages.render import templates
from sop_shared.locale_words import percent_words


@dataclass(frozen=True)
class Row:
    """One quarter of a measure: what the table says for the unit and the state."""

    period: str
    unit: str
    state: str


@dataclass(frozen=True)
class MeasureView:
    key: str
    title: str
    chart_title: str
    caption: str
    chart: LineChart
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class UnitTrend:
    unit: str
    cases: tuple[tuple[str, str], ...]  # (quarter, cases opened as said)
    measures: tuple[MeasureView, ...]
    with_state: bool


@dataclass
class DashboardPage:
    words: PageWords
    title: str
    period_note: str
    read_on: str
    minimum: int
    trends: list[UnitTrend] = field(default_factory=list)
    training: dict[str, Any] | None = None
    # Course titles and coaching topics are the agency's words (its language): marked when the page is in another
    recorded_in: str | None = None
    queue: list[dict[str, str]] | None = None
    queue_summary: str | None = None
    caseload: list[str] | None = None


def _rate(value: Mapping[str, Any] | None, words: PageWords, minimum: int) -> tuple[float | None, str]:
    """A rate as a chart value (percent) and as words: suppressed is "fewer than 5", never a number."""
    if value is None:
        return None, words["not_shown"]
    if value.get("suppressed"):
        return None, words.say("fewer_than", minimum=words.number(minimum))
    rate = value.get("rate")
    if rate is None:
        return None, words["no_cases"]
    return float(rate) * 100, percent_words(float(rate), words.locale)


def unit_trend(trend: Mapping[str, Any], words: PageWords) -> UnitTrend:
    unit = str(trend["unit"])
    minimum = int(trend["smallCellMinimum"])
    periods = trend["periods"]
    occasions = [(p["period"], p["period"]) for p in periods]
    with_state = any(p.get("state") is not None for p in periods)
    views = []
    for key in MEASURES:
        title = words.say(f"measure_{key}", days=words.number(int(trend["dangerWithinDays"])))
        unit_values: list[tuple[str, float | None]] = []
        state_values: list[tuple[str, float | None]] = []
        rows = []
        for p in periods:
            mine = next((m for m in p["measures"] if m["key"] == key), None)
            theirs = next((m for m in p.get("state") or [] if m["key"] == key), None)
            unit_value, unit_said = _rate(mine, words, minimum)
            state_value, state_said = _rate(theirs, words, minimum)
            unit_values.append((p["period"], unit_value))
            state_values.append((p["period"], state_value))
            rows.append(Row(p["period"], unit_said, state_said if with_state else words["not_shown"]))
        lines = [Line(words.say("unit_line", unit=unit), tuple(unit_values))]
        if with_state:
            lines.append(Line(words["state_average"], tuple(state_values)))
        chart = line_chart(
            occasions,
            lines,
            y_max=100,
            y_ticks=[(n, percent_words(n / 100, words.locale), n in (0, 50, 100)) for n in range(0, 101, 25)],
            label=lambda value: percent_words(value / 100, words.locale),
            width=640,
            height=260,
        )
        views.append(
            MeasureView(
                key=key,
                title=title,
                chart_title=words.say("chart_title", measure=title, unit=unit),
                caption=words.say("table_caption", measure=title, unit=unit),
                chart=chart,
                rows=tuple(rows),
            )
        )
    cases = tuple(
        (
            p["period"],
            words.number(p["cases"])
            if p.get("cases") is not None
            else words.say("fewer_than", minimum=words.number(minimum)),
        )
        for p in periods
    )
    return UnitTrend(unit=unit, cases=cases, measures=tuple(views), with_state=with_state)


def period_note(trends: Sequence[Mapping[str, Any]], words: PageWords) -> str:
    periods = [p["period"] for t in trends[:1] for p in t["periods"]]
    return words.say("quarters", first=periods[0], last=periods[-1]) if periods else ""


def training_due(due: Mapping[str, Any], words: PageWords) -> dict[str, Any]:
    return {
        "as_of": words.say("training_as_of", date=words.date(due["asOf"]), people=words.number(int(due["people"]))),
        "items": [
            {
                "name": item["name"],
                "course": item["title"],
                "status": words[f"status_{str(item['status']).lower()}"],
                "overdue": str(item["status"]).lower() in ("overdue", "expired"),
                "due_on": words.date(item["dueOn"]) if item.get("dueOn") else "",
            }
            for item in due["items"]
        ],
    }


def coaching_queue(nodes: list[Mapping[str, Any]], names: Mapping[str, str], words: PageWords) -> list[dict[str, str]]:
    return [
        {
            "who": names.get(str(n.get("workerSubject")), str(n.get("workerSubject") or ""))
            if n.get("workerSubject")
            else words.say("unit_line", unit=n.get("unit") or ""),
            "topic": str(n["topic"]),
            "status": words[f"referral_{str(n['status']).lower()}"],
            "sessions": words.number(int(n["sessions"])),
            "open_goals": words.number(int(n["openGoals"])),
            "next_follow_up": words.date(n["nextFollowUpOn"]) if n.get("nextFollowUpOn") else "",
        }
        for n in nodes
    ]


def render_html(page: DashboardPage) -> str:
    return templates("sop_gateway.dashboards").get_template("dashboard.html").render(page=page, words=page.words)
