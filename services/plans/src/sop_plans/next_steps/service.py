"""Next steps (case-plan actions): who does what by when, for which safety goal; and which are overdue."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.models import NextStep, NextStepStatus, platform
from sop_plans.schemas import NextStepIn, NextStepOut, NextStepPatch, PersonRef
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.problems import InvalidInput

SUBJECT = "sop.plans.next_step."
OPEN_STATUSES = (NextStepStatus.open, NextStepStatus.in_progress)


def is_overdue(step: NextStep, today: date) -> bool:
    return step.status in OPEN_STATUSES and step.due_on < today


async def create_next_step(
    session: AsyncSession, *, case_id: uuid.UUID, body: NextStepIn, by: str, now: datetime
) -> NextStep:
    step = NextStep(
        case_id=case_id,
        action=body.action,
        owner_name=body.owner.name,
        owner_person_id=body.owner.person_id,
        owner_kind=body.owner_kind,
        due_on=body.due_on,
        goal_id=body.goal_id,
        safety_plan_id=body.safety_plan_id,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(step)
    await session.flush()
    await _emit(session, step, "created")
    return step


async def update_next_step(session: AsyncSession, step: NextStep, body: NextStepPatch, *, now: datetime) -> NextStep:
    fields = body.model_fields_set
    nulls = [
        name
        for name in ("action", "owner", "owner_kind", "due_on", "status")
        if name in fields and getattr(body, name) is None
    ]
    if nulls:
        raise InvalidInput([{"field": name, "message": "cannot be empty"} for name in nulls])
    if not fields:
        raise InvalidInput.field("body", "nothing to change")
    if body.action is not None:
        step.action = body.action
    if body.owner is not None:
        step.owner_name, step.owner_person_id = body.owner.name, body.owner.person_id
    if body.owner_kind is not None:
        step.owner_kind = body.owner_kind
    if body.due_on is not None:
        step.due_on = body.due_on
    if "goal_id" in fields:
        step.goal_id = body.goal_id
    if body.status is not None and body.status != step.status:
        step.status = body.status
        step.completed_at = now if body.status == NextStepStatus.done else None
    step.version += 1
    step.updated_at = now
    await session.flush()
    await _emit(session, step, "updated", changed=sorted(fields))
    return step


async def get_next_step(session: AsyncSession, step_id: uuid.UUID, *, for_update: bool = False) -> NextStep | None:
    query = select(NextStep).where(col(NextStep.id) == step_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_next_steps(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    status: NextStepStatus | None,
    overdue_on: date | None,
    page: PageRequest,
) -> tuple[list[NextStep], str | None]:
    query = select(NextStep).where(col(NextStep.case_id) == case_id)
    if status is not None:
        query = query.where(col(NextStep.status) == status)
    if overdue_on is not None:
        query = query.where(col(NextStep.status).in_(OPEN_STATUSES), col(NextStep.due_on) < overdue_on)
    rows = list((await session.execute(page.apply(query, col(NextStep.id)))).scalars())
    return page.page(rows)


def next_step_out(step: NextStep, today: date) -> NextStepOut:
    return NextStepOut(
        id=step.id,
        case_id=step.case_id,
        action=step.action,
        owner=PersonRef(name=step.owner_name, person_id=step.owner_person_id),
        owner_kind=step.owner_kind,
        due_on=step.due_on,
        status=step.status,
        overdue=is_overdue(step, today),
        goal_id=step.goal_id,
        safety_plan_id=step.safety_plan_id,
        completed_at=step.completed_at,
        version=step.version,
        created_by=step.created_by,
        created_at=step.created_at,
        updated_at=step.updated_at,
    )


async def _emit(session: AsyncSession, step: NextStep, event: str, **data: object) -> None:
    await emit(
        session,
        platform,
        subject=SUBJECT + event,
        case_id=step.case_id,
        data={
            "next_step_id": str(step.id),
            "case_id": str(step.case_id),
            "status": step.status.value,
            "due_on": step.due_on.isoformat(),
            "goal_id": str(step.goal_id) if step.goal_id else None,
            **data,
        },
    )
