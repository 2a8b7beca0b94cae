"""A unit's translation queue in one language: what the families on the caller's caseload read that waits
for a person — a translation into the language, or a second, qualified person's check of one.

Composed, not stored: the caseload page comes from the network exactly as `cases` reads it (a supervisor's
caseload is their unit's cases, as SACWIS assigns them), access is decided in bulk the same way, and then each
allowed case's own queue is read from the services that keep family-facing words (assessment and plans,
`GET /v1/cases/{case_id}/translation-queue?language=`, with a token scoped to that case), in parallel. A case
the caller may not see never appears. One audit record for the page (`translation_queue`), and each service
audits its own read of each case."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

import strawberry

from sop_gateway.graphql.case_view import require_principal, section_unavailable
from sop_gateway.graphql.caseload import CaseFilter, CaseSummary, audit_read, caseload_page
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.ids import bad_input
from sop_gateway.graphql.paging import PageInfo
from sop_gateway.upstream import UpstreamError
from sop_gateway.wire_json import read_json
from sop_shared.auth import Principal
from sop_shared.language_tags import BadLanguageTag, standard_language_tag
from sop_shared.pagination import encode_cursor
from sop_shared.translations import QueueState

# The services that keep words a family reads, each with the shared per-case queue (sop_shared.translations_api).
QUEUE_SERVICES = ("assessment", "plans")
MAX_CASES_PER_PAGE = 20  # each case costs one call per service: a page is kept small


@strawberry.enum(description="What the words wait for")
class TranslationQueueState(Enum):
    UNTRANSLATED = QueueState.untranslated.value
    NEEDS_VERIFYING = QueueState.needs_verifying.value


@strawberry.type(description="One field of one record a family reads, waiting for a translation or its check")
class TranslationQueueItem:
    service: str = strawberry.field(description="The service that keeps the words (and the translation routes)")
    record_kind: str = strawberry.field(description="statement, safety_goal, map_item, child_voice, safety_plan, …")
    record_id: strawberry.ID
    source_field: str = strawberry.field(description="Which of the record's fields (text, triggers.0, …)")
    source_version: int
    source_language: str
    text: str = strawberry.field(description="The words as they read now")
    state: TranslationQueueState
    translation_id: strawberry.ID | None = strawberry.field(
        description="The newest current translation waiting to be verified"
    )

    @classmethod
    def from_json(cls, service: str, body: dict[str, Any]) -> TranslationQueueItem:
        return cls(
            service=service,
            record_kind=body["record_kind"],
            record_id=strawberry.ID(body["record_id"]),
            source_field=body["source_field"],
            source_version=body["source_version"],
            source_language=body["source_language"],
            text=body["text"],
            state=TranslationQueueState(body["state"]),
            translation_id=strawberry.ID(body["translation_id"]) if body.get("translation_id") else None,
        )


@strawberry.type(description="One case of the caseload and what of it waits, in the queue's language")
class CaseTranslationQueue:
    case: CaseSummary
    language: str
    principal: strawberry.Private[Principal]

    @strawberry.field(
        description="Assessment's words first, then the plans'; null, with an error naming this section, when a "
        "service cannot be read"
    )
    async def items(self, info: strawberry.Info[GatewayContext, None]) -> list[TranslationQueueItem] | None:
        context = info.context
        scoped = self.principal.scoped_to(self.case.case_uuid)
        path = f"/v1/cases/{self.case.case_uuid}/translation-queue"

        async def read(service: str) -> list[TranslationQueueItem]:
            response = await context.services.request(service, "GET", path, scoped, params={"language": self.language})
            if response.status_code >= 400:
                raise UpstreamError(service, response.status_code, response.text[:300])
            return [TranslationQueueItem.from_json(service, item) for item in read_json(response)["items"]]

        try:
            answers = await asyncio.gather(*(read(service) for service in QUEUE_SERVICES))
        except UpstreamError as exc:
            raise section_unavailable("translationQueue", exc) from exc
        return [item for items in answers for item in items]


@strawberry.type(description="A page of the caseload's translation queue, ordered by case id")
class TranslationQueuePage:
    language: str
    cases: list[CaseTranslationQueue]
    page_info: PageInfo


async def resolve_translation_queue(
    context: GatewayContext, language: str, first: int, after: str | None, filter: CaseFilter | None
) -> TranslationQueuePage:
    principal = require_principal(context)
    try:
        language = standard_language_tag(language)
    except BadLanguageTag as exc:
        raise bad_input("language", str(exc)) from exc
    if not 1 <= first <= MAX_CASES_PER_PAGE:
        raise bad_input("first", f"must be between 1 and {MAX_CASES_PER_PAGE}")
    items, next_cursor = await caseload_page(context, principal, first, after, filter, section="translationQueue")
    cases = [
        CaseTranslationQueue(case=CaseSummary.from_json(item), language=language, principal=principal) for item in items
    ]
    await audit_read(
        context,
        principal,
        resource="translation_queue",
        case_id=None,
        fields=[f"language:{language}", f"{len(cases)} cases"],
    )
    last = encode_cursor(cases[-1].case.case_uuid) if cases else None
    return TranslationQueuePage(
        language=language,
        cases=cases,
        page_info=PageInfo(has_next_page=next_cursor is not None, end_cursor=next_cursor or last),
    )
