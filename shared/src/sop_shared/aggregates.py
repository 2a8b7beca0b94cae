"""Counts and rates for people who steer (the practice service's fidelity measures, the network service's outcome
measures): reporting periods and small-cell suppression, one rule for every service.

A count of fewer than `SMALL_CELL_MIN` (the policy table's) could point at one family: it is never shown, nor
anything it could be worked back from (the rest of a rate, a median of so few)."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from sop_shared.policy import SMALL_CELL_MIN

_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?$")


def period_range(period: str) -> tuple[date, date] | None:
    """`2026` (a year), `2026-Q4` (a quarter) or `2026-11` (a month) as (first day, last day); None if not one."""
    found = _PERIOD.match(period.strip())
    if found is None:
        return None
    year = int(found.group(1))
    if found.group(2):
        first_month = (int(found.group(2)) - 1) * 3 + 1
        last_month = first_month + 2
    elif found.group(3):
        first_month = last_month = int(found.group(3))
    else:
        first_month, last_month = 1, 12
    return date(year, first_month, 1), date(year, last_month, monthrange(year, last_month)[1])


def quarter_of(day: date) -> str:
    """The quarter a day is in: `2026-Q4`."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarters_until(last: str, count: int) -> list[str] | None:
    """`count` quarters ending with `last` (`2026-Q4`), oldest first; None when `last` is not a quarter."""
    found = _QUARTER.match(last.strip())
    if found is None:
        return None
    index = int(found.group(1)) * 4 + int(found.group(2)) - 1
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(index - count + 1, index + 1)]


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    numerator: int | None
    denominator: int | None
    rate: float | None
    suppressed: bool


def small(count: int) -> bool:
    """A cell of fewer than SMALL_CELL_MIN (but not none) could point at a family: it is never shown."""
    return 0 < count < SMALL_CELL_MIN


def measure(key: str, label: str, numerator: int, denominator: int) -> Measure:
    """A rate with small-cell suppression: hidden when the numerator, the denominator or what the two leave
    (the cases that did not meet it) is 1 to 4 — or when there are fewer cases than the minimum at all."""
    hidden = denominator < SMALL_CELL_MIN or small(numerator) or small(denominator - numerator) or small(denominator)
    if hidden:
        return Measure(key, label, None, None, None, True)
    return Measure(
        key, label, numerator, denominator, round(numerator / denominator, 4) if denominator else None, False
    )


def shown_count(count: int) -> int | None:
    """A bare count as it may be shown: None (hidden) when it is 1 to 4."""
    return None if small(count) else count
