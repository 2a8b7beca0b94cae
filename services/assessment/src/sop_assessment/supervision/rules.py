"""Rules of supervision: who may decide an approval, which moves an approval and a coaching referral may
make. No HTTP, no session."""

from __future__ import annotations

from sop_assessment.supervision.models import ApprovalStatus, CoachingStatus
from sop_shared.problems import Conflict, Forbidden, InvalidInput

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
