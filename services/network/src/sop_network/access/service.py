"""The case access decision: gather what this service knows about a case, then ask the policy table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.models import Case, CaseMember, NetworkMember, PartnerGrant, Person, StaffAssignment
from sop_network.safety_network.sharing import sharing_by_case
from sop_shared.auth import Principal, require_case_scope
from sop_shared.db import utcnow
from sop_shared.policy import (
    DEFAULT_SHARING,
    AccessDecision,
    ActorType,
    CaseAccessFacts,
    NetworkSharing,
    Scope,
    decide_case_access,
)
from sop_shared.policy import PartnerGrant as GrantFact
from sop_shared.policy import StaffAssignment as AssignmentFact
from sop_shared.problems import Forbidden, NotFound

FAMILY_ROLES = ("caregiver", "parent")


async def case_access_facts(
    session: AsyncSession, case_id: uuid.UUID, *, now: datetime, principal: Principal | None = None
) -> CaseAccessFacts:
    return (await many_case_access_facts(session, [case_id], now=now, principal=principal))[case_id]


async def many_case_access_facts(
    session: AsyncSession, case_ids: list[uuid.UUID], *, now: datetime, principal: Principal | None = None
) -> dict[uuid.UUID, CaseAccessFacts]:
    """The facts for many cases in five queries whatever the count (the bulk reads use this)."""
    existing = {row[0] for row in (await session.execute(select(col(Case.id)).where(col(Case.id).in_(case_ids)))).all()}
    ids = list(existing)
    assignments: dict[uuid.UUID, list[AssignmentFact]] = {}
    grants: dict[uuid.UUID, list[GrantFact]] = {}
    members: dict[uuid.UUID, dict[str, MemberLogin]] = {}
    sharing: dict[uuid.UUID, NetworkSharing] = {}
    if ids:
        for a in (
            await session.execute(select(StaffAssignment).where(col(StaffAssignment.case_id).in_(ids)))
        ).scalars():
            assignments.setdefault(a.case_id, []).append(AssignmentFact(a.staff_subject, a.role.value, a.active))
        for g in (await session.execute(select(PartnerGrant).where(col(PartnerGrant.case_id).in_(ids)))).scalars():
            grants.setdefault(g.case_id, []).append(
                GrantFact(
                    g.agency,
                    frozenset(g.scopes),
                    g.expires_at,
                    g.revoked_at,
                    audience=g.audience,
                    purpose=g.purpose,
                    grant_id=g.id,
                )
            )
        if principal is None or principal.actor_type in (ActorType.family, ActorType.network):
            members = await _member_subjects(session, ids, now, principal.subject if principal else None)
        sharing = await sharing_by_case(session, ids)
    return {
        case_id: CaseAccessFacts(
            case_id=case_id,
            exists=case_id in existing,
            assignments=tuple(assignments.get(case_id, ())),
            grants=tuple(grants.get(case_id, ())),
            member_subjects={s: m.kind for s, m in members.get(case_id, {}).items()},
            member_people={s: m.person_id for s, m in members.get(case_id, {}).items()},
            network_sharing=sharing.get(case_id, DEFAULT_SHARING),
        )
        for case_id in case_ids
    }


@dataclass(frozen=True)
class MemberLogin:
    """Who a member login is on one case: family or network, and the person record it is bound to."""

    kind: str
    person_id: uuid.UUID


async def _member_subjects(
    session: AsyncSession, case_ids: list[uuid.UUID], now: datetime, subject: str | None
) -> dict[uuid.UUID, dict[str, MemberLogin]]:
    """Who logs in as a member of this case: active caregivers/parents (family) and active safety-network
    members within their active dates (network). A merged-away record speaks for no one."""
    subjects: dict[uuid.UUID, dict[str, MemberLogin]] = {}
    family = (
        select(col(CaseMember.case_id), col(Person.principal_subject), col(Person.id))
        .join(CaseMember, col(CaseMember.person_id) == col(Person.id))
        .where(
            col(CaseMember.case_id).in_(case_ids),
            col(CaseMember.active).is_(True),
            col(CaseMember.role).in_(FAMILY_ROLES),
            col(Person.principal_subject).is_not(None),
            col(Person.merged_into_id).is_(None),
        )
    )
    today = now.date()
    network = (
        select(col(NetworkMember.case_id), col(Person.principal_subject), col(Person.id))
        .join(NetworkMember, col(NetworkMember.person_id) == col(Person.id))
        .where(
            col(NetworkMember.case_id).in_(case_ids),
            col(Person.principal_subject).is_not(None),
            col(Person.merged_into_id).is_(None),
            or_(col(NetworkMember.active_from).is_(None), col(NetworkMember.active_from) <= today),
            or_(col(NetworkMember.active_to).is_(None), col(NetworkMember.active_to) >= today),
        )
    )
    if subject is not None:
        family = family.where(col(Person.principal_subject) == subject)
        network = network.where(col(Person.principal_subject) == subject)
    for audience, query in (("network", network), ("family", family)):  # family last: it wins for a person in both
        for case_id, s, person_id in (await session.execute(query)).all():
            # both queries keep principal_subject IS NOT NULL
            subjects.setdefault(case_id, {})[cast(str, s)] = MemberLogin(audience, person_id)
    return subjects


async def decide_for(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, now: datetime | None = None
) -> AccessDecision:
    return (await decide_many(session, principal, [case_id], now))[case_id]


async def decide_many(
    session: AsyncSession, principal: Principal, case_ids: list[uuid.UUID], now: datetime | None = None
) -> dict[uuid.UUID, AccessDecision]:
    now = now or utcnow()
    facts = await many_case_access_facts(session, case_ids, now=now, principal=principal)
    return {
        case_id: decide_case_access(
            actor_type=principal.actor_type,
            subject=principal.subject,
            roles=principal.roles,
            agency=principal.agency,
            token_scopes=principal.scopes,
            facts=f,
            now=now,
        )
        for case_id, f in facts.items()
    }


async def authorize(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, scope: Scope, now: datetime | None = None
) -> AccessDecision:
    """The token must be for this case with this scope, and this service's own decision must agree
    (defence in depth: the gateway's cached decision may be seconds old, this one is not)."""
    require_case_scope(principal, case_id, scope)
    decision = await decide_for(session, principal, case_id, now)
    if not decision.allowed:
        raise NotFound("no such case")
    if scope not in decision.scopes:
        raise Forbidden(f"this operation needs the {scope.value} scope")
    return decision
