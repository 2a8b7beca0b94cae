"""The caseload: cases filtered by assignment, county, status and recency, keyset-paged by id.

Every filter is an index range ending in `id` (see models: ix_case_status_id, ix_case_county_status_id,
ix_staff_assignment_subject_case), so a page costs the same at a million cases as at a thousand.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.models import Case, CaseStatus, StaffAssignment
from sop_shared.auth import Principal
from sop_shared.pagination import PageRequest
from sop_shared.policy import ActorType, Scope
from sop_shared.problems import Forbidden


def _assigned(subject: str) -> Any:
    return select(col(StaffAssignment.case_id)).where(
        col(StaffAssignment.staff_subject) == subject, col(StaffAssignment.active).is_(True)
    )


def caseload_visibility(principal: Principal) -> str | None:
    """Whose cases the caller may list: their own (staff: the cases they are assigned to — a supervisor is
    assigned to their unit's cases by SACWIS) or everyone's (integration with cases:sync). None: all."""
    if principal.actor_type == ActorType.staff:
        return principal.subject
    if principal.actor_type == ActorType.integration and principal.has_scope(Scope.cases_sync):
        return None
    raise Forbidden("only staff and the SACWIS integration list caseloads")


async def list_caseload(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    assigned_to: str | None,
    county: str | None,
    status: CaseStatus | None,
    updated_since: datetime | None,
) -> list[Case]:
    visible_to = caseload_visibility(principal)
    query = select(Case)
    if visible_to is not None:
        query = query.where(col(Case.id).in_(_assigned(visible_to)))
    if assigned_to is not None and assigned_to != visible_to:
        query = query.where(col(Case.id).in_(_assigned(assigned_to)))
    if county is not None:
        query = query.where(col(Case.county) == county)
    if status is not None:
        query = query.where(col(Case.status) == status)
    if updated_since is not None:
        query = query.where(col(Case.updated_at) >= updated_since)
    return list((await session.execute(page.apply(query, col(Case.id)))).scalars())


def case_ids_of(rows: list[Case]) -> list[uuid.UUID]:
    return [c.id for c in rows]


async def case_id_by_external_id(session: AsyncSession, system: str, external_id: str) -> uuid.UUID | None:
    """The case SACWIS knows as (system, external_id): one probe of the unique index, or None."""
    return (
        await session.execute(
            select(col(Case.id)).where(col(Case.external_system) == system, col(Case.external_id) == external_id)
        )
    ).scalar_one_or_none()
