"""The fidelity read model's rules as plain functions (issue 15 part 4): the fold is idempotent and tolerates
events arriving out of order, what a case counts for, periods, and small-cell suppression."""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from fidelity_events import case_events

from sop_practice.fidelity import rules
from sop_shared.events import Event

CASE = uuid.UUID(int=7)


def fold(events: list[Event], facts: dict[str, Any] | None = None) -> dict[str, Any]:
    state = facts or {}
    for e in events:
        state = rules.apply(state, e.subject, e.data, e.occurred_at)
    return state


def full_case(seed: int = 1) -> list[Event]:
    return case_events(
        CASE,
        random.Random(seed),
        county="Pulaski",
        unit="Pulaski-3",
        worker="fsw.rivera",
        opened_on=date(2026, 11, 2),
        full=True,
    )


def test_a_case_that_meets_every_measure_counts_for_each() -> None:
    counts = rules.derive(fold(full_case()))
    assert (counts.county, counts.unit, counts.worker, counts.opened_on) == (
        "Pulaski",
        "Pulaski-3",
        "fsw.rivera",
        date(2026, 11, 2),
    )
    assert counts.has_map and counts.has_safety_goal and counts.two_perspectives and counts.child_voice
    assert counts.danger_days is not None and 0 <= counts.danger_days <= 6
    assert (counts.network_size, counts.network_heard) == (3, 3)
    assert counts.has_plan and counts.caregiver_signed
    assert (counts.sdm_completed, counts.sdm_on_time, counts.shared_texts, counts.shared_plain) == (1, 1, 1, 1)


def test_applying_events_twice_or_replaying_over_the_model_changes_nothing() -> None:
    events = full_case()
    once = fold(events)
    assert fold(events + events) == once
    assert fold(events, once) == once  # a replay over a model that holds them already
    for e in events:
        assert rules.apply(once, e.subject, e.data, e.occurred_at) == once


def test_the_fold_does_not_depend_on_the_order_events_arrive_in() -> None:
    events = full_case(seed=3)
    rng = random.Random(9)
    expected = asdict(rules.derive(fold(events)))
    for _ in range(20):
        shuffled = list(events)
        rng.shuffle(shuffled)
        assert asdict(rules.derive(fold(shuffled))) == expected


def _ev(subject: str, on: date = date(2026, 11, 5), **data: Any) -> Event:
    return Event(
        uuid.uuid4(), subject, datetime(on.year, on.month, on.day, 12, tzinfo=UTC), {"case_id": str(CASE), **data}
    )


def test_a_withdrawn_danger_statement_no_longer_counts_even_when_its_update_comes_first() -> None:
    statement = str(uuid.uuid4())
    opened = _ev("sop.network.case.created", date(2026, 11, 1), version=1, opened_on="2026-11-01", staff=[], people=[])
    created = _ev("sop.assessment.statement.created", statement_id=statement, kind="danger", status="active", version=1)
    withdrawn = _ev(
        "sop.assessment.statement.updated", statement_id=statement, kind="danger", status="withdrawn", version=2
    )
    assert rules.derive(fold([opened, created])).danger_days == 4
    assert rules.derive(fold([opened, created, withdrawn])).danger_days is None
    assert rules.derive(fold([opened, withdrawn, created])).danger_days is None


def test_two_perspectives_need_the_familys_or_the_networks_not_only_staff() -> None:
    def rated(*roles: str) -> bool:
        return rules.derive(
            fold(
                [
                    _ev("sop.assessment.scale_rating.created", scale_rating_id=str(uuid.uuid4()), rater_role=r)
                    for r in roles
                ]
            )
        ).two_perspectives

    assert not rated("worker", "supervisor", "professional")
    assert not rated("caregiver", "child")  # the family alone is one perspective
    assert rated("worker", "caregiver") and rated("network", "child")
    rating = str(uuid.uuid4())
    events = [
        _ev("sop.assessment.scale_rating.created", scale_rating_id=str(uuid.uuid4()), rater_role="worker"),
        _ev("sop.assessment.scale_rating.created", scale_rating_id=rating, rater_role="caregiver"),
        _ev("sop.assessment.scale_rating.withdrawn", scale_rating_id=rating),
    ]
    assert not rules.derive(fold(events)).two_perspectives


def test_new_words_make_a_shared_text_a_draft_until_shared_again() -> None:
    goal = str(uuid.uuid4())
    shared = _ev("sop.assessment.safety_goal.shared", safety_goal_id=goal, version=1, with_reason=True)
    corrected = _ev(
        "sop.assessment.safety_goal.updated", safety_goal_id=goal, status="active", version=2, words_corrected=True
    )
    again = _ev("sop.assessment.safety_goal.shared", safety_goal_id=goal, version=2, with_reason=False)
    assert (rules.derive(fold([shared])).shared_texts, rules.derive(fold([shared])).shared_plain) == (1, 0)
    assert rules.derive(fold([shared, corrected])).shared_texts == 0
    assert (rules.derive(fold([shared, corrected, again])).shared_plain) == 1
    assert rules.derive(fold([again, shared, corrected])).shared_plain == 1


def test_sdm_on_time_by_day_or_by_hour_rules() -> None:
    assert rules.sdm_on_time({"complete_by": "2026-11-04"}, "2026-11-04T23:00:00+00:00") is True
    assert rules.sdm_on_time({"complete_by": "2026-11-04"}, "2026-11-05T08:00:00+00:00") is False
    assert rules.sdm_on_time({"initiate_by": "2026-11-04T10:00:00+00:00"}, "2026-11-04T09:00:00+00:00") is True
    assert rules.sdm_on_time({"reassess_by": "2027-02-01"}, "2026-11-04T09:00:00+00:00") is None
    assert rules.sdm_on_time(None, "2026-11-04T09:00:00+00:00") is None


def test_periods() -> None:
    assert rules.period_range("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert rules.period_range("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert rules.period_range("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    for bad in ("2026-Q5", "2026-13", "26", "2026-1", "last year"):
        assert rules.period_range(bad) is None


def test_small_cells_are_never_shown() -> None:
    assert rules.measure("m", "M", 10, 12).suppressed  # 2 cases without: as identifying as 2 with
    assert rules.measure("m", "M", 3, 20).suppressed
    assert rules.measure("m", "M", 4, 4).suppressed  # fewer than 5 cases at all
    assert rules.measure("m", "M", 0, 0).suppressed  # no cases: nothing to show
    shown = rules.measure("m", "M", 5, 20)
    assert (shown.numerator, shown.denominator, shown.rate, shown.suppressed) == (5, 20, 0.25, False)
    assert not rules.measure("m", "M", 0, 9).suppressed and not rules.measure("m", "M", 9, 9).suppressed
    assert rules.network_size(rules.Totals(cases=4, members=12)) is None
    assert rules.network_size(rules.Totals(cases=5, members=12)) == 2.4
