"""Safety plans in the supervisor's one queue: the plans service announces a submitted plan
(`sop.plans.safety_plan.approval_requested`) and its decision (`…approval_decided`); this service files and
closes the queue item. The decision itself is taken at the plans service (the item's `decide_at`).

Each consumer runs once per event id, in one transaction with the record that it ran (`EventConsumer`). The
two subjects are consumed separately, so a decision may arrive before its request: the decision then files
the item already closed, and the late request (older than that decision) is ignored.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.supervision.models import Approval, ApprovalAction, ApprovalEvent, ApprovalKind, ApprovalStatus
from sop_assessment.supervision.service import _record, close_approval, request_approval
from sop_shared.events import Event
from sop_shared.service import EventConsumer

PLAN_APPROVAL_REQUESTED = "sop.plans.safety_plan.approval_requested"
PLAN_APPROVAL_DECIDED = "sop.plans.safety_plan.approval_decided"
SOURCE = "plans"
# The plans service says `approved | requires_modification`; the queue says `approved | returned`.
DECISIONS = {"approved": ApprovalStatus.approved, "requires_modification": ApprovalStatus.returned}

log = structlog.get_logger("sop.assessment.plan_approvals")


def decide_at(data: dict[str, Any]) -> str:
    """The gateway path a supervisor decides at: case-scoped, which is what the REST façade authorises."""
    own = str(data.get("decide_at") or f"/v1/safety-plans/{data['plan_id']}/approve")
    return f"/api/plans/v1/cases/{data['case_id']}/{own.removeprefix('/v1/')}"


def _summary(data: dict[str, Any]) -> str:
    title = data.get("title") or "Safety plan"
    text = f'Safety plan ({data.get("plan_type", "plan")}) "{title}", version {data.get("version_number")}'
    if data.get("note"):
        text += f": {data['note']}"
    return text


async def _items(session: AsyncSession, case_id: uuid.UUID, plan_id: uuid.UUID) -> list[Approval]:
    return list(
        (
            await session.execute(
                select(Approval).where(
                    col(Approval.case_id) == case_id,
                    col(Approval.kind) == ApprovalKind.safety_plan,
                    col(Approval.subject_id) == plan_id,
                )
            )
        ).scalars()
    )


async def on_approval_requested(app: Any, session: AsyncSession, event: Event) -> None:
    data = event.data
    plan_id, version = uuid.UUID(data["plan_id"]), data.get("version_number")
    items = await _items(session, uuid.UUID(data["case_id"]), plan_id)
    if any(i.status == ApprovalStatus.pending for i in items):
        log.info("safety_plan_approval_already_queued", plan_id=str(plan_id))
        return
    if any(
        i.subject_version == version and i.decided_at is not None and i.decided_at >= event.occurred_at for i in items
    ):
        return  # its decision arrived first and filed the item closed
    await request_approval(
        session,
        case_id=uuid.UUID(data["case_id"]),
        kind=ApprovalKind.safety_plan,
        subject_id=plan_id,
        subject_version=version,
        subject_hash=data.get("content_hash"),
        requested_by=data["requested_by"],
        summary=_summary(data),
        approver_subject=data.get("supervisor"),
        source_service=SOURCE,
        decide_at=decide_at(data),
        warnings=plan_warnings(data),
    )


def plan_warnings(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan version's practice warnings the event carries (code, field, message); none from older events."""
    return [
        {"code": str(w.get("code")), "field": w.get("field"), "message": str(w.get("message"))}
        for w in data.get("warnings") or []
        if isinstance(w, dict)
    ]


async def on_approval_decided(app: Any, session: AsyncSession, event: Event) -> None:
    data = event.data
    plan_id = uuid.UUID(data["plan_id"])
    status = DECISIONS.get(data.get("decision", ""))
    if status is None:
        log.warning("safety_plan_decision_unknown", plan_id=str(plan_id), decision=data.get("decision"))
        return
    closed = await close_approval(
        session,
        case_id=uuid.UUID(data["case_id"]),
        kind=ApprovalKind.safety_plan,
        subject_id=plan_id,
        decision=status.value,
        decided_by=data["decided_by"],
        comment=data.get("comment"),
    )
    if closed is not None:
        closed.decided_at = event.occurred_at
        await session.flush()
        return
    # The request has not arrived yet: file the item already decided, so the queue shows what happened.
    approval = Approval(
        case_id=uuid.UUID(data["case_id"]),
        kind=ApprovalKind.safety_plan,
        subject_id=plan_id,
        subject_version=data.get("version_number"),
        subject_hash=data.get("content_hash"),
        summary=_summary(data),
        requested_by=data.get("requested_by") or SOURCE,
        source_service=SOURCE,
        decide_at=decide_at(data),
        warnings=plan_warnings(data),
        status=status,
        decided_by=data["decided_by"],
        decided_at=event.occurred_at,
    )
    session.add(approval)
    await session.flush()
    session.add(ApprovalEvent(approval_id=approval.id, action=ApprovalAction.requested, actor=approval.requested_by))
    await _record(
        session,
        approval,
        ApprovalAction(status.value),
        data["decided_by"],
        data.get("comment"),
        "sop.assessment.approval.decided",
    )


CONSUMERS = (
    EventConsumer(PLAN_APPROVAL_REQUESTED, "assessment-approval-queue-plan-requested", on_approval_requested),
    EventConsumer(PLAN_APPROVAL_DECIDED, "assessment-approval-queue-plan-decided", on_approval_decided),
)
