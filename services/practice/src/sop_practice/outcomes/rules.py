"""Outcome measures as plain functions over one case's history (its reports, removals and the safety plans that
were in force), then counted over many cases with the small-cell rule (`sop_shared.aggregates`).

- **Repeat reports**: of the cases that closed in the period, those with a screened-in report received within 6
  (12) months after the closing; of the cases whose first screened-in report came in the period, those with
  another within 6 (12) months of it. A case whose window has not ended by `as_of` is not counted yet (neither
  way): it could still have one.
- **Removals after a safety plan**: of the cases where a safety plan (immediate or ongoing) came into force in the
  period, those with a child removed while it was in force or within `after_days` after it ended. A removal
  before the plan does not count; a plan still in force counts up to `as_of`.
- **Time to reunification**: of the removals that ended in the period by discharge to the family, the median
  days from removal to discharge; the removals of the scope still open at the period's end are counted beside.
"""

from __future__ import annotations

import statistics
import uuid
from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sop_shared.aggregates import Measure, measure, shown_count
from sop_shared.policy import SMALL_CELL_MIN

DEFAULT_AFTER_PLAN_DAYS = 30
# The plans that keep children safe at home; a reunification plan comes after a removal.
SAFETY_PLAN_TYPES = frozenset({"immediate", "ongoing"})
REUNIFIED = frozenset({"reunification", "living_with_relatives"})


@dataclass(frozen=True)
class Report:
    received_on: date
    screened_in: bool = True


@dataclass(frozen=True)
class Removal:
    removed_on: date
    discharged_on: date | None = None
    discharge_reason: str | None = None


@dataclass(frozen=True)
class PlanSpan:
    plan_type: str
    started_on: date | None
    ended_on: date | None = None  # None: still in force


@dataclass(frozen=True)
class CaseHistory:
    case_id: uuid.UUID
    opened_on: date | None = None
    closed_on: date | None = None
    reports: Sequence[Report] = ()
    removals: Sequence[Removal] = ()
    plans: Sequence[PlanSpan] = ()


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter: 31 August + 6 months = 28/29 Feb)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _in(day: date | None, period: tuple[date, date]) -> bool:
    return day is not None and period[0] <= day <= period[1]


def repeat_after_closing(history: CaseHistory, period: tuple[date, date], months: int, as_of: date) -> bool | None:
    """None: not in the cohort (not closed in the period, or its window is not over by `as_of`); else whether a
    screened-in report came within `months` after the closing."""
    closed = history.closed_on
    if closed is None or not _in(closed, period):
        return None
    window_end = add_months(closed, months)
    if window_end > as_of:
        return None
    return any(r.screened_in and closed < r.received_on <= window_end for r in history.reports)


def first_screened_in(history: CaseHistory) -> date | None:
    return min((r.received_on for r in history.reports if r.screened_in), default=None)


def repeat_after_first_report(history: CaseHistory, period: tuple[date, date], months: int, as_of: date) -> bool | None:
    """None: not in the cohort (no first screened-in report in the period, or its window is not over by
    `as_of`); else whether another screened-in report came within `months` after it."""
    first = first_screened_in(history)
    if first is None or not _in(first, period):
        return None
    window_end = add_months(first, months)
    if window_end > as_of:
        return None
    return any(r.screened_in and first < r.received_on <= window_end for r in history.reports)


def removed_after_plan(
    history: CaseHistory, period: tuple[date, date], as_of: date, after_days: int = DEFAULT_AFTER_PLAN_DAYS
) -> bool | None:
    """None: no safety plan came into force in the period; else whether a child was removed while one of those
    plans was in force or within `after_days` of its end (a plan still in force: up to `as_of`)."""
    spans = [
        p for p in history.plans if p.plan_type in SAFETY_PLAN_TYPES and p.started_on and _in(p.started_on, period)
    ]
    if not spans:
        return None
    for span in spans:
        assert span.started_on is not None
        until = (span.ended_on + timedelta(days=after_days)) if span.ended_on else as_of
        if any(span.started_on <= r.removed_on <= until for r in history.removals):
            return True
    return False


def reunification_days(history: CaseHistory, period: tuple[date, date]) -> list[int]:
    """Days from removal to discharge to the family, for each removal that so ended in the period (a discharge
    dated before its removal is a data-quality failure, not a negative stay: left out)."""
    return [
        (r.discharged_on - r.removed_on).days
        for r in history.removals
        if r.discharge_reason in REUNIFIED
        and _in(r.discharged_on, period)
        and r.discharged_on is not None
        and r.discharged_on >= r.removed_on
    ]


def open_at(history: CaseHistory, day: date) -> int:
    """The case's removals still open on `day` (removed by then, not discharged by then)."""
    return sum(
        1 for r in history.removals if r.removed_on <= day and (r.discharged_on is None or r.discharged_on > day)
    )


@dataclass
class Tally:
    """Sums over many cases, then the measures with the small-cell rule."""

    cohorts: dict[str, list[int]] = field(default_factory=dict)  # key -> [met, of]
    reunification: list[int] = field(default_factory=list)
    still_removed: int = 0
    cases: int = 0

    def count(self, key: str, met: bool | None) -> None:
        if met is None:
            return
        cell = self.cohorts.setdefault(key, [0, 0])
        cell[0] += int(met)
        cell[1] += 1


LABELS = {
    "repeat_report_6m_after_closing": "Closed cases with a screened-in report within 6 months of closing",
    "repeat_report_12m_after_closing": "Closed cases with a screened-in report within 12 months of closing",
    "repeat_report_6m_after_first_report": "Cases with another screened-in report within 6 months of the first",
    "repeat_report_12m_after_first_report": "Cases with another screened-in report within 12 months of the first",
    "removal_after_safety_plan": "Cases with a safety plan in force, then a child removed (during or soon after)",
}


def tally(
    histories: Iterable[CaseHistory],
    period: tuple[date, date],
    as_of: date,
    after_days: int = DEFAULT_AFTER_PLAN_DAYS,
    into: Tally | None = None,
) -> Tally:
    """Count the histories (into `into`, to add chunk after chunk)."""
    t = into if into is not None else Tally()
    for h in histories:
        t.cases += 1
        for months in (6, 12):
            t.count(f"repeat_report_{months}m_after_closing", repeat_after_closing(h, period, months, as_of))
            t.count(f"repeat_report_{months}m_after_first_report", repeat_after_first_report(h, period, months, as_of))
        t.count("removal_after_safety_plan", removed_after_plan(h, period, as_of, after_days))
        t.reunification.extend(reunification_days(h, period))
        t.still_removed += open_at(h, min(period[1], as_of))
    return t


def measures(t: Tally, after_days: int) -> list[Measure]:
    found = []
    for key, label in LABELS.items():
        met, of = t.cohorts.get(key, [0, 0])
        if key == "removal_after_safety_plan":
            label = f"{label.removesuffix('(during or soon after)')}(while in force or within {after_days} days)"
        found.append(measure(key, label, met, of))
    return found


@dataclass(frozen=True)
class Reunification:
    discharges: int | None  # removals ended by discharge to the family in the period (hidden when 1 to 4)
    median_days: float | None  # hidden with fewer than SMALL_CELL_MIN discharges
    still_removed: int | None  # removals open at the period's end (or today, for a period not over)
    suppressed: bool


def reunification(t: Tally) -> Reunification:
    n = len(t.reunification)
    hidden = n < SMALL_CELL_MIN
    return Reunification(
        discharges=shown_count(n),
        median_days=None if hidden else float(statistics.median(t.reunification)),
        still_removed=shown_count(t.still_removed),
        suppressed=hidden,
    )
