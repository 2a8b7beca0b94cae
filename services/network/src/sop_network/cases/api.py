"""Cases: the SACWIS upsert and the case read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from sop_network.access.service import decide_for
from sop_network.cases.service import read_case, upsert_case_from_sacwis
from sop_network.schemas import CaseOut, CaseUpsert
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_case, require_scope
from sop_shared.clock import Now
from sop_shared.concurrency import parse_if_match, set_etag
from sop_shared.db import SessionDep
from sop_shared.policy import Scope
from sop_shared.problems import NotFound

router = APIRouter(prefix="/v1", tags=["cases"])

ExternalSystem = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
ExternalId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.put(
    "/cases/by-external/{system}/{external_id}",
    response_model=CaseOut,
    responses={200: {"description": "updated or unchanged"}, 201: {"description": "created"}},
)
async def upsert_case_by_external_id(
    system: ExternalSystem,
    external_id: ExternalId,
    body: CaseUpsert,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> CaseOut:
    """Idempotent upsert from SACWIS: the same payload again changes nothing. `If-Match` is optional here
    (SACWIS is the system of record for these fields); when sent, a stale version is refused."""
    require_scope(principal, Scope.cases_sync)
    expected = parse_if_match(if_match) if if_match else None
    case, created, changed = await upsert_case_from_sacwis(
        session, system=system, external_id=external_id, body=body, expected_version=expected
    )
    await audit_request(
        request,
        session,
        principal,
        resource="case",
        case_id=case.id,
        resource_id=case.id,
        action="create" if created else ("update" if changed else "read"),
    )
    result = await read_case(session, case.id)
    assert result is not None
    response.status_code = 201 if created else 200
    set_etag(response, result.version)
    return result


@router.get("/cases/{case_id}", response_model=CaseOut)
async def get_case(
    case_id: uuid.UUID, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal, now: Now
) -> CaseOut:
    require_case(principal, case_id)
    # Defence in depth: this service owns the access decision, so it checks it again itself.
    decision = await decide_for(session, principal, case_id, now)
    if not decision.allowed:
        raise NotFound("no such case")
    case = await read_case(session, case_id, decision.audiences)
    if case is None:
        raise NotFound("no such case")
    await audit_request(
        request, session, principal, resource="case", action="read", case_id=case_id, resource_id=case_id
    )
    set_etag(response, case.version)
    return case
