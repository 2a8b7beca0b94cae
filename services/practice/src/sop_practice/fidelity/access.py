"""Who may read which fidelity measures (the policy table's `fidelity:read-all`, and the relationships this
service holds): a supervisor their own unit and its workers, a coach the units and workers on their caseload.
A county, or the whole state, only with `fidelity:read-all` (practice leads, the training coordinator)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_practice.access import actions_of, coach_covers, supervises
from sop_practice.fidelity.service import Scope
from sop_practice.models import CaseloadEntry
from sop_practice.people.service import find_person
from sop_shared.auth import Principal
from sop_shared.policy import ActorType, PracticeAction


async def coach_has_unit(session: AsyncSession, coach_subject: str, unit: str) -> bool:
    found = await session.execute(
        select(col(CaseloadEntry.id))
        .where(
            col(CaseloadEntry.coach_subject) == coach_subject,
            col(CaseloadEntry.unit) == unit,
            col(CaseloadEntry.ended_on).is_(None),
        )
        .limit(1)
    )
    return found.first() is not None


async def may_read_fidelity(session: AsyncSession, principal: Principal, scope: Scope) -> bool:
    if PracticeAction.read_all_fidelity in actions_of(principal):
        return True
    if principal.actor_type != ActorType.staff or scope.county is not None:
        return False
    if scope.unit is None and scope.worker is None:
        return False  # the whole state
    coach = "coach" in principal.roles
    if scope.unit is not None:
        me = await find_person(session, principal.subject)
        own_unit = (
            me is not None and me.unit == scope.unit and "supervisor" in me.roles and "supervisor" in principal.roles
        )
        if not own_unit and not (coach and await coach_has_unit(session, principal.subject, scope.unit)):
            return False
    if scope.worker is not None:
        worker = await find_person(session, scope.worker)
        if worker is None:
            return False
        if not await supervises(session, principal, worker) and not (
            coach and await coach_covers(session, principal.subject, worker)
        ):
            return False
    return True
