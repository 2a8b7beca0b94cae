"""What a consultation keeps of what it discussed (supervision.rules.discussed): plain functions over rows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sop_assessment.goals.models import GoalOwner, GoalStatus, SafetyGoal
from sop_assessment.models import Statement, StatementKind, StatementStatus, TextSource
from sop_assessment.ratings.models import OVERALL, RaterRole, RatingMode, ScaleRating
from sop_assessment.supervision import rules
from sop_shared.policy import Audience

CASE = uuid.uuid4()
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def statement(
    kind: StatementKind = StatementKind.danger, status: StatementStatus = StatementStatus.active
) -> Statement:
    return Statement(
        case_id=CASE,
        kind=kind,
        status=status,
        text_source=TextSource.worker,
        composed_text="We are worried Maria will drink at night and not wake up when Sofia needs her.",
        threat_codes=["T4"],
        created_by="fsw.rivera",
    )


def goal(statement_id: uuid.UUID, status: GoalStatus = GoalStatus.active) -> SafetyGoal:
    return SafetyGoal(
        case_id=CASE,
        danger_statement_id=statement_id,
        status=status,
        text_source=TextSource.worker,
        composed_text="Maria will make sure a sober adult is awake with the children every night.",
        duration="P3M",
        owner=GoalOwner.family,
        created_by="fsw.rivera",
    )


def rating(target: str, on: date, score: int, role: RaterRole = RaterRole.worker, **extra: object) -> ScaleRating:
    return ScaleRating(
        case_id=CASE,
        statement_id=None if target == OVERALL else uuid.UUID(target),
        target=target,
        occasion_on=on,
        rater_name=f"{role.value} rater",
        rater_key=role.value,
        rater_role=role,
        score=score,
        mode=RatingMode.verbal,
        zero_anchor="0",
        ten_anchor="10",
        created_by="fsw.rivera",
        **extra,
    )


def test_a_consultation_keeps_the_active_danger_statements_their_goals_and_each_scales_latest_ratings() -> None:
    danger, resolved, harm = statement(), statement(status=StatementStatus.resolved), statement(StatementKind.harm)
    live_goal, withdrawn_goal = goal(danger.id), goal(resolved.id, GoalStatus.withdrawn)
    target = str(danger.id)
    ratings = [
        rating(target, date(2026, 11, 2), 3),
        rating(target, date(2026, 11, 16), 5),
        rating(target, date(2026, 11, 16), 6, RaterRole.caregiver),
        rating(target, date(2026, 11, 18), 9, withdrawn_at=NOW),  # withdrawn: not what stood
        rating(OVERALL, date(2026, 11, 10), 4),
    ]
    kept = rules.discussed([danger, resolved, harm], [live_goal, withdrawn_goal], ratings, taken_at=NOW)
    assert kept["taken_at"] == NOW.isoformat()
    assert [(s["id"], s["version"], s["composed_text"]) for s in kept["danger_statements"]] == [
        (str(danger.id), 1, danger.composed_text)
    ]
    assert [g["id"] for g in kept["safety_goals"]] == [str(live_goal.id)]
    by_target = sorted((r["target"], r["rater_role"], r["score"]) for r in kept["ratings"])
    assert by_target == sorted([(target, "worker", 5), (target, "caregiver", 6), (OVERALL, "worker", 4)])


def test_the_network_sees_only_the_familys_and_the_networks_own_kept_ratings() -> None:
    kept = [{"rater_role": "worker", "score": 5}, {"rater_role": "caregiver", "score": 6}]
    assert rules.ratings_shown(kept, Audience.staff) == kept
    assert rules.ratings_shown(kept, Audience.network) == [{"rater_role": "caregiver", "score": 6}]
