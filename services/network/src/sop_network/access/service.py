"""The case access decision: gather what this service knows about a case, then ask the policy table."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sop_network.models import Case, StaffAssignment
from sop_shared.auth import Principal
from sop_shared.db import utcnow
from sop_shared.policy import AccessDecision, CaseAccessFacts, decide_case_access
from sop_shared.policy import StaffAssignment as AssignmentFact


async def case_access_facts(session: AsyncSession, case_id: uuid.UUID) -> CaseAccessFacts:
    exists = (await session.execute(select(Case.id).where(Case.id == case_id))).first() is not None
    if not exists:
        return CaseAccessFacts(case_id=case_id, exists=False)
    assignments = (await session.execute(
        select(StaffAssignment).where(StaffAssignment.case_id == case_id))).scalars()
    return CaseAccessFacts(
        case_id=case_id, exists=True,
        assignments=tuple(AssignmentFact(a.staff_subject, a.role.value, a.active) for a in assignments),
    )


async def decide_for(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> AccessDecision:
    facts = await case_access_facts(session, case_id)
    return decide_case_access(
        actor_type=principal.actor_type, subject=principal.subject, roles=principal.roles,
        agency=principal.agency, token_scopes=principal.scopes, facts=facts, now=utcnow(),
    )
