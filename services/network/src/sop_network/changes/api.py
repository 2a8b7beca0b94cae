"""The change feed: every change since your cursor, in commit order, each exactly once."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlmodel import col

from sop_network.cases.reporting import REPORTING_FACTS
from sop_network.changes.service import read_changes
from sop_network.models import StaffAssignment
from sop_network.schemas import ChangeOut, ChangesPage
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal
from sop_shared.db import SessionDep
from sop_shared.pagination import MAX_LIMIT, decode_sequence_cursor, encode_sequence_cursor
from sop_shared.policy import ActorType, Scope
from sop_shared.problems import Forbidden
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["changes"])

# Announced for other services (the practice service's outcomes), not for a worker's device.
STAFF_FEED_LEAVES_OUT: tuple[str, ...] = (REPORTING_FACTS,)


@router.get("/changes", response_model=ChangesPage, dependencies=[known_query_params("cursor", "limit")])
async def changes(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    cursor: Annotated[str | None, Query(description="next_cursor of your last page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> ChangesPage:
    """Changes after `cursor` (from the beginning without one), oldest first. SACWIS (cases:sync) sees every
    change; a staff member sees the changes of the cases they are assigned to, without the case's reporting facts
    (`sop.network.case.reporting_facts`, announced for the practice service's outcomes, not for devices). Keep the
    `next_cursor` and come back: a change committed later always sorts after it, so nothing is skipped or
    repeated."""
    after = decode_sequence_cursor(cursor) if cursor else 0
    case_ids: list[uuid.UUID] | None = None
    leaving_out: tuple[str, ...] = ()
    if principal.actor_type == ActorType.staff:
        case_ids = [
            row[0]
            for row in (
                await session.execute(
                    select(col(StaffAssignment.case_id)).where(
                        col(StaffAssignment.staff_subject) == principal.subject, col(StaffAssignment.active).is_(True)
                    )
                )
            ).all()
        ]
        leaving_out = STAFF_FEED_LEAVES_OUT
    elif not (principal.actor_type == ActorType.integration and principal.has_scope(Scope.cases_sync)):
        raise Forbidden("the change feed is for SACWIS and staff devices")
    rows = await read_changes(session, after=after, limit=limit, case_ids=case_ids, leaving_out=leaving_out)
    rows = rows[:limit]
    await audit_request(
        request, session, principal, resource="change_feed", action="read", fields=[f"{len(rows)} changes"]
    )
    return ChangesPage(
        items=[
            ChangeOut(
                seq=r.seq,
                event_id=r.event_id,
                subject=r.subject,
                case_id=r.case_id,
                occurred_at=r.occurred_at,
                data=r.payload,
            )
            for r in rows
        ],
        next_cursor=encode_sequence_cursor(rows[-1].seq if rows else after),
    )
