"""Supervision operations: consultations, the approval queue, coaching referrals.

The approval queue for code in this service (SDM overrides, priority downgrades):
- `request_approval(...)` files an item (other services come through `POST /v1/approvals`, or their
  events: a safety plan's `sop.plans.safety_plan.approval_requested`, see `plan_events`);
- `@decision_handler(kind)` registers the function that applies a decision made in the queue to the thing
  approved, in the same transaction (SDM overrides and downgrades: `sop_assessment.sdm.service`);
- `close_approval(...)` records a decision made where the thing lives (e.g. `POST …/sdm-assessments/{id}/
  approve`, or the plans service's `approval_decided` event), so the queue and the record never disagree.
Items of another service are decided there (`decide_at`), never in this queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.goals.models import SafetyGoal
from sop_assessment.maps.models import AssessmentMap
from sop_assessment.maps.service import get_version
from sop_assessment.models import Statement, platform
from sop_assessment.ratings.models import ScaleRating
from sop_assessment.statements.redaction import statement_view
from sop_assessment.supervision import rules
from sop_assessment.supervision.models import (
    Approval,
    ApprovalAction,
    ApprovalEvent,
    ApprovalKind,
    ApprovalStatus,
    CoachingReferral,
    Consultation,
)
from sop_assessment.supervision.rules import (
    ApprovalAlreadyPending,
    ApprovalNotReturned,
    check_coaching_move,
    check_decision,
)
from sop_assessment.supervision.schemas import (
    ApprovalOut,
    BroughtToCoachingOut,
    CoachingReferralIn,
    CoachingReferralUpdate,
    ConsultationIn,
    ConsultationOut,
    Discussed,
)
from sop_shared.concurrency import check_version
from sop_shared.db import utcnow
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.policy import Audience
from sop_shared.problems import Conflict, InvalidInput, NotFound

APPROVAL_REQUESTED = "sop.assessment.approval.requested"
APPROVAL_DECIDED = "sop.assessment.approval.decided"
APPROVAL_RESUBMITTED = "sop.assessment.approval.resubmitted"
CONSULTATION_RECORDED = "sop.assessment.consultation.recorded"
# A consultation brought to a coaching referral: the one event of this service that carries a consultation's
# content, for the practice service to attach to the referral (it shows a coach only what the policy table allows).
CONSULTATION_BROUGHT_TO_COACHING = "sop.assessment.consultation.brought_to_coaching"
LOCAL_SOURCE = "assessment"


class ApprovalNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such approval")


class DecidedElsewhere(Conflict):
    slug, title = "decided-elsewhere", "This approval is decided where the thing lives"


class ConsultationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such consultation")


class CoachingReferralNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such coaching referral")


# --- consultations -------------------------------------------------------------------------------------


async def create_consultation(
    session: AsyncSession, *, case_id: uuid.UUID, body: ConsultationIn, created_by: str
) -> Consultation:
    """Record a consultation; it names the map version discussed (the current one unless told)."""
    map_version = body.map_version
    if body.map_id is None:
        if map_version is not None:
            raise InvalidInput.field("map_version", "name the map too (map_id)")
    else:
        the_map = await session.get(AssessmentMap, body.map_id)
        if the_map is None or the_map.case_id != case_id:
            raise InvalidInput.field("map_id", "no such map in this case")
        if map_version is None:
            map_version = the_map.current_version
        elif map_version > the_map.current_version:
            raise InvalidInput.field("map_version", f"this map has versions 1 to {the_map.current_version}")
    consultation = Consultation(
        case_id=case_id,
        created_by=created_by,
        discussed=await _discussed_now(session, case_id),
        consultation_type=body.consultation_type,
        held_on=body.held_on,
        facilitator=body.facilitator,
        presenting_question=body.presenting_question,
        map_id=body.map_id,
        map_version=map_version,
        follow_up_on=body.follow_up_on,
        decisions=list(body.decisions),
        participants=[p.model_dump(mode="json") for p in body.participants],
        next_steps=[s.model_dump(mode="json") for s in body.next_steps],
    )
    session.add(consultation)
    await session.flush()
    await emit(
        session,
        platform,
        subject=CONSULTATION_RECORDED,
        case_id=case_id,
        data={
            "consultation_id": str(consultation.id),
            "case_id": str(case_id),
            "consultation_type": consultation.consultation_type.value,
            "map_id": str(body.map_id) if body.map_id else None,
            "map_version": map_version,
        },
    )
    return consultation


async def list_consultations(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    page: PageRequest,
) -> tuple[list[Consultation], str | None]:
    query = select(Consultation).where(col(Consultation.case_id) == case_id)
    rows = list((await session.execute(page.apply(query, col(Consultation.id)))).scalars())
    return page.page(rows)


async def _discussed_now(session: AsyncSession, case_id: uuid.UUID) -> dict[str, Any]:
    """The case's danger statements, safety goals and latest ratings now, to keep with a consultation."""

    async def rows(model: Any) -> list[Any]:
        return list((await session.execute(select(model).where(col(model.case_id) == case_id))).scalars())

    return rules.discussed(await rows(Statement), await rows(SafetyGoal), await rows(ScaleRating), taken_at=utcnow())


def discussed_out(discussed: dict[str, Any] | None, audience: Audience) -> Discussed | None:
    """The kept snapshot as `audience` may see it: statements redacted as the policy table says today (a goal
    of a withheld statement without its words), ratings as the policy's sections say."""
    if discussed is None:
        return None
    statements, withheld = [], set()
    for values in discussed["danger_statements"]:
        view = statement_view(values, audience)
        if view.withheld:
            withheld.add(values["id"])
        statements.append({**view.values, "redacted": view.redacted})
    goals = [
        {**g, "composed_text": None} if g["danger_statement_id"] in withheld else g for g in discussed["safety_goals"]
    ]
    return Discussed.model_validate(
        {
            "taken_at": discussed["taken_at"],
            "danger_statements": statements,
            "safety_goals": goals,
            "ratings": rules.ratings_shown(discussed["ratings"], audience),
        }
    )


async def consultation_out(
    session: AsyncSession, consultation: Consultation, audience: Audience = Audience.staff
) -> ConsultationOut:
    snapshot = None
    if consultation.map_id is not None and consultation.map_version is not None:
        snapshot = (await get_version(session, consultation.map_id, consultation.map_version)).content
    return ConsultationOut.model_validate(
        {
            **consultation.model_dump(),
            "map_snapshot": snapshot,
            "discussed": discussed_out(consultation.discussed, audience),
        }
    )


async def bring_to_coaching(
    session: AsyncSession, consultation: Consultation, *, referral_id: uuid.UUID, brought_by: str
) -> BroughtToCoachingOut:
    """Send one consultation to a practice coaching referral, in the caller's transaction: its snapshot exactly as
    staff read it (`consultation_out`), who brought it, where to. The practice service checks the referral and the
    bringer when it applies the event."""
    snapshot = (await consultation_out(session, consultation, Audience.staff)).model_dump(mode="json")
    brought_at = utcnow()
    event = await emit(
        session,
        platform,
        subject=CONSULTATION_BROUGHT_TO_COACHING,
        case_id=consultation.case_id,
        data={
            "case_id": str(consultation.case_id),
            "consultation_id": str(consultation.id),
            "referral_id": str(referral_id),
            "brought_by": brought_by,
            "brought_at": brought_at.isoformat(),
            "snapshot": snapshot,
        },
    )
    return BroughtToCoachingOut(
        id=event.id,
        case_id=consultation.case_id,
        consultation_id=consultation.id,
        referral_id=referral_id,
        brought_by=brought_by,
        brought_at=brought_at,
    )


# --- approvals -----------------------------------------------------------------------------------------


async def request_approval(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    kind: ApprovalKind | str,
    subject_id: uuid.UUID,
    requested_by: str,
    summary: str,
    subject_version: int | None = None,
    approver_subject: str | None = None,
    source_service: str = LOCAL_SOURCE,
    subject_hash: str | None = None,
    decide_at: str | None = None,
    warnings: list[dict[str, Any]] | None = None,
) -> Approval:
    """Put something in the approval queue, with its history and event, in the caller's transaction.
    `warnings` are what the supervisor would ask about, as the requesting service said (a plan's).

    One pending approval per kind and subject: asking again while one waits is ApprovalAlreadyPending (409).
    """
    kind = ApprovalKind(kind)
    waiting = (
        await session.execute(
            select(col(Approval.id)).where(
                col(Approval.case_id) == case_id,
                col(Approval.kind) == kind,
                col(Approval.subject_id) == subject_id,
                col(Approval.status) == ApprovalStatus.pending,
            )
        )
    ).first()
    if waiting is not None:
        raise ApprovalAlreadyPending(
            "an approval of this is already waiting for a decision", approval_id=str(waiting[0])
        )
    approval = Approval(
        case_id=case_id,
        kind=kind,
        subject_id=subject_id,
        subject_version=subject_version,
        summary=summary.strip()[:1000],
        requested_by=requested_by,
        approver_subject=approver_subject,
        source_service=source_service,
        subject_hash=subject_hash,
        decide_at=decide_at,
        warnings=list(warnings or []),
    )
    session.add(approval)
    await session.flush()
    session.add(ApprovalEvent(approval_id=approval.id, action=ApprovalAction.requested, actor=requested_by))
    await session.flush()
    await emit(session, platform, subject=APPROVAL_REQUESTED, case_id=case_id, data=_approval_event(approval))
    return approval


def _approval_event(approval: Approval) -> dict[str, Any]:
    # Ids and labels only: the summary stays behind the case's access rules.
    return {
        "approval_id": str(approval.id),
        "case_id": str(approval.case_id),
        "kind": approval.kind.value,
        "source_service": approval.source_service,
        "subject_id": str(approval.subject_id),
        "subject_version": approval.subject_version,
        "subject_hash": approval.subject_hash,
        "decide_at": approval.decide_at,
        "status": approval.status.value,
        "approver_subject": approval.approver_subject,
        "decided_by": approval.decided_by,
        "version": approval.version,
    }


# handler(session, approval, app): `app` is the FastAPI app deciding (its state holds e.g. the SDM catalog).
DecisionHandler = Callable[[AsyncSession, Approval, Any], Awaitable[None]]
# Filled when the modules that own approvable things are imported (like routes: definitions, not state).
_DECISION_HANDLERS: dict[ApprovalKind, DecisionHandler] = {}


def decision_handler(kind: ApprovalKind | str) -> Callable[[DecisionHandler], DecisionHandler]:
    """Register how a decision made in the queue reaches the thing approved. The handler gets the session,
    the approval, already decided (`status` approved or returned, `decided_by`, `decision_comment`), and the
    app; raising a Problem refuses the decision and nothing is stored."""

    def register(handler: DecisionHandler) -> DecisionHandler:
        _DECISION_HANDLERS[ApprovalKind(kind)] = handler
        return handler

    return register


async def decide_approval(
    session: AsyncSession,
    approval: Approval,
    *,
    decision: str,
    comment: str | None,
    decided_by: str,
    expected_version: int,
    app: Any = None,
) -> Approval:
    """Approve, or return for edits (with a comment). A registered handler applies it to the thing approved
    in this transaction; the decision is announced (`sop.assessment.approval.decided`). Another service's
    item (a safety plan) is decided at that service (`decide_at`): 409 here."""
    check_version(approval.version, expected_version)
    _decided_here(approval)
    check_decision(
        status=approval.status,
        requested_by=approval.requested_by,
        decider=decided_by,
        decision=decision,
        comment=comment,
    )
    approval.status = ApprovalStatus(decision)
    approval.decided_by, approval.decided_at = decided_by, utcnow()
    approval.decision_comment = comment.strip() if comment else None
    await session.flush()  # decided before the handler runs, so its close_approval finds nothing pending
    handler = _DECISION_HANDLERS.get(approval.kind)
    if handler is not None:
        await handler(session, approval, app)
    return await _record(session, approval, ApprovalAction(decision), decided_by, comment, APPROVAL_DECIDED)


async def close_approval(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    kind: ApprovalKind | str,
    subject_id: uuid.UUID,
    decision: str,
    decided_by: str,
    comment: str | None = None,
) -> Approval | None:
    """Record in the queue a decision made where the thing lives (`decision`: approved | returned). Returns
    the approval closed, or None when none was pending (e.g. the queue itself made the decision)."""
    # Held to the case: an item another case filed under the same subject id is never closed from here.
    approval = (
        (
            await session.execute(
                select(Approval).where(
                    col(Approval.case_id) == case_id,
                    col(Approval.kind) == ApprovalKind(kind),
                    col(Approval.subject_id) == subject_id,
                    col(Approval.status) == ApprovalStatus.pending,
                )
            )
        )
        .scalars()
        .first()
    )
    if approval is None:
        return None
    approval.status = ApprovalStatus(decision)
    approval.decided_by, approval.decided_at = decided_by, utcnow()
    approval.decision_comment = comment.strip() if comment else None
    return await _record(session, approval, ApprovalAction(decision), decided_by, comment, APPROVAL_DECIDED)


async def resubmit_approval(
    session: AsyncSession, approval: Approval, *, comment: str | None, actor: str, expected_version: int
) -> Approval:
    check_version(approval.version, expected_version)
    if approval.status != ApprovalStatus.returned:
        raise ApprovalNotReturned(f"this approval is {approval.status.value}")
    _decided_here(approval)
    if approval.kind in _DECISION_HANDLERS:
        # e.g. an SDM override returned for edits: the worker asks again at the assessment, which files a new item
        raise ApprovalNotReturned(
            "this was returned to the record it is about; ask again there (a new request files a new approval)"
        )
    approval.status = ApprovalStatus.pending
    approval.decided_by = approval.decided_at = approval.decision_comment = None
    return await _record(session, approval, ApprovalAction.resubmitted, actor, comment, APPROVAL_RESUBMITTED)


def _decided_here(approval: Approval) -> None:
    if approval.source_service != LOCAL_SOURCE:
        where = f" at {approval.decide_at}" if approval.decide_at else ""
        raise DecidedElsewhere(
            f"the {approval.source_service} service decides this {approval.kind.value}{where}",
            decide_at=approval.decide_at,
        )


async def _record(
    session: AsyncSession, approval: Approval, action: ApprovalAction, actor: str, comment: str | None, subject: str
) -> Approval:
    approval.version += 1
    approval.updated_at = utcnow()
    session.add(approval)
    session.add(
        ApprovalEvent(approval_id=approval.id, action=action, actor=actor, comment=comment.strip() if comment else None)
    )
    await session.flush()
    await emit(session, platform, subject=subject, case_id=approval.case_id, data=_approval_event(approval))
    return approval


async def get_approval(session: AsyncSession, approval_id: uuid.UUID) -> Approval | None:
    return await session.get(Approval, approval_id)


async def list_approvals(
    session: AsyncSession,
    *,
    page: PageRequest,
    case_id: uuid.UUID | None = None,
    approver_subject: str | None = None,
    status: ApprovalStatus | None = None,
    kind: ApprovalKind | None = None,
) -> tuple[list[Approval], str | None]:
    query = select(Approval)
    if case_id is not None:
        query = query.where(col(Approval.case_id) == case_id)
    if approver_subject is not None:
        query = query.where(col(Approval.approver_subject) == approver_subject)
    if status is not None:
        query = query.where(col(Approval.status) == status)
    if kind is not None:
        query = query.where(col(Approval.kind) == kind)
    rows = list((await session.execute(page.apply(query, col(Approval.id)))).scalars())
    return page.page(rows)


async def approval_out(session: AsyncSession, approval: Approval) -> ApprovalOut:
    history = list(
        (
            await session.execute(
                select(ApprovalEvent)
                .where(col(ApprovalEvent.approval_id) == approval.id)
                .order_by(col(ApprovalEvent.id))
            )
        ).scalars()
    )
    return ApprovalOut.model_validate({**approval.model_dump(), "history": [event.model_dump() for event in history]})


# --- coaching referrals --------------------------------------------------------------------------------


async def create_referral(session: AsyncSession, body: CoachingReferralIn, *, referred_by: str) -> CoachingReferral:
    if not body.worker_subject and not body.unit:
        raise InvalidInput.field("worker_subject", "name the worker or the unit referred")
    referral = CoachingReferral(referred_by=referred_by, **body.model_dump())
    session.add(referral)
    await session.flush()
    await _referral_recorded(session, referral)
    return referral


# Coaching moved to the practice service (issue 15): every referral recorded here is announced whole, and the
# practice service keeps it with its history. The migration that moved them announced the earlier ones once.
REFERRAL_RECORDED = "sop.assessment.coaching_referral.recorded"


def referral_event_data(referral: CoachingReferral) -> dict[str, Any]:
    return {
        "referral_id": str(referral.id),
        "worker_subject": referral.worker_subject,
        "unit": referral.unit,
        "coaching_type": referral.coaching_type.value,
        "topic": referral.topic,
        "notes": referral.notes,
        "status": referral.status.value,
        "referred_by": referral.referred_by,
        "version": referral.version,
        "created_at": referral.created_at.isoformat(),
        "updated_at": referral.updated_at.isoformat(),
    }


async def _referral_recorded(session: AsyncSession, referral: CoachingReferral) -> None:
    await emit(session, platform, subject=REFERRAL_RECORDED, data=referral_event_data(referral))


async def update_referral(
    session: AsyncSession, referral: CoachingReferral, body: CoachingReferralUpdate, *, expected_version: int
) -> CoachingReferral:
    check_version(referral.version, expected_version)
    if body.status is not None:
        check_coaching_move(referral.status, body.status)
        referral.status = body.status
    if "notes" in body.model_fields_set:
        referral.notes = body.notes
    referral.version += 1
    referral.updated_at = utcnow()
    session.add(referral)
    await session.flush()
    await _referral_recorded(session, referral)
    return referral


async def list_referrals(
    session: AsyncSession,
    *,
    subject: str,
    page: PageRequest,
) -> tuple[list[CoachingReferral], str | None]:
    """The referrals a person made or is the subject of."""
    query = select(CoachingReferral).where(
        or_(col(CoachingReferral.referred_by) == subject, col(CoachingReferral.worker_subject) == subject)
    )
    rows = list((await session.execute(page.apply(query, col(CoachingReferral.id)))).scalars())
    return page.page(rows)
