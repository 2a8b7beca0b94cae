"""Statement operations: create (with its event), list a case's statements, read one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.models import Statement, StatementKind, StatementRevision, StatementStatus, platform
from sop_assessment.schemas import StatementIn, StatementOut, StatementRevisionOut
from sop_assessment.statements.redaction import StatementView, statement_view
from sop_assessment.statements.rules import prepare_statement, shown_statement_check
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.policy import DEFAULT_SHARING, Audience, NetworkSharing, Section, may_see_section, may_see_statement
from sop_shared.problems import NotFound
from sop_shared.sharing import shared_only, shown_to, without_agency_notes

STATEMENT_CREATED = "sop.assessment.statement.created"


class StatementNotFound(NotFound):
    """A missing statement and one in a case the caller may not see look the same."""

    def __init__(self) -> None:
        super().__init__("no such statement")


async def create_statement(
    session: AsyncSession, *, case_id: uuid.UUID, body: StatementIn, created_by: str
) -> Statement:
    """Store a new active statement and, in the same transaction, the event that announces it."""
    statement = Statement(case_id=case_id, created_by=created_by, **prepare_statement(body))
    session.add(statement)
    await session.flush()
    # Only ids and labels travel on the bus: the words stay behind the case's access rules.
    await emit(
        session,
        platform,
        subject=STATEMENT_CREATED,
        case_id=case_id,
        data={
            "statement_id": str(statement.id),
            "case_id": str(case_id),
            "kind": statement.kind.value,
            "status": statement.status.value,
            "version": statement.version,
            "threat_codes": statement.threat_codes,
        },
    )
    return statement


def statement_seen_by(statement: Statement, audience: Audience, shown: NetworkSharing = DEFAULT_SHARING) -> bool:
    """Whether `audience` reads this one statement at all — itself, or anything about it (its translations, the
    family's and the network's responses to it): shared and in force outside the agency, and a harm statement for
    the network only as the family chose (`sop_shared.policy.may_see_statement`). Every read of one statement
    asks this; `seen_by` is the same rule for a list, in SQL."""
    return shown_to(statement, audience) and may_see_statement(statement.kind.value, statement.id, audience, shown)


def seen_by(audience: Audience, shown: NetworkSharing = DEFAULT_SHARING) -> list[ColumnElement[bool]]:
    """The conditions a read of statements adds for `audience` beyond `shared_only`: without the harm statements'
    section (the network, by default) only the harm statements the family opened to them one by one
    (`sop_shared.policy.may_see_statement`, in SQL)."""
    if may_see_section(Section.harm_statements, audience, shown):
        return []
    return [or_(col(Statement.kind) != StatementKind.harm, col(Statement.id).in_(sorted(shown.statement_ids)))]


def seen_in(statement: Statement, audience: Audience, shown: NetworkSharing = DEFAULT_SHARING) -> bool:
    """The same rule as `seen_by`, for a statement already loaded."""
    if may_see_section(Section.harm_statements, audience, shown):
        return True
    return bool(statement.kind != StatementKind.harm or statement.id in shown.statement_ids)


async def list_statements(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    page: PageRequest,
    audience: Audience,
    kind: StatementKind | None = None,
    status: StatementStatus | None = None,
    shown: NetworkSharing = DEFAULT_SHARING,
) -> tuple[list[Statement], str | None]:
    """The case's statements `audience` may read (only shared, not withdrawn ones outside the agency; the
    network's as the family chose, `shown`)."""
    query = select(Statement).where(
        col(Statement.case_id) == case_id, *shared_only(Statement, audience), *seen_by(audience, shown)
    )
    if kind is not None:
        query = query.where(col(Statement.kind) == kind)
    if status is not None:
        query = query.where(col(Statement.status) == status)
    rows = list((await session.execute(page.apply(query, col(Statement.id)))).scalars())
    return page.page(rows)


async def get_statement(session: AsyncSession, statement_id: uuid.UUID) -> Statement:
    statement = await session.get(Statement, statement_id)
    if statement is None:
        raise StatementNotFound()
    return statement


def statement_out(
    statement: Statement, audience: Audience | None = None, *, language: str = "en", view: StatementView | None = None
) -> StatementOut:  # `audience` also leaves out the agency's notes (share_reason) when given with a `view`
    """The statement as the API shows it to `audience` (None: whole, as its writer just wrote it), with the
    plain-language check of what is shown computed now (so an improved word list reaches old statements too).
    `language` is the reader's: the fixed sentence of a withheld statement is in it."""
    return StatementOut.model_validate(statement_out_values(statement, audience, language=language, view=view))


def statement_out_values(
    statement: Statement, audience: Audience | None = None, *, language: str = "en", view: StatementView | None = None
) -> dict[str, Any]:
    """What `statement_out` validates, for a response model that extends `StatementOut` (validated once)."""
    if view is None:
        values = statement.model_dump()
        view = statement_view(values, audience, language=language) if audience is not None else StatementView(values)
    shown = view.values
    check = (
        None
        if view.withheld
        else shown_statement_check(
            kind=statement.kind, language=shown["language"], text=shown["composed_text"], values=shown
        )
    )
    redacted = [*view.redacted, "plain_language"] if view.withheld else view.redacted
    return without_agency_notes({**shown, "plain_language": check, "redacted": redacted}, audience)


async def list_revisions(
    session: AsyncSession, statement: Statement, page: PageRequest
) -> tuple[list[StatementRevision], str | None]:
    query = select(StatementRevision).where(col(StatementRevision.statement_id) == statement.id)
    rows = list((await session.execute(page.apply(query, col(StatementRevision.id)))).scalars())
    return page.page(rows)


def revision_out(statement: Statement, revision: StatementRevision, audience: Audience) -> StatementRevisionOut:
    """The earlier words as `audience` may see them: the same redaction as the statement (its labels and
    consents are the statement's own)."""
    view = statement_view({**statement.model_dump(), **revision.earlier_words}, audience)
    return StatementRevisionOut.model_validate(
        {**view.values, **revision.model_dump(exclude={"id"}), "redacted": view.redacted}
    )


def shown_sensitive_fields(statements: Iterable[StatementOut]) -> list[str]:
    """For the audit record: the sensitive content a response carried (the reporter, and each label of a
    statement shown in full)."""
    shown: set[str] = set()
    for out in statements:
        if out.who_reported:
            shown.add("who_reported")
        shown.update(out.sensitivity_labels)
    return sorted(shown)
