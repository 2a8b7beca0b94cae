"""The case access decision for the calling principal."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from sop_network.access.service import decide_for
from sop_network.cases.service import read_case
from sop_network.schemas import AccessOut, CaseViewSlice
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_case
from sop_shared.db import SessionDep

router = APIRouter(prefix="/v1", tags=["access"])


@router.get("/cases/{case_id}/access", response_model=AccessOut)
async def get_case_access(case_id: uuid.UUID, request: Request, session: SessionDep,
                          principal: CurrentPrincipal) -> AccessOut:
    """May the caller act on this case, through which relationship, with which scopes? A case that does
    not exist answers exactly like one the caller may not see."""
    require_case(principal, case_id)
    decision = await decide_for(session, principal, case_id)
    await audit_request(request, session, principal, resource="case_access", action="decide", case_id=case_id,
                        fields=["allowed" if decision.allowed else "denied"])
    return AccessOut(case_id=case_id, subject=principal.subject, allowed=decision.allowed,
                     relationships=[r.value for r in decision.relationships],
                     scopes=sorted(s.value for s in decision.scopes))


@router.get("/cases/{case_id}/view", response_model=CaseViewSlice)
async def get_case_view_slice(case_id: uuid.UUID, request: Request, session: SessionDep,
                              principal: CurrentPrincipal) -> CaseViewSlice:
    """Bulk read for the gateway: the access decision and, only when allowed, the case with its people —
    so the case view costs one call to this service."""
    require_case(principal, case_id)
    decision = await decide_for(session, principal, case_id)
    access = AccessOut(case_id=case_id, subject=principal.subject, allowed=decision.allowed,
                       relationships=[r.value for r in decision.relationships],
                       scopes=sorted(s.value for s in decision.scopes))
    case = await read_case(session, case_id) if decision.allowed else None
    await audit_request(request, session, principal, resource="case", action="read" if case else "decide",
                        case_id=case_id, resource_id=case_id if case else None,
                        fields=[] if case else ["denied"])
    return CaseViewSlice(access=access, case=case)
