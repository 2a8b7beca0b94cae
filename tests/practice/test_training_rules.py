"""Training standings as plain functions (issue 15): due from the start in role, overdue after, certifications
expiring within 60 days and expired on their last day."""

from __future__ import annotations

from datetime import date

from sop_practice.training.rules import CourseTerms, TrainingStatus, add_months, certified_until, is_required, standing

FOUNDATIONS = CourseTerms(frozenset({"worker", "supervisor"}), 90, None)
SDM = CourseTerms(frozenset({"worker"}), 60, 24)
TODAY = date(2026, 12, 6)


def test_a_course_never_completed_is_due_then_overdue() -> None:
    started = date(2026, 10, 1)
    due = standing(FOUNDATIONS, started_on=started, completions=[], today=TODAY)
    assert (due.status, due.due_on) == (TrainingStatus.due, date(2026, 12, 30))
    overdue = standing(FOUNDATIONS, started_on=date(2026, 1, 5), completions=[], today=TODAY)
    assert (overdue.status, overdue.due_on) == (TrainingStatus.overdue, date(2026, 4, 5))
    unknown_start = standing(FOUNDATIONS, started_on=None, completions=[], today=TODAY)
    assert (unknown_start.status, unknown_start.due_on) == (TrainingStatus.due, None)


def test_a_completed_course_is_current_and_a_certification_expires() -> None:
    done = standing(FOUNDATIONS, started_on=date(2026, 1, 5), completions=[date(2026, 2, 1)], today=TODAY)
    assert (done.status, done.last_completed_on, done.certified_until) == (
        TrainingStatus.current,
        date(2026, 2, 1),
        None,
    )
    certified = standing(SDM, started_on=None, completions=[date(2025, 3, 1)], today=TODAY)
    assert (certified.status, certified.certified_until) == (TrainingStatus.current, date(2027, 3, 1))
    expiring = standing(SDM, started_on=None, completions=[date(2025, 1, 20)], today=TODAY)
    assert (expiring.status, expiring.due_on) == (TrainingStatus.expiring, date(2027, 1, 20))
    expired = standing(SDM, started_on=None, completions=[date(2024, 12, 6)], today=TODAY)
    assert expired.status == TrainingStatus.expired  # certified until today: ended
    renewed = standing(SDM, started_on=None, completions=[date(2024, 1, 1), date(2026, 11, 1)], today=TODAY)
    assert (renewed.status, renewed.last_completed_on) == (TrainingStatus.current, date(2026, 11, 1))


def test_months_and_requirements() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)
    assert certified_until(FOUNDATIONS, TODAY) is None
    assert certified_until(SDM, TODAY) == date(2028, 12, 6)
    assert is_required(SDM, ["worker"]) and not is_required(SDM, ["supervisor", "coach"])
