"""Who may do what in the practice service: the policy table's practice actions (sop_shared.policy) and the
relationships this service holds (a worker's own record, a supervisor's unit, a coach's caseload)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_practice.models import CaseloadEntry, Practitioner
from sop_shared.auth import Principal
from sop_shared.policy import ActorType, PracticeAction, practice_actions
from sop_shared.problems import Forbidden


def actions_of(principal: Principal) -> frozenset[PracticeAction]:
    return practice_actions(principal.actor_type, principal.roles, principal.scopes)


def require_action(principal: Principal, action: PracticeAction) -> None:
    if action not in actions_of(principal):
        raise Forbidden(f"needs {action.value} in the practice service")


def may_read_people(principal: Principal) -> bool:
    return bool({PracticeAction.read_people, PracticeAction.manage_people} & actions_of(principal))


async def coach_covers(session: AsyncSession, coach_subject: str, worker: Practitioner) -> bool:
    """Whether the worker is on the coach's open caseload, by name or through their unit."""
    on_caseload = [col(CaseloadEntry.worker_subject) == worker.subject]
    if worker.unit is not None:
        on_caseload.append(col(CaseloadEntry.unit) == worker.unit)
    found = await session.execute(
        select(col(CaseloadEntry.id))
        .where(
            col(CaseloadEntry.coach_subject) == coach_subject,
            col(CaseloadEntry.ended_on).is_(None),
            or_(*on_caseload),
        )
        .limit(1)
    )
    return found.first() is not None


async def supervises(session: AsyncSession, principal: Principal, person: Practitioner) -> bool:
    """The person's named supervisor, or a supervisor registered in the person's unit."""
    if person.supervisor_subject == principal.subject:
        return True
    if "supervisor" not in principal.roles or person.unit is None:
        return False
    me = (await session.execute(select(Practitioner).where(col(Practitioner.subject) == principal.subject))).scalar()
    return me is not None and me.unit == person.unit and "supervisor" in me.roles


async def registered_supervisor_of(
    session: AsyncSession, subject: str, *, worker: Practitioner | None, unit: str | None
) -> bool:
    """By the registry alone (no token: e.g. who brought a consultation, named in an event): the worker's named
    supervisor, or an active supervisor registered in the worker's unit (a unit's referral: in that unit)."""
    if worker is not None and worker.supervisor_subject == subject:
        return True
    unit = worker.unit if worker is not None else unit
    if unit is None:
        return False
    me = (await session.execute(select(Practitioner).where(col(Practitioner.subject) == subject))).scalar()
    return me is not None and me.active and me.unit == unit and "supervisor" in me.roles


async def may_read_person(session: AsyncSession, principal: Principal, person: Practitioner, read_all: bool) -> bool:
    """A person and their training: themselves, their supervisor, their coach, or who may read everyone's."""
    if read_all:
        return True
    if principal.actor_type != ActorType.staff:
        return False
    if principal.subject == person.subject:
        return True
    if await supervises(session, principal, person):
        return True
    return "coach" in principal.roles and await coach_covers(session, principal.subject, person)
