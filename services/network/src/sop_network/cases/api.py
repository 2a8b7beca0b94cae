"""Cases: the SACWIS upsert, a case the platform keeps (opened, changed, its people added), the case read, and
the case's lists (its people, its staff; its network meetings are the safety network's)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_network.access.service import authorize, decide_for
from sop_network.cases.service import (
    add_case_member,
    case_assignments,
    case_members,
    create_case,
    read_case,
    update_case,
    upsert_case_from_sacwis,
)
from sop_network.schemas import (
    AssignmentOut,
    CaseCreate,
    CaseMemberAdd,
    CaseMemberOut,
    CaseOut,
    CasePatch,
    CaseUpsert,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, require_case, require_scope
from sop_shared.clock import Now
from sop_shared.concurrency import IfMatchVersion, etag, parse_if_match, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import ActorType, Audience, Scope
from sop_shared.problems import Forbidden, NotFound
from sop_shared.query_params import known_query_params

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


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    dependencies=[known_query_params()],
    responses={201: {"headers": {"Location": {"description": "The new case", "schema": {"type": "string"}}}}},
)
async def open_case(
    body: CaseCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """A case opened on the platform outside SACWIS (before SACWIS has one, or in a state without it): staff
    with `case:write` only; the caller becomes its worker. It is changed with PATCH, never by SACWIS."""
    require_scope(principal, Scope.case_write)
    if principal.actor_type != ActorType.staff:
        raise Forbidden("only staff open cases")
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        return replayed
    case = await create_case(session, body, worker=principal.subject)
    await audit_request(
        request, session, principal, resource="case", action="create", case_id=case.id, resource_id=case.id
    )
    result = await read_case(session, case.id)
    assert result is not None
    content = result.model_dump(mode="json")
    headers = {"Location": f"/v1/cases/{case.id}", "ETag": etag(result.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.patch("/cases/{case_id}", response_model=CaseOut, dependencies=[known_query_params()])
async def change_case(
    case_id: uuid.UUID,
    body: CasePatch,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> CaseOut:
    """Change a case the platform keeps (opened with POST /v1/cases): the fields given, at the version read
    (`If-Match`). A case from SACWIS is changed in SACWIS: 409."""
    decision = await authorize(session, principal, case_id, Scope.case_write, now)
    await update_case(session, case_id, body, expected_version=expected)
    await audit_request(
        request, session, principal, resource="case", action="update", case_id=case_id, resource_id=case_id
    )
    result = await read_case(session, case_id, decision.audiences)
    assert result is not None
    set_etag(response, result.version)
    return result


@router.post(
    "/cases/{case_id}/members",
    status_code=201,
    response_model=CaseOut,
    dependencies=[known_query_params()],
    responses={
        201: {"headers": {"Location": {"description": "The case, with its people", "schema": {"type": "string"}}}}
    },
)
async def add_member_to_case(
    case_id: uuid.UUID,
    body: CaseMemberAdd,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> CaseOut:
    """Record a child, a caregiver or another household member in a case the platform keeps (opened with
    POST /v1/cases), at the case's version read (`If-Match`): the case as it is now, with its new version.
    A case from SACWIS lists its people in SACWIS: 409."""
    decision = await authorize(session, principal, case_id, Scope.case_write, now)
    member = await add_case_member(session, case_id, body, expected_version=expected)
    await audit_request(
        request, session, principal, resource="case_member", action="create", case_id=case_id, resource_id=member.id
    )
    result = await read_case(session, case_id, decision.audiences)
    assert result is not None
    set_etag(response, result.version)
    response.headers["Location"] = f"/v1/cases/{case_id}"
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


async def _case_list(
    request: Request, session: AsyncSession, principal: Principal, case_id: uuid.UUID, now: datetime, resource: str
) -> frozenset[Audience]:
    """A case list's reader: allowed on the case (else 404, as for a case that does not exist), audited."""
    decision = await authorize(session, principal, case_id, Scope.case_read, now)
    await audit_request(request, session, principal, resource=resource, action="read", case_id=case_id)
    return decision.audiences


@router.get(
    "/cases/{case_id}/members",
    response_model=Page[CaseMemberOut],
    dependencies=[known_query_params("limit", "cursor")],
)
async def list_case_members(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, page: PageDep, now: Now
) -> Page[CaseMemberOut]:
    """The people in the case and their roles, in the order they joined (those who left too: `active` false);
    each person as the caller's audience may see them."""
    audiences = await _case_list(request, session, principal, case_id, now, "case_member")
    items, next_cursor = await case_members(session, case_id, page, audiences)
    return Page[CaseMemberOut](items=items, next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}/assignments",
    response_model=Page[AssignmentOut],
    dependencies=[known_query_params("limit", "cursor")],
)
async def list_case_assignments(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, page: PageDep, now: Now
) -> Page[AssignmentOut]:
    """The staff on the case (from SACWIS), in the order they were assigned (those no longer on it too)."""
    await _case_list(request, session, principal, case_id, now, "staff_assignment")
    items, next_cursor = await case_assignments(session, case_id, page)
    return Page[AssignmentOut](items=items, next_cursor=next_cursor)
