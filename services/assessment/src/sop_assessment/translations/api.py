"""Statement translations over HTTP, on the statement's path and its case-scoped twin (which the gateway's REST
façade can reach). Text comes from a person; nothing here translates."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.case_view.access import require_record_scope
from sop_assessment.case_view.http import idempotent_create
from sop_assessment.models import Statement
from sop_assessment.schemas import BCP47
from sop_assessment.statements.redaction import statement_view
from sop_assessment.statements.service import StatementNotFound
from sop_assessment.translations.rules import shown_translations
from sop_assessment.translations.schemas import (
    StatementTranslationIn,
    StatementTranslationOut,
    StatementTranslationPage,
)
from sop_assessment.translations.service import create_translation, list_translations, translation_out
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep, IdempotentCreate
from sop_shared.pagination import PageDep, PageRequest
from sop_shared.policy import Audience, Scope
from sop_shared.query_params import known_query_params
from sop_shared.sharing import shown_to

router = APIRouter(prefix="/v1", tags=["statements"])
CREATED: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "Created. A repeat with the same Idempotency-Key and body returns this response "
        "again and creates nothing."
    }
}


async def _statement_for(
    session: AsyncSession, principal: Principal, statement_id: uuid.UUID, scope: Scope, case_id: uuid.UUID | None
) -> Statement:
    statement = await session.get(Statement, statement_id)
    require_record_scope(principal, statement, scope, StatementNotFound(), path_case_id=case_id)
    assert statement is not None
    return statement


async def _create(
    statement_id: uuid.UUID,
    body: StatementTranslationIn,
    request: Request,
    session: AsyncSession,
    principal: Principal,
    idempotency: IdempotentCreate,
    case_id: uuid.UUID | None,
) -> Response:
    statement = await _statement_for(session, principal, statement_id, Scope.case_write, case_id)
    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="statement_translation",
        case_id=statement.case_id,
        create=lambda: create_translation(session, statement, body=body, created_by=principal.subject),
        render=lambda t: translation_out(t, statement.version),
        location=lambda t: f"/v1/statements/{statement.id}/translations",
    )


@router.post(
    "/statements/{statement_id}/translations",
    status_code=201,
    responses=CREATED,
    response_model=StatementTranslationOut,
    dependencies=[known_query_params()],
)
async def create_statement_translation(
    statement_id: uuid.UUID,
    body: StatementTranslationIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Record a person's translation of the statement's words (422 `verified_by` for a verified one without
    its verifier). It translates the statement's current version unless `statement_version` says otherwise;
    a later change to the statement makes it stale (`current: false`)."""
    return await _create(statement_id, body, request, session, principal, idempotency, None)


@router.post(
    "/cases/{case_id}/statements/{statement_id}/translations",
    status_code=201,
    responses=CREATED,
    response_model=StatementTranslationOut,
    dependencies=[known_query_params()],
)
async def create_case_statement_translation(
    case_id: uuid.UUID,
    statement_id: uuid.UUID,
    body: StatementTranslationIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    return await _create(statement_id, body, request, session, principal, idempotency, case_id)


async def _list(
    statement_id: uuid.UUID,
    request: Request,
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    audience: Audience,
    language: str | None,
    case_id: uuid.UUID | None,
) -> StatementTranslationPage:
    statement = await _statement_for(session, principal, statement_id, Scope.case_read, case_id)
    if not shown_to(statement, audience):
        raise StatementNotFound()
    rows, next_cursor = await list_translations(session, statement_id=statement.id, page=page, language=language)
    view = statement_view(statement.model_dump(), audience)
    shown = shown_translations(
        rows, statement_version=statement.version, withheld=view.withheld, shows_reporter=view.shows_reporter
    )
    await audit_request(
        request,
        session,
        principal,
        resource="statement_translation",
        action="read",
        case_id=statement.case_id,
        resource_id=statement.id,
        fields=["who_reported"] if any(t.names_reporter for t in shown) else [],
    )
    return StatementTranslationPage(
        items=[translation_out(t, statement.version) for t in shown], next_cursor=next_cursor
    )


LanguageFilter = Annotated[str | None, Query(max_length=35, pattern=BCP47, description="Only this language")]


@router.get(
    "/statements/{statement_id}/translations",
    response_model=StatementTranslationPage,
    dependencies=[known_query_params("language", "limit", "cursor")],
)
async def list_statement_translations(
    statement_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
    language: LanguageFilter = None,
) -> StatementTranslationPage:
    """The statement's translations, oldest first, current or not, as the request's audience may see them
    (none of a statement withheld from it; none naming the reporter to an audience that may not see them)."""
    return await _list(statement_id, request, session, principal, page, audience, language, None)


@router.get(
    "/cases/{case_id}/statements/{statement_id}/translations",
    response_model=StatementTranslationPage,
    dependencies=[known_query_params("language", "limit", "cursor")],
)
async def list_case_statement_translations(
    case_id: uuid.UUID,
    statement_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
    language: LanguageFilter = None,
) -> StatementTranslationPage:
    return await _list(statement_id, request, session, principal, page, audience, language, case_id)
