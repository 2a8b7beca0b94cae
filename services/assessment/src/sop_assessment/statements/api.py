"""Harm and danger statements of a case over HTTP, each with its plain-language check."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.models import Statement, StatementKind, StatementStatus
from sop_assessment.schemas import StatementIn, StatementOut, StatementPage, StatementRevisionOut
from sop_assessment.sdm.published import check_threat_codes
from sop_assessment.statements.service import (
    StatementNotFound,
    create_statement,
    get_statement,
    list_revisions,
    list_statements,
    revision_out,
    shown_sensitive_fields,
    statement_out,
    statement_seen_by,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_case_scope
from sop_shared.case_refs import case_in_path
from sop_shared.concurrency import etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import Scope, may_see_unshared
from sop_shared.problems import NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["statements"])


async def _statement_for(
    session: AsyncSession, principal: Principal, statement_id: uuid.UUID, scope: Scope
) -> Statement:
    """The statement, if the token's case is the statement's case; a statement of another case and a
    missing one answer the same 404."""
    statement = await get_statement(session, statement_id)
    try:
        require_case_scope(principal, statement.case_id, scope)
    except NotFound:
        raise StatementNotFound() from None
    return statement


@router.post(
    "/cases/{case_id}/statements",
    status_code=201,
    response_model=StatementOut,
    dependencies=[known_query_params()],
    responses={
        201: {
            "description": "Created. A repeat with the same Idempotency-Key and body "
            "returns this response again and creates nothing."
        }
    },
)
async def create_case_statement(
    case_id: uuid.UUID,
    body: StatementIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Write a harm or danger statement. Missing parts, jargon and a high reading grade come back as
    findings in `plain_language`; they never block the worker from saving."""
    require_case_scope(principal, case_id, Scope.case_write)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(
            request,
            session,
            principal,
            resource="statement",
            action="read",
            case_id=case_id,
            resource_id=json.loads(bytes(replayed.body)).get("id"),
        )
        return replayed
    check_threat_codes(request.app, body.threat_codes)  # threats of the loaded SDM instruments only
    statement = await create_statement(session, case_id=case_id, body=body, created_by=principal.subject)
    await audit_request(
        request, session, principal, resource="statement", action="create", case_id=case_id, resource_id=statement.id
    )
    content = statement_out(statement).model_dump(mode="json")
    headers = {"Location": f"/v1/statements/{statement.id}", "ETag": etag(statement.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.get(
    "/cases/{case_id}/statements",
    response_model=StatementPage,
    dependencies=[known_query_params("kind", "status", "limit", "cursor")],
)
async def list_case_statements(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
    kind: Annotated[StatementKind | None, Query(description="Only harm or only danger statements")] = None,
    status: Annotated[StatementStatus | None, Query(description="Only statements in this status")] = None,
) -> StatementPage:
    """A case's statements, oldest first, each with its plain-language check, as the request's audience
    (X-SOP-Audience; default the caller's own kind) may see them."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await list_statements(
        session,
        case_id=case_id,
        page=page,
        audience=audience,
        kind=kind,
        status=status,
        shown=principal.network_sharing,
    )
    items = [statement_out(row, audience) for row in rows]
    await audit_request(
        request,
        session,
        principal,
        resource="statement",
        action="read",
        case_id=case_id,
        fields=shown_sensitive_fields(items),
    )
    return StatementPage(items=items, next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}/statements/{statement_id}",
    response_model=StatementOut,
    dependencies=[known_query_params(), Depends(case_in_path)],
)
@router.get("/statements/{statement_id}", response_model=StatementOut, dependencies=[known_query_params()])
async def get_one_statement(
    statement_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> StatementOut:
    """One statement with its plain-language check, as the request's audience may see it; the ETag is its
    version (for If-Match later)."""
    statement = await _statement_for(session, principal, statement_id, Scope.case_read)
    if not statement_seen_by(statement, audience, principal.network_sharing):
        raise StatementNotFound()  # a draft, a withdrawn one, or one the family keeps from their network
    out = statement_out(statement, audience)
    await audit_request(
        request,
        session,
        principal,
        resource="statement",
        action="read",
        case_id=statement.case_id,
        resource_id=statement.id,
        fields=shown_sensitive_fields([out]),
    )
    set_etag(response, statement.version)
    return out


@router.get(
    "/cases/{case_id}/statements/{statement_id}/revisions",
    response_model=Page[StatementRevisionOut],
    dependencies=[known_query_params("limit", "cursor"), Depends(case_in_path)],
)
@router.get(
    "/statements/{statement_id}/revisions",
    response_model=Page[StatementRevisionOut],
    dependencies=[known_query_params("limit", "cursor")],
)
async def statement_revisions(
    statement_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
) -> Page[StatementRevisionOut]:
    """The corrections of a statement's words, oldest first: the earlier words, why and by whom they were
    corrected (the agency's record: 404 for other audiences), redacted as the statement is."""
    statement = await _statement_for(session, principal, statement_id, Scope.case_read)
    if not may_see_unshared(audience):
        raise StatementNotFound()
    rows, next_cursor = await list_revisions(session, statement, page)
    items = [revision_out(statement, row, audience) for row in rows]
    await audit_request(
        request,
        session,
        principal,
        resource="statement_revision",
        action="read",
        case_id=statement.case_id,
        resource_id=statement.id,
        fields=sorted({"who_reported"} if any(item.who_reported for item in items) else set()),
    )
    return Page[StatementRevisionOut](items=items, next_cursor=next_cursor)
