"""Rules of supervision: who may decide an approval, which moves an approval and a coaching referral may
make. No HTTP, no session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sop_assessment.goals.models import GoalStatus, SafetyGoal
from sop_assessment.models import Statement, StatementKind, StatementStatus
from sop_assessment.ratings.models import ScaleRating
from sop_assessment.ratings.rules import latest_occasion
from sop_assessment.statements.redaction import LABEL_FIELDS
from sop_assessment.statements.rules import PARTS, SHARED_FIELDS
from sop_assessment.supervision.models import ApprovalStatus, CoachingStatus
from sop_shared.policy import MEMBER_RATER_ROLES, Audience, Section, may_see_section
from sop_shared.problems import Conflict, Forbidden, InvalidInput

# A statement's columns a consultation keeps: enough to show it later exactly as it read, redacted for the reader.
STATEMENT_SNAPSHOT = (
    "id",
    "kind",
    "version",
    "status",
    "language",
    "text_source",
    "composed_text",
    *PARTS[StatementKind.danger],
    *SHARED_FIELDS,
    *LABEL_FIELDS,
)

COACHING_MOVES: dict[CoachingStatus, frozenset[CoachingStatus]] = {
    CoachingStatus.requested: frozenset({CoachingStatus.scheduled, CoachingStatus.cancelled}),
    CoachingStatus.scheduled: frozenset(
        {CoachingStatus.in_progress, CoachingStatus.completed, CoachingStatus.cancelled}
    ),
    CoachingStatus.in_progress: frozenset({CoachingStatus.completed, CoachingStatus.cancelled}),
    CoachingStatus.completed: frozenset(),
    CoachingStatus.cancelled: frozenset(),
}


class ApprovalNotPending(Conflict):
    slug, title = "approval-not-pending", "This approval is not waiting for a decision"


class ApprovalNotReturned(Conflict):
    slug, title = "approval-not-returned", "Only an approval returned for edits can be resubmitted"


class ApprovalAlreadyPending(Conflict):
    slug, title = "approval-already-pending", "An approval of this is already waiting"


class OwnRequest(Forbidden):
    slug, title = "own-request", "Nobody approves their own request"


class CoachingMoveNotAllowed(Conflict):
    slug, title = "coaching-status-not-allowed", "A coaching referral cannot move to that status"


def check_decision(
    *, status: ApprovalStatus, requested_by: str, decider: str, decision: str, comment: str | None
) -> None:
    """A pending approval, decided by someone other than the requester; returning for edits says why."""
    if status != ApprovalStatus.pending:
        raise ApprovalNotPending(f"this approval is {status.value}")
    if decider == requested_by:
        raise OwnRequest("a request is decided by a supervisor other than the person who made it")
    if decision == "returned" and not (comment and comment.strip()):
        raise InvalidInput.field("comment", "say what needs to change when returning for edits")


def check_coaching_move(current: CoachingStatus, new: CoachingStatus) -> None:
    if new != current and new not in COACHING_MOVES[current]:
        raise CoachingMoveNotAllowed(f"a {current.value} referral cannot become {new.value}")


def discussed(
    statements: Iterable[Statement],
    goals: Iterable[SafetyGoal],
    ratings: Sequence[ScaleRating],
    *,
    taken_at: datetime,
) -> dict[str, Any]:
    """What a consultation discussed, kept as it stood when it was recorded (never recomputed): the case's
    active danger statements, their safety goals (not withdrawn), and for each scale (a statement's, or
    `overall`) the ratings of its latest occasion, withdrawn ones left out."""
    dangers = [s for s in statements if s.kind == StatementKind.danger and s.status == StatementStatus.active]
    by_target: dict[str, list[ScaleRating]] = {}
    for rating in ratings:
        by_target.setdefault(rating.target, []).append(rating)
    return {
        "taken_at": taken_at.isoformat(),
        "danger_statements": [
            s.model_dump(mode="json", include=set(STATEMENT_SNAPSHOT)) for s in sorted(dangers, key=lambda s: s.id)
        ],
        "safety_goals": [
            {
                "id": str(g.id),
                "version": g.version,
                "danger_statement_id": str(g.danger_statement_id),
                "status": g.status.value,
                "composed_text": g.composed_text,
                "owner": g.owner.value,
                "duration": g.duration,
            }
            for g in sorted(goals, key=lambda g: g.id)
            if g.status != GoalStatus.withdrawn
        ],
        "ratings": [
            {
                "id": str(r.id),
                "target": r.target,
                "statement_id": str(r.statement_id) if r.statement_id else None,
                "rater_name": r.rater_name,
                "rater_role": r.rater_role.value,
                "score": r.score,
                "occasion_on": r.occasion_on.isoformat(),
            }
            for target in sorted(by_target)
            for r in latest_occasion(by_target[target])
        ],
    }


def ratings_shown(ratings: Iterable[dict[str, Any]], audience: Audience) -> list[dict[str, Any]]:
    """The snapshot's ratings as `audience` may see them: an audience kept from each rater's score (the policy
    table's `every_rater`) sees the family's and the network's own."""
    if may_see_section(Section.every_rater, audience):
        return list(ratings)
    return [r for r in ratings if r["rater_role"] in MEMBER_RATER_ROLES]
