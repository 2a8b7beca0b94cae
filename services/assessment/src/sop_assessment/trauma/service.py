"""Trauma-history operations: record, change (content or consent), and show each record as the asking audience
may see it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.models import platform
from sop_assessment.trauma import rules
from sop_assessment.trauma.models import TraumaHistory
from sop_assessment.trauma.schemas import PersonIn, TraumaHistoryIn, TraumaHistoryOut, TraumaHistoryPatch, TriggerOut
from sop_shared.db import utcnow
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.policy import Audience
from sop_shared.problems import NotFound

SUBJECT = "sop.assessment.trauma_history."


class TraumaHistoryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such trauma history")


async def _event(session: AsyncSession, record: TraumaHistory, event: str) -> None:
    # Nothing of the history travels on the bus: ids, the role, the consent and the triggers' ids and count only
    # (the plans service asks each plan to say how it avoids them).
    await emit(
        session,
        platform,
        subject=SUBJECT + event,
        case_id=record.case_id,
        data={
            "trauma_history_id": str(record.id),
            "case_id": str(record.case_id),
            "person_role": record.person_role.value,
            "consented_audiences": list(record.consented_audiences),
            "version": record.version,
            **rules.trigger_facts(record),
        },
    )


async def create_history(
    session: AsyncSession, *, case_id: uuid.UUID, body: TraumaHistoryIn, created_by: str
) -> TraumaHistory:
    record = TraumaHistory(
        case_id=case_id,
        person_name=body.person.name,
        person_id=body.person.person_id,
        person_role=body.person_role,
        history=body.history,
        triggers=rules.with_trigger_ids([t.model_dump(mode="json") for t in body.triggers]),
        consented_audiences=[a.value for a in body.consented_audiences],
        consent_note=body.consent_note,
        created_by=created_by,
    )
    session.add(record)
    await session.flush()
    await _event(session, record, "recorded")
    return record


async def list_histories(
    session: AsyncSession, *, case_id: uuid.UUID, page: PageRequest | None = None
) -> tuple[list[TraumaHistory], str | None]:
    query = select(TraumaHistory).where(col(TraumaHistory.case_id) == case_id)
    if page is None:
        return list((await session.execute(query.order_by(col(TraumaHistory.id)))).scalars()), None
    rows = list((await session.execute(page.apply(query, col(TraumaHistory.id)))).scalars())
    return page.page(rows)


async def update_history(session: AsyncSession, record: TraumaHistory, body: TraumaHistoryPatch) -> TraumaHistory:
    changes: dict[str, Any] = {}
    if body.history is not None:
        changes["history"] = body.history
    if body.triggers is not None:
        changes["triggers"] = rules.with_trigger_ids(
            [t.model_dump(mode="json") for t in body.triggers], record.triggers
        )
    if body.consented_audiences is not None:
        changes["consented_audiences"] = sorted({a.value for a in body.consented_audiences})
    if "consent_note" in body.model_fields_set:
        changes["consent_note"] = body.consent_note
    for name, value in changes.items():
        setattr(record, name, value)
    record.version += 1
    record.updated_at = utcnow()
    await _event(session, record, "updated")
    return record


def history_out(record: TraumaHistory, audience: Audience) -> TraumaHistoryOut:
    """The record as `audience` may see it: all of it with a consent naming the audience, else only that it exists."""
    if not rules.may_see_history(audience, record.consented_audiences):
        return TraumaHistoryOut(
            id=record.id,
            case_id=record.case_id,
            person_role=record.person_role,
            restricted=True,
            created_at=record.created_at,
        )
    return TraumaHistoryOut(
        id=record.id,
        case_id=record.case_id,
        person_role=record.person_role,
        restricted=False,
        created_at=record.created_at,
        person=PersonIn(name=record.person_name, person_id=record.person_id),
        history=record.history,
        triggers=[TriggerOut.model_validate(t) for t in record.triggers],
        consented_audiences=list(record.consented_audiences),
        consent_note=record.consent_note,
        created_by=record.created_by,
        version=record.version,
        updated_at=record.updated_at,
    )
