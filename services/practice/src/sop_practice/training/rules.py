"""Rules of training: plain functions, no HTTP, no session.

A course is **required** of a person when one of their practice roles is in its `required_for`. Its status for
them on a day:

- `current`: completed (and, for a certifying course, certified beyond the expiring window);
- `expiring`: certified, but the certification ends within `EXPIRING_WITHIN_DAYS` (due again by its end);
- `expired`: the certification has ended;
- `due`: never completed, due on their start in role + `due_within_days` (or no due date known yet);
- `overdue`: never completed and that day has passed.

A course not required of them but completed is listed as `current` / `expiring` / `expired` all the same.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sop_shared.problems import InvalidInput

EXPIRING_WITHIN_DAYS = 60
# What a unit's due list shows: everything that needs someone to act.
NEEDS_ACTION = frozenset({"due", "overdue", "expiring", "expired"})


class TrainingStatus(StrEnum):
    current = "current"
    expiring = "expiring"
    expired = "expired"
    due = "due"
    overdue = "overdue"


@dataclass(frozen=True)
class CourseTerms:
    required_for: frozenset[str]
    due_within_days: int | None
    certification_months: int | None


@dataclass(frozen=True)
class Standing:
    status: TrainingStatus
    due_on: date | None  # when it is (or was) due: first completion, or renewal by the certification's end
    last_completed_on: date | None
    certified_until: date | None


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when that month is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def certified_until(terms: CourseTerms, completed_on: date) -> date | None:
    if terms.certification_months is None:
        return None
    return add_months(completed_on, terms.certification_months)


def is_required(terms: CourseTerms, roles: list[str]) -> bool:
    return bool(terms.required_for & set(roles))


def standing(terms: CourseTerms, *, started_on: date | None, completions: list[date], today: date) -> Standing:
    """A person's standing in one course on `today`, from the days they completed it."""
    if completions:
        last = max(completions)
        until = certified_until(terms, last)
        if until is None:
            return Standing(TrainingStatus.current, None, last, None)
        if until <= today:
            return Standing(TrainingStatus.expired, until, last, until)
        if until - today <= timedelta(days=EXPIRING_WITHIN_DAYS):
            return Standing(TrainingStatus.expiring, until, last, until)
        return Standing(TrainingStatus.current, until, last, until)
    due_on = (
        started_on + timedelta(days=terms.due_within_days)
        if started_on is not None and terms.due_within_days is not None
        else None
    )
    status = TrainingStatus.overdue if due_on is not None and due_on < today else TrainingStatus.due
    return Standing(status, due_on, None, None)


def check_session_times(starts_at: datetime, ends_at: datetime, *, field_prefix: str = "") -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value.tzinfo is None:
            errors.append({"field": f"{field_prefix}{name}", "message": "give a time zone"})
    if not errors and ends_at <= starts_at:
        errors.append({"field": f"{field_prefix}ends_at", "message": "a session ends after it starts"})
    return errors


def check_course(*, required_for: list[str], due_within_days: int | None) -> None:
    if required_for and due_within_days is None:
        raise InvalidInput.field("due_within_days", "a required course says within how many days it is due")


def completed_on_for(ends_at: datetime) -> date:
    """A session completed is completed on the (UTC) day it ended."""
    return ends_at.date()
