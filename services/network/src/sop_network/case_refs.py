"""What the ids in a network request may name, within the request's case (see `sop_shared.case_refs`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.models import CaseMember, NetworkMember, case_entities
from sop_shared.case_refs import STATEMENTS, CaseEntityFeed, CaseRefResolvers, KnownEntities, rows_in_case, the_case

# The assessment's statements, learnt from its events: a family opens a harm statement to their network by id.
ENTITY_FEEDS: tuple[CaseEntityFeed, ...] = STATEMENTS


async def people_in_case(
    session: AsyncSession, case_id: uuid.UUID, ids: frozenset[uuid.UUID], body: Mapping[str, Any]
) -> set[uuid.UUID]:
    """A person of the case: a member of the case (from SACWIS, ended or not) or of its safety network."""
    members = select(col(CaseMember.person_id)).where(
        col(CaseMember.case_id) == case_id, col(CaseMember.person_id).in_(ids)
    )
    network = select(col(NetworkMember.person_id)).where(
        col(NetworkMember.case_id) == case_id, col(NetworkMember.person_id).in_(ids)
    )
    return set((await session.execute(members.union(network))).scalars())


def case_refs(*, grace_seconds: float) -> tuple[CaseRefResolvers, KnownEntities]:
    known = KnownEntities(case_entities, grace_seconds=grace_seconds)
    resolvers = CaseRefResolvers(
        {
            "case": the_case(),
            "person": people_in_case,
            "network_member": rows_in_case(col(NetworkMember.id), col(NetworkMember.case_id)),
            "statement": known.resolver("statement"),
        }
    )
    return resolvers, known
