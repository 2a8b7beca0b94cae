"""Storage side of the outcome measures: the safety plans in force learnt from the plans service's events, and the
histories of the cases in a scope (SACWIS reports and removals, plans), read a chunk at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.models import Case, CaseRemoval, CaseReport, StaffAssignment
from sop_network.outcomes import rules
from sop_network.outcomes.models import PlanInForce
from sop_shared.db import utcnow
from sop_shared.events import Event
from sop_shared.service import EventConsumer

PLAN_ACTIVATED = "sop.plans.safety_plan.activated"
PLAN_ENDED = ("sop.plans.safety_plan.terminated", "sop.plans.safety_plan.expired")
PLAN_SUBJECTS = (PLAN_ACTIVATED, *PLAN_ENDED)
CHUNK = 500


def _day(value: Any, fallback: datetime) -> date:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            pass
    return fallback.date()


def plan_span_change(subject: str, data: dict[str, Any], occurred_at: datetime) -> dict[str, date]:
    """What one plan event says of the plan's time in force: its start (activation) or its end (the moment it
    was terminated, or the expiry it reached)."""
    if subject == PLAN_ACTIVATED:
        return {"started_on": occurred_at.date()}
    if subject.endswith(".expired"):
        return {"ended_on": _day(data.get("expired_at"), occurred_at)}
    return {"ended_on": occurred_at.date()}


async def apply_plan_event(session: AsyncSession, event: Event) -> bool:
    """Fold one plan event into `plan_in_force`: idempotent and order-tolerant (the earliest start and the
    earliest end win, so a replay, a duplicate or a late activation changes nothing it should not)."""
    try:
        plan_id = uuid.UUID(str(event.data["plan_id"]))
        case_id = event.case_id or uuid.UUID(str(event.data["case_id"]))
    except (KeyError, ValueError):
        return False
    change = plan_span_change(event.subject, event.data, event.occurred_at)
    row = await session.get(PlanInForce, plan_id)
    if row is None:
        row = PlanInForce(plan_id=plan_id, case_id=case_id, plan_type=str(event.data.get("plan_type") or "unknown"))
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:  # another delivery made it first
            row = await session.get(PlanInForce, plan_id, populate_existing=True)
            if row is None:
                return False
    for name, day in change.items():
        current = getattr(row, name)
        if current is None or day < current:
            setattr(row, name, day)
            row.updated_at = utcnow()
    return True


def plan_consumers() -> list[EventConsumer]:
    async def on_event(app: FastAPI, session: AsyncSession, event: Event) -> None:
        await apply_plan_event(session, event)

    return [
        EventConsumer(subject, "network-outcomes-" + subject.removeprefix("sop.").replace(".", "-"), on_event)
        for subject in PLAN_SUBJECTS
    ]


# --- the cases in a scope -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeScope:
    unit: str | None = None
    county: str | None = None


def cases_in(scope: OutcomeScope) -> Select[Any]:
    """The ids of the cases in scope: a unit's are those with staff of the unit assigned (now or before)."""
    query = select(col(Case.id))
    if scope.county is not None:
        query = query.where(col(Case.county) == scope.county)
    if scope.unit is not None:
        query = query.where(
            col(Case.id).in_(select(col(StaffAssignment.case_id)).where(col(StaffAssignment.unit) == scope.unit))
        )
    return query.order_by(col(Case.id))


async def count_cases(session: AsyncSession, scope: OutcomeScope) -> int:
    return int((await session.execute(select(func.count()).select_from(cases_in(scope).subquery()))).scalar_one())


async def case_id_chunks(session: AsyncSession, scope: OutcomeScope) -> AsyncIterator[list[uuid.UUID]]:
    """The case ids in scope, `CHUNK` at a time (keyset paging on the id)."""
    last: uuid.UUID | None = None
    while True:
        query = cases_in(scope)
        if last is not None:
            query = query.where(col(Case.id) > last)
        ids = list((await session.execute(query.limit(CHUNK))).scalars())
        if not ids:
            return
        yield ids
        last = ids[-1]


async def histories(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> list[rules.CaseHistory]:
    """Each case's history: active reports and removals (as SACWIS lists them now) and the plans in force."""
    cases = (await session.execute(select(Case).where(col(Case.id).in_(case_ids)))).scalars().all()
    reports: dict[uuid.UUID, list[rules.Report]] = {}
    for r in (
        await session.execute(
            select(CaseReport).where(col(CaseReport.case_id).in_(case_ids), col(CaseReport.active).is_(True))
        )
    ).scalars():
        reports.setdefault(r.case_id, []).append(rules.Report(r.received_on, r.screened_in))
    removals: dict[uuid.UUID, list[rules.Removal]] = {}
    for v in (
        await session.execute(
            select(CaseRemoval).where(col(CaseRemoval.case_id).in_(case_ids), col(CaseRemoval.active).is_(True))
        )
    ).scalars():
        removals.setdefault(v.case_id, []).append(rules.Removal(v.removed_on, v.discharged_on, v.discharge_reason))
    plans: dict[uuid.UUID, list[rules.PlanSpan]] = {}
    for p in (await session.execute(select(PlanInForce).where(col(PlanInForce.case_id).in_(case_ids)))).scalars():
        plans.setdefault(p.case_id, []).append(rules.PlanSpan(p.plan_type, p.started_on, p.ended_on))
    return [
        rules.CaseHistory(
            c.id, c.opened_on, c.closed_on, reports.get(c.id, []), removals.get(c.id, []), plans.get(c.id, [])
        )
        for c in cases
    ]


async def outcome_tally(
    session: AsyncSession, scope: OutcomeScope, period: tuple[date, date], as_of: date, after_days: int
) -> rules.Tally:
    total = rules.Tally()
    async for ids in case_id_chunks(session, scope):
        rules.tally(await histories(session, ids), period, as_of, after_days, into=total)
    return total
