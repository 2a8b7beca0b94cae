"""Statement-translation operations: record one (with its event), list a statement's, gather a case's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.models import Statement, platform
from sop_assessment.translations.models import StatementTranslation
from sop_assessment.translations.rules import is_current, translation_errors
from sop_assessment.translations.schemas import StatementTranslationIn, StatementTranslationOut
from sop_shared.db import utcnow
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.problems import InvalidInput

STATEMENT_TRANSLATED = "sop.assessment.statement.translated"


async def create_translation(
    session: AsyncSession, statement: Statement, *, body: StatementTranslationIn, created_by: str
) -> StatementTranslation:
    """Record a person's translation and, in the same transaction, the event that announces it."""
    errors = translation_errors(body, statement_language=statement.language, statement_version=statement.version)
    if errors:
        raise InvalidInput(errors)
    translation = StatementTranslation(
        statement_id=statement.id,
        case_id=statement.case_id,
        statement_version=body.statement_version or statement.version,
        language=body.language,
        text=body.text,
        translated_by=body.translated_by,
        names_reporter=body.names_reporter if body.names_reporter is not None else bool(statement.who_reported),
        verified=body.verified,
        verified_by=body.verified_by,
        verified_at=utcnow() if body.verified else None,
        created_by=created_by,
    )
    session.add(translation)
    await session.flush()
    # Only ids and labels travel on the bus: the words stay behind the case's access rules.
    await emit(
        session,
        platform,
        subject=STATEMENT_TRANSLATED,
        case_id=statement.case_id,
        data={
            "translation_id": str(translation.id),
            "statement_id": str(statement.id),
            "case_id": str(statement.case_id),
            "statement_version": translation.statement_version,
            "language": translation.language,
            "verified": translation.verified,
            "current": is_current(translation, statement.version),
        },
    )
    return translation


async def list_translations(
    session: AsyncSession, *, statement_id: uuid.UUID, page: PageRequest, language: str | None = None
) -> tuple[list[StatementTranslation], str | None]:
    query = select(StatementTranslation).where(col(StatementTranslation.statement_id) == statement_id)
    if language is not None:
        query = query.where(col(StatementTranslation.language) == language)
    rows = list((await session.execute(page.apply(query, col(StatementTranslation.id)))).scalars())
    return page.page(rows)


async def case_translations(
    session: AsyncSession, case_id: uuid.UUID, *, statement_ids: Sequence[uuid.UUID] | None = None
) -> dict[uuid.UUID, list[StatementTranslation]]:
    """Every translation of the case's statements (or of these of them), by statement, oldest first: one query."""
    query = select(StatementTranslation).where(col(StatementTranslation.case_id) == case_id)
    if statement_ids is not None:
        query = query.where(col(StatementTranslation.statement_id).in_(statement_ids))
    rows = (await session.execute(query.order_by(col(StatementTranslation.id)))).scalars()
    found: dict[uuid.UUID, list[StatementTranslation]] = {}
    for row in rows:
        found.setdefault(row.statement_id, []).append(row)
    return found


def translation_out(translation: StatementTranslation, statement_version: int) -> StatementTranslationOut:
    return StatementTranslationOut.model_validate(
        {**translation.model_dump(), "current": is_current(translation, statement_version)}
    )
