"""The translation workflow over HTTP, the same in every service that keeps family-facing words (the rules are
`sop_shared.translations`). A service gives its `translation` table, how to find a record's words
(`find`) and which words its family reads (`family_words`); `translation_router` serves:

- `POST /v1/cases/{case_id}/translations` — a person's translation of one field of one record (unverified);
- `POST /v1/cases/{case_id}/translations/{translation_id}/verify` — another, qualified person verifies it;
- `GET /v1/cases/{case_id}/translations?record_kind=&record_id=` — a record's translations, with their state;
- `GET /v1/cases/{case_id}/translation-queue?language=` — what waits for a translation or its check.

Every route is case-scoped, authorised and audited like the services' other routes; creates honour
Idempotency-Key. The translation workflow is the agency's: other audiences read translations in the case view.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, RequestAudience, require_case_scope
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.language_tags import LanguageTag
from sop_shared.outbox import emit
from sop_shared.pagination import Page, PageDep, PageRequest
from sop_shared.platform_tables import PlatformTables
from sop_shared.policy import Scope, may_see_unshared
from sop_shared.problems import InvalidInput, NotFound
from sop_shared.query_params import known_query_params
from sop_shared.translations import (
    CarriedTranslation,
    Source,
    TranslatedRecordId,
    TranslationIn,
    TranslationOut,
    TranslationQueue,
    VerifyIn,
    Words,
    carried,
    is_current,
    queue_items,
    source_digest,
    translation_errors,
    translation_out,
    verify,
)

TranslationPage = Page[TranslationOut]


class TranslatedRecordNotFound(InvalidInput):
    """`record_id` names no record of `record_kind` in this case: 422 naming it, as the case boundary answers
    every id a request carries (another case's record reads exactly like one that does not exist)."""

    def __init__(self) -> None:
        super().__init__([{"field": "record_id", "message": "no such record of this kind in this case"}])


class TranslationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such translation")


@dataclass(frozen=True)
class Found:
    """A record offered for translation: its case, the language and version of its words, and its words by
    field as they read now."""

    case_id: uuid.UUID
    language: str
    version: int
    fields: Mapping[str, str]
    record: Any = None
    # A field written in another language than the record's (a network commitment's decline reason, the agency's).
    field_languages: Mapping[str, str] = field(default_factory=dict)

    def source(self, name: str) -> Source:
        language = self.field_languages.get(name, self.language)
        return Source(language=language, version=self.version, text=self.fields.get(name, ""))


Find = Callable[[AsyncSession, str, uuid.UUID, uuid.UUID], Awaitable[Found]]
FamilyWords = Callable[[AsyncSession, uuid.UUID], Awaitable[list[Words]]]


class Announce(Protocol):
    """How a service publishes one of its events in the caller's transaction (default: its outbox)."""

    def __call__(
        self, session: AsyncSession, *, subject: str, case_id: uuid.UUID, data: dict[str, Any]
    ) -> Awaitable[Any]: ...


@dataclass(frozen=True)
class Translations:
    """One service's translations: its table, its outbox, the kinds of record it keeps words in, how to find
    a record's words, and which words its family reads."""

    model: Any
    platform: PlatformTables
    component: str  # "assessment": events are sop.<component>.translation.recorded / .verified
    kinds: tuple[str, ...]
    find: Find
    family_words: FamilyWords
    # A kind's own event subject for a recorded translation (the statement's, kept as it was).
    recorded_subjects: Mapping[str, str] = field(default_factory=dict)
    # A service whose events also go to a change feed announces them its own way (the network's `record_change`).
    announce: Announce | None = None

    async def create(
        self, session: AsyncSession, found: Found, *, body: TranslationIn, created_by: str, names_reporter: bool = False
    ) -> Any:
        """Record a person's translation and, in the same transaction, the event that announces it."""
        errors = translation_errors(body, found.source(body.source_field), fields=found.fields)
        if errors:
            raise InvalidInput(errors)
        version = body.source_version or found.version
        translation = self.model(
            case_id=found.case_id,
            record_kind=body.record_kind,
            record_id=body.record_id,
            source_field=body.source_field,
            source_version=version,
            # The words translated: those read now (an older version's are not at hand: its version decides).
            source_digest=source_digest(found.fields[body.source_field]) if version == found.version else None,
            language=body.language,
            text=body.text,
            translated_by=body.translated_by,
            names_reporter=names_reporter,
            created_by=created_by,
        )
        session.add(translation)
        await session.flush()
        subject = self.recorded_subjects.get(body.record_kind, f"sop.{self.component}.translation.recorded")
        await self._announce(session, translation, found, subject)
        return translation

    async def verify(self, session: AsyncSession, translation: Any, found: Found, *, body: VerifyIn, by: str) -> Any:
        verify(translation, body, verifier_subject=by, source=found.source(translation.source_field))
        session.add(translation)
        await session.flush()
        await self.announce_verified(session, translation, found)
        return translation

    async def announce_verified(self, session: AsyncSession, translation: Any, found: Found) -> None:
        """The event saying a translation is verified (also for one verified as it was recorded)."""
        await self._announce(session, translation, found, f"sop.{self.component}.translation.verified")

    async def _announce(self, session: AsyncSession, translation: Any, found: Found, subject: str) -> None:
        # Only ids and labels travel on the bus: the words stay behind the case's access rules.
        data: dict[str, Any] = {
            "translation_id": str(translation.id),
            "record_kind": translation.record_kind,
            "record_id": str(translation.record_id),
            "source_field": translation.source_field,
            "case_id": str(translation.case_id),
            "source_version": translation.source_version,
            "language": translation.language,
            "verified": translation.verified,
            "current": is_current(translation, found.source(translation.source_field)),
        }
        if translation.record_kind == "statement":  # the statement event's fields, as before
            data |= {"statement_id": str(translation.record_id), "statement_version": translation.source_version}
        if self.announce is not None:
            await self.announce(session, subject=subject, case_id=translation.case_id, data=data)
        else:
            await emit(session, self.platform, subject=subject, case_id=translation.case_id, data=data)

    async def of_record(
        self, session: AsyncSession, *, record_kind: str, record_id: uuid.UUID, page: PageRequest, language: str | None
    ) -> tuple[list[Any], str | None]:
        model = self.model
        query = select(model).where(col(model.record_kind) == record_kind, col(model.record_id) == record_id)
        if language is not None:
            query = query.where(col(model.language) == language)
        rows = list((await session.execute(page.apply(query, col(model.id)))).scalars())
        return page.page(rows)

    async def of_case(
        self,
        session: AsyncSession,
        case_id: uuid.UUID,
        *,
        record_kind: str | None = None,
        record_ids: Sequence[uuid.UUID] | None = None,
    ) -> dict[uuid.UUID, list[Any]]:
        """Every translation of the case's records (of one kind, or of these), by record, oldest first: one
        query."""
        model = self.model
        query = select(model).where(col(model.case_id) == case_id)
        if record_kind is not None:
            query = query.where(col(model.record_kind) == record_kind)
        if record_ids is not None:
            query = query.where(col(model.record_id).in_(record_ids))
        found: dict[uuid.UUID, list[Any]] = {}
        for row in (await session.execute(query.order_by(col(model.id)))).scalars():
            found.setdefault(row.record_id, []).append(row)
        return found

    async def of_case_by_kind(
        self, session: AsyncSession, case_id: uuid.UUID, record_kinds: Sequence[str]
    ) -> dict[str, dict[uuid.UUID, list[Any]]]:
        """Every translation of the case's records of these kinds, by kind and record, oldest first: one query
        for what a read showing several kinds of words (a case view) would otherwise ask kind by kind."""
        model = self.model
        query = select(model).where(col(model.case_id) == case_id, col(model.record_kind).in_(record_kinds))
        found: dict[str, dict[uuid.UUID, list[Any]]] = {kind: {} for kind in record_kinds}
        for row in (await session.execute(query.order_by(col(model.id)))).scalars():
            found[row.record_kind].setdefault(row.record_id, []).append(row)
        return found

    async def queue(self, session: AsyncSession, case_id: uuid.UUID, language: str) -> TranslationQueue:
        words = await self.family_words(session, case_id)
        translations = await self.of_case(session, case_id)
        return TranslationQueue(language=language, items=queue_items(words, translations, language))


def carried_of_field(translations: Iterable[Any], name: str, source: Source) -> list[CarriedTranslation]:
    """The current translations of one field of a record, as a read model carries them."""
    return carried([t for t in translations if t.source_field == name], source)


def fields_carried(translations: Iterable[Any], words: Mapping[str, str], language: str, version: int) -> list[Any]:
    """The current translations of each of a record's fields (`words`: the fields as they read now)."""
    found = list(translations)
    return [c for name, text in words.items() for c in carried_of_field(found, name, Source(language, version, text))]


LanguageQuery = Annotated[LanguageTag, Query(description="The language translated into")]
RecordKindQuery = Annotated[str, Query(max_length=40, description="What was translated (see `record_kind`)")]
LanguageFilter = Annotated[LanguageTag | None, Query(description="Only this language")]
CREATED: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "Created. A repeat with the same Idempotency-Key and body returns this response "
        "again and creates nothing."
    }
}


def translation_router(translations: Translations) -> APIRouter:
    """The four translation routes of one service (see the module's docstring)."""
    router = APIRouter(prefix="/v1", tags=["translations"])
    kinds = ", ".join(translations.kinds)

    @router.post(
        "/cases/{case_id}/translations",
        status_code=201,
        responses=CREATED,
        response_model=TranslationOut,
        dependencies=[known_query_params()],
        description="Record a person's translation of one field (`source_field`) of one record (`record_kind`: "
        f"{kinds}; `record_id`) as it reads now. Unverified until another, qualified person verifies it; an edit "
        "of the words makes it stale (`state: stale`). 422 naming the field for a field the record has no words "
        "in, the words' own language or a version the record has not had; 404 for a record of another case.",
    )
    async def create_case_translation(
        case_id: uuid.UUID,
        body: TranslationIn,
        request: Request,
        session: SessionDep,
        principal: CurrentPrincipal,
        idempotency: IdempotencyDep,
    ) -> JSONResponse:
        require_case_scope(principal, case_id, Scope.case_write)
        replayed = await idempotency.replay(session, body)
        if replayed is not None:
            resource_id = json.loads(bytes(replayed.body)).get("id")
            await audit_request(
                request,
                session,
                principal,
                resource="translation",
                action="read",
                case_id=case_id,
                resource_id=resource_id,
            )
            return replayed
        if body.record_kind not in translations.kinds:
            raise InvalidInput.field("record_kind", f"one of: {kinds}")
        found = await translations.find(session, body.record_kind, body.record_id, case_id)
        names_reporter = body.record_kind == "statement" and bool(getattr(found.record, "who_reported", None))
        made = await translations.create(
            session, found, body=body, created_by=principal.subject, names_reporter=names_reporter
        )
        await audit_request(
            request, session, principal, resource="translation", action="create", case_id=case_id, resource_id=made.id
        )
        content = translation_out(made, found.source(made.source_field)).model_dump(mode="json")
        headers = {"Location": f"/v1/cases/{case_id}/translations/{made.id}"}
        await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
        return JSONResponse(content, status_code=201, headers=headers)

    @router.post(
        "/cases/{case_id}/translations/{translation_id}/verify",
        response_model=TranslationOut,
        dependencies=[known_query_params()],
        description="The signed-in person verifies a translation someone else recorded and translated; their "
        "qualification is recorded with their name. 422 `verified_by` for the translator or the person who "
        "recorded it; `version` for a stale one or another version than the verifier read; `qualification` "
        "when it is verified already.",
    )
    async def verify_case_translation(
        case_id: uuid.UUID,
        translation_id: uuid.UUID,
        body: VerifyIn,
        request: Request,
        session: SessionDep,
        principal: CurrentPrincipal,
    ) -> TranslationOut:
        require_case_scope(principal, case_id, Scope.case_write)
        translation = await session.get(translations.model, translation_id)
        if translation is None or translation.case_id != case_id:
            raise TranslationNotFound()
        found = await translations.find(session, translation.record_kind, translation.record_id, case_id)
        await translations.verify(session, translation, found, body=body, by=principal.subject)
        await audit_request(
            request,
            session,
            principal,
            resource="translation",
            action="update",
            case_id=case_id,
            resource_id=translation.id,
        )
        return translation_out(translation, found.source(translation.source_field))

    @router.get(
        "/cases/{case_id}/translations",
        response_model=TranslationPage,
        dependencies=[known_query_params("record_kind", "record_id", "language", "limit", "cursor")],
        description="A record's translations, oldest first, current or stale, verified or not (the agency's "
        "workflow: other audiences read the current verified ones in the case view).",
    )
    async def list_case_translations(
        case_id: uuid.UUID,
        record_kind: RecordKindQuery,
        record_id: TranslatedRecordId,
        request: Request,
        session: SessionDep,
        principal: CurrentPrincipal,
        page: PageDep,
        audience: RequestAudience,
        language: LanguageFilter = None,
    ) -> TranslationPage:
        require_case_scope(principal, case_id, Scope.case_read)
        if not may_see_unshared(audience):
            raise TranslationNotFound()
        found = await translations.find(session, record_kind, record_id, case_id)
        rows, next_cursor = await translations.of_record(
            session, record_kind=record_kind, record_id=record_id, page=page, language=language
        )
        await audit_request(
            request, session, principal, resource="translation", action="read", case_id=case_id, resource_id=record_id
        )
        items = [translation_out(t, found.source(t.source_field)) for t in rows]
        return TranslationPage(items=items, next_cursor=next_cursor)

    @router.get(
        "/cases/{case_id}/translation-queue",
        response_model=TranslationQueue,
        dependencies=[known_query_params("language")],
        description="What the family reads (shared, in force) that waits for a translation into `language` (none "
        "yet, or only stale ones) or for a second, qualified person to verify one. The agency's: other audiences "
        "404.",
    )
    async def case_translation_queue(
        case_id: uuid.UUID,
        language: LanguageQuery,
        request: Request,
        session: SessionDep,
        principal: CurrentPrincipal,
        audience: RequestAudience,
    ) -> TranslationQueue:
        require_case_scope(principal, case_id, Scope.case_read)
        if not may_see_unshared(audience):
            raise TranslationNotFound()
        queue = await translations.queue(session, case_id, language)
        await audit_request(request, session, principal, resource="translation", action="read", case_id=case_id)
        return queue

    return router
