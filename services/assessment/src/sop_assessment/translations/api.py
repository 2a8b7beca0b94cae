"""Translations over HTTP: the shared workflow's routes for every family-facing text the service keeps
(`sop_shared.translations_api`: record, verify, list, queue) and the statement's own routes, kept. Text comes
from people; nothing here translates."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.case_view.access import require_record_scope
from sop_assessment.case_view.http import idempotent_create
from sop_assessment.models import Statement
from sop_assessment.statements.redaction import statement_view
from sop_assessment.statements.service import StatementNotFound, statement_seen_by
from sop_assessment.translations.models import Translation
from sop_assessment.translations.rules import shown_translations, translation_errors
from sop_assessment.translations.schemas import (
    StatementTranslationIn,
    StatementTranslationOut,
    StatementTranslationPage,
)
from sop_assessment.translations.service import TRANSLATIONS
from sop_assessment.translations.sources import find
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep, IdempotentCreate
from sop_shared.pagination import PageDep, PageRequest
from sop_shared.policy import Audience, Scope
from sop_shared.problems import InvalidInput
from sop_shared.query_params import known_query_params
from sop_shared.translations import Source, TranslationIn, translation_out
from sop_shared.translations_api import CREATED, LanguageFilter, translation_router

router = APIRouter(prefix="/v1", tags=["statements"])
# The shared workflow's routes, for every kind of record (the app serves both routers).
workflow_router = translation_router(TRANSLATIONS)


# --- the statement's own routes (kept) ---


async def _statement_for(
    session: AsyncSession, principal: Principal, statement_id: uuid.UUID, scope: Scope, case_id: uuid.UUID | None
) -> Statement:
    statement = await session.get(Statement, statement_id)
    require_record_scope(principal, statement, scope, StatementNotFound(), path_case_id=case_id)
    assert statement is not None
    return statement


def _statement_source(statement: Statement) -> Source:
    return Source(language=statement.language, version=statement.version, text=statement.composed_text)


def statement_translation_out(translation: Translation, statement: Statement) -> StatementTranslationOut:
    out = translation_out(translation, _statement_source(statement))
    return StatementTranslationOut.model_validate(
        {
            **out.model_dump(),
            "statement_id": translation.record_id,
            "statement_version": translation.source_version,
            "names_reporter": translation.names_reporter,
        }
    )


async def _create_statement_translation(
    session: AsyncSession, statement: Statement, body: StatementTranslationIn, created_by: str
) -> Translation:
    errors = translation_errors(body, statement_language=statement.language, statement_version=statement.version)
    if errors:
        raise InvalidInput(errors)
    found = await find(session, "statement", statement.id, statement.case_id)
    translation: Translation = await TRANSLATIONS.create(
        session,
        found,
        body=TranslationIn(
            record_kind="statement",
            record_id=statement.id,
            language=body.language,
            text=body.text,
            translated_by=body.translated_by,
            source_version=body.statement_version,
        ),
        created_by=created_by,
        names_reporter=body.names_reporter if body.names_reporter is not None else bool(statement.who_reported),
    )
    if body.verified and body.verified_by and body.verifier_qualification:
        # Verified as it was recorded: the verifier's name and qualification are on the record.
        translation.verified = True
        translation.verified_by = body.verified_by
        translation.verifier_qualification = body.verifier_qualification.value
        translation.verified_at = translation.created_at
        await session.flush()
        await TRANSLATIONS.announce_verified(session, translation, found)  # as a later verification is announced
    return translation


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
        create=lambda: _create_statement_translation(session, statement, body, principal.subject),
        render=lambda t: statement_translation_out(t, statement),
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
    its verifier, `verifier_qualification` without what qualifies them). It translates the statement's current
    version unless `statement_version` says otherwise; a later edit of its words makes it stale
    (`current: false`). The same as `POST /v1/cases/{case_id}/translations` with `record_kind: statement`."""
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
    if not statement_seen_by(statement, audience, principal.network_sharing):
        raise StatementNotFound()  # a draft, a withdrawn one, or a harm statement the family keeps from the network
    rows, next_cursor = await TRANSLATIONS.of_record(
        session, record_kind="statement", record_id=statement.id, page=page, language=language
    )
    view = statement_view(statement.model_dump(), audience)
    shown = shown_translations(
        rows, source=_statement_source(statement), withheld=view.withheld, shows_reporter=view.shows_reporter
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
        items=[statement_translation_out(t, statement) for t in shown], next_cursor=next_cursor
    )


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
