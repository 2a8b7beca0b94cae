"""The case access decision for the calling principal, and the case view slice built on it."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from sop_network.access.service import decide_for
from sop_network.access.view import decide_on_rows, read_case_rows, slice_dict
from sop_network.models import Person
from sop_network.schemas import AccessOut, CaseViewSlice, NetworkSeesOut
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, require_case
from sop_shared.clock import Now
from sop_shared.db import ReadSessionDep
from sop_shared.plain_answers import json_response
from sop_shared.policy import AccessDecision

router = APIRouter(prefix="/v1", tags=["access"])


def access_out(
    case_id: uuid.UUID, principal: Principal, decision: AccessDecision, *, language: str | None = None
) -> AccessOut:
    return AccessOut(
        case_id=case_id,
        subject=principal.subject,
        allowed=decision.allowed,
        relationships=[r.value for r in decision.relationships],
        scopes=sorted(s.value for s in decision.scopes),
        audiences=sorted(a.value for a in decision.audiences),
        person_id=decision.person_id,
        language=language,
        network_sees=NetworkSeesOut(
            sections=sorted(decision.network_sharing.sections),
            statement_ids=sorted(decision.network_sharing.statement_ids),
        )
        if decision.allowed and decision.network_sharing
        else None,
    )


async def member_access_out(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal, decision: AccessDecision
) -> AccessOut:
    """The decision, and for a family or network member the person they are and the language they read."""
    person = await session.get(Person, decision.person_id) if decision.person_id is not None else None
    return access_out(case_id, principal, decision, language=person.preferred_language if person else None)


@router.get("/cases/{case_id}/access", response_model=AccessOut)
async def get_case_access(
    case_id: uuid.UUID, request: Request, session: ReadSessionDep, principal: CurrentPrincipal, now: Now
) -> AccessOut:
    """May the caller act on this case, through which relationship, with which scopes? A case that does
    not exist answers exactly like one the caller may not see. Grants are judged against this service's
    clock at this moment: an expired or revoked grant is denied here at once."""
    require_case(principal, case_id)
    decision = await decide_for(session, principal, case_id, now)
    await audit_request(
        request,
        session,
        principal,
        resource="case_access",
        action="decide",
        case_id=case_id,
        fields=["allowed" if decision.allowed else "denied"],
    )
    return await member_access_out(session, case_id, principal, decision)


@router.get("/cases/{case_id}/view", response_model=CaseViewSlice)
async def get_case_view_slice(
    case_id: uuid.UUID, request: Request, session: ReadSessionDep, principal: CurrentPrincipal, now: Now
) -> Response:
    """Bulk read for the gateway: the access decision and, only when allowed, the case with its people and
    its safety network — so the case view costs one call to this service."""
    require_case(principal, case_id)
    rows = (await read_case_rows(session, [case_id]))[case_id]
    view = slice_dict(principal, case_id, rows, decide_on_rows(principal, case_id, rows, now))
    await audit_request(
        request,
        session,
        principal,
        resource="case",
        action="read" if view["case"] else "decide",
        case_id=case_id,
        resource_id=case_id if view["case"] else None,
        fields=[] if view["case"] else ["denied"],
    )
    return json_response(view)
