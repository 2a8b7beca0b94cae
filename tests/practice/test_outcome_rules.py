"""The outcome measures as plain functions, on hand-built fictional histories: repeat reports within 6 and 12
months, removals after a safety plan, time to reunification, and the small-cell rule over many cases."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sop_practice.outcomes import rules
from sop_practice.outcomes.rules import CaseHistory, PlanSpan, Removal, Report

Y2026 = (date(2026, 1, 1), date(2026, 12, 31))
LATER = date(2028, 1, 1)  # every window is over


def case(**kwargs: object) -> CaseHistory:
    return CaseHistory(uuid.uuid4(), **kwargs)  # type: ignore[arg-type]


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert rules.add_months(date(2026, 3, 15), 6) == date(2026, 9, 15)
    assert rules.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert rules.add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert rules.add_months(date(2026, 12, 1), 12) == date(2027, 12, 1)


def test_repeat_report_after_closing_within_6_and_12_months() -> None:
    closed = date(2026, 3, 1)
    again_in_5_months = case(closed_on=closed, reports=[Report(date(2025, 12, 1)), Report(date(2026, 8, 1))])
    assert rules.repeat_after_closing(again_in_5_months, Y2026, 6, LATER) is True
    assert rules.repeat_after_closing(again_in_5_months, Y2026, 12, LATER) is True
    again_in_9_months = case(closed_on=closed, reports=[Report(date(2026, 12, 1))])
    assert rules.repeat_after_closing(again_in_9_months, Y2026, 6, LATER) is False
    assert rules.repeat_after_closing(again_in_9_months, Y2026, 12, LATER) is True
    # the window's last day counts; the day after does not; a screened-out report never counts
    assert rules.repeat_after_closing(case(closed_on=closed, reports=[Report(date(2026, 9, 1))]), Y2026, 6, LATER)
    assert not rules.repeat_after_closing(case(closed_on=closed, reports=[Report(date(2026, 9, 2))]), Y2026, 6, LATER)
    screened_out = case(closed_on=closed, reports=[Report(date(2026, 4, 1), screened_in=False)])
    assert rules.repeat_after_closing(screened_out, Y2026, 6, LATER) is False
    # a report on the day it closed is the case's own, not a repeat
    assert rules.repeat_after_closing(case(closed_on=closed, reports=[Report(closed)]), Y2026, 6, LATER) is False


def test_open_cases_cases_closed_outside_the_period_and_windows_not_over_are_not_in_the_cohort() -> None:
    still_open = case(opened_on=date(2026, 1, 5), reports=[Report(date(2026, 1, 2)), Report(date(2026, 2, 2))])
    assert rules.repeat_after_closing(still_open, Y2026, 6, LATER) is None
    assert rules.repeat_after_closing(case(closed_on=date(2025, 12, 31)), Y2026, 6, LATER) is None
    closed_late = case(closed_on=date(2026, 11, 30))
    assert rules.repeat_after_closing(closed_late, Y2026, 6, date(2027, 1, 15)) is None  # could still come
    assert rules.repeat_after_closing(closed_late, Y2026, 6, date(2027, 5, 30)) is False


def test_repeat_after_the_first_screened_in_report() -> None:
    history = case(
        reports=[Report(date(2026, 2, 1), screened_in=False), Report(date(2026, 3, 1)), Report(date(2026, 10, 1))]
    )
    assert rules.first_screened_in(history) == date(2026, 3, 1)
    assert rules.repeat_after_first_report(history, Y2026, 6, LATER) is False
    assert rules.repeat_after_first_report(history, Y2026, 12, LATER) is True
    assert rules.repeat_after_first_report(case(), Y2026, 6, LATER) is None  # no report: not in the cohort
    first_in_2025 = case(reports=[Report(date(2025, 11, 1)), Report(date(2026, 1, 10))])
    assert rules.repeat_after_first_report(first_in_2025, Y2026, 6, LATER) is None


def test_removal_after_a_safety_plan() -> None:
    plan = PlanSpan("immediate", date(2026, 4, 1), date(2026, 5, 1))
    during = case(plans=[plan], removals=[Removal(date(2026, 4, 20))])
    assert rules.removed_after_plan(during, Y2026, LATER) is True
    soon_after = case(plans=[plan], removals=[Removal(date(2026, 5, 25))])
    assert rules.removed_after_plan(soon_after, Y2026, LATER, after_days=30) is True
    assert rules.removed_after_plan(soon_after, Y2026, LATER, after_days=10) is False
    # edge cases: no removal; a removal before the plan; no plan at all; a reunification plan is not a safety plan
    assert rules.removed_after_plan(case(plans=[plan]), Y2026, LATER) is False
    assert rules.removed_after_plan(case(plans=[plan], removals=[Removal(date(2026, 3, 31))]), Y2026, LATER) is False
    assert rules.removed_after_plan(case(removals=[Removal(date(2026, 4, 20))]), Y2026, LATER) is None
    reunification_plan = PlanSpan("reunification", date(2026, 4, 1))
    assert rules.removed_after_plan(case(plans=[reunification_plan]), Y2026, LATER) is None
    # a plan still in force counts up to the day of counting
    in_force = case(plans=[PlanSpan("ongoing", date(2026, 6, 1))], removals=[Removal(date(2026, 9, 1))])
    assert rules.removed_after_plan(in_force, Y2026, date(2026, 10, 1)) is True
    assert rules.removed_after_plan(in_force, Y2026, date(2026, 8, 1)) is False
    # a plan activated in another period is not this period's
    assert rules.removed_after_plan(case(plans=[PlanSpan("immediate", date(2025, 12, 1))]), Y2026, LATER) is None


def test_time_to_reunification_and_removals_open_at_the_period_end() -> None:
    history = case(
        removals=[
            Removal(date(2026, 1, 1), date(2026, 3, 2), "reunification"),  # 60 days
            Removal(date(2025, 6, 1), date(2026, 2, 1), "adoption"),  # not to the family
            Removal(date(2026, 5, 1), date(2027, 1, 10), "reunification"),  # ends after the period
            Removal(date(2026, 7, 1), date(2026, 6, 1), "reunification"),  # discharge before removal: left out
            Removal(date(2026, 11, 1)),  # open at the period's end
        ]
    )
    assert rules.reunification_days(history, Y2026) == [60]
    assert rules.open_at(history, Y2026[1]) == 2  # the one ending in 2027, and the one never discharged
    assert rules.reunification_days(case(), Y2026) == []  # no removal at all


def test_the_tally_suppresses_small_cells_and_a_median_of_few() -> None:
    reunified = [
        case(removals=[Removal(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=d), "reunification")])
        for d in (10, 20, 30, 40)
    ]
    few = rules.tally(reunified, Y2026, LATER)
    shown = rules.reunification(few)
    assert shown.suppressed and shown.median_days is None and shown.discharges is None  # 4: hidden
    five = rules.tally(
        [*reunified, case(removals=[Removal(date(2026, 2, 1), date(2026, 3, 3), "reunification")])], Y2026, LATER
    )
    shown = rules.reunification(five)
    assert not shown.suppressed and shown.discharges == 5 and shown.median_days == 30.0

    closed = date(2026, 2, 1)
    cohort = [case(closed_on=closed, reports=[Report(date(2026, 3, 1))]) for _ in range(3)]
    cohort += [case(closed_on=closed) for _ in range(7)]
    by_key = {m.key: m for m in rules.measures(rules.tally(cohort, Y2026, LATER), 30)}
    assert by_key["repeat_report_6m_after_closing"].suppressed  # 3 of 10: the 3 could point at families
    cohort += [case(closed_on=closed, reports=[Report(date(2026, 4, 1))]) for _ in range(2)]
    by_key = {m.key: m for m in rules.measures(rules.tally(cohort, Y2026, LATER), 30)}
    repeat = by_key["repeat_report_6m_after_closing"]
    assert (repeat.numerator, repeat.denominator, repeat.rate, repeat.suppressed) == (5, 12, 0.4167, False)
    assert by_key["removal_after_safety_plan"].suppressed  # nobody in the cohort: nothing to show
