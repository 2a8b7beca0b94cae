"""The bulk reads for the gateway: everything the case view needs from this service in one call, for the
request's audience and the reader's language; and a caseload page's summaries in one call."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from sop_assessment.case_view.answer import page_json
from sop_assessment.case_view.rules import is_internal
from sop_assessment.case_view.schemas import AssessmentCaseView, CaseSummaries, CaseViewsIn, CaseViewStatement
from sop_assessment.case_view.service import (
    ViewBounds,
    assessment_case_view,
    case_summaries,
    statement_fields_shown,
)
from sop_assessment.case_view.windows import scale_window, statement_window
from sop_assessment.models import StatementKind
from sop_assessment.ratings.schemas import Trajectory
from sop_assessment.sdm.service import catalog_of
from sop_shared.audit import RequestAccess, audit_request, audit_request_many
from sop_shared.auth import CurrentPrincipal, RequestAudience, require_case_scope, require_cases_read
from sop_shared.clock import Now
from sop_shared.db import ReadSessionDep
from sop_shared.language_tags import LanguageTag
from sop_shared.pagination import DEFAULT_LIMIT, CountedPage, FirstItems, ListPageDep
from sop_shared.plain_answers import json_response
from sop_shared.policy import Scope
from sop_shared.problems import InvalidInput
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["case view"])

Language = Annotated[LanguageTag, Query(description="The reader's language (BCP 47, e.g. en, es, mh)")]


@router.get(
    "/cases/{case_id}/case-view",
    response_model=AssessmentCaseView,
    dependencies=[known_query_params("language", "harm_first", "danger_first", "scale_first")],
)
async def case_view(
    case_id: uuid.UUID,
    request: Request,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
    now: Now,
    language: Language = "en",
    harm_first: FirstItems = DEFAULT_LIMIT,
    danger_first: FirstItems = DEFAULT_LIMIT,
    scale_first: FirstItems = DEFAULT_LIMIT,
) -> Response:
    """Statements (with their current translations and plain-language checks), safety goals, the latest
    ratings and trajectories, the current map, the SDM summary, the child's voice and the glossary, as the
    request's audience (X-SOP-Audience) may see them: the assessment part of the case view in one call.
    The long lists are bounded: the first `harm_first` harm and `danger_first` danger statements and the first
    `scale_first` targets of the safety scale, each with its total count and a cursor to the rest."""
    # answered as plain data, serialised once (`case_view.answer`: the JSON of `AssessmentCaseView`)
    require_case_scope(principal, case_id, Scope.case_read)
    view, fields = await assessment_case_view(
        session,
        case_id=case_id,
        audience=audience,
        language=language,
        catalog=catalog_of(request.app),
        now=now,
        sharing=principal.network_sharing,
        bounds=ViewBounds(harm=harm_first, danger=danger_first, safety_scale=scale_first),
        reader=principal.person_id,
    )
    await audit_request(
        request, session, principal, resource="case_view", action="read", case_id=case_id, fields=fields
    )
    return json_response(view)


@router.get(
    "/cases/{case_id}/case-view/statements",
    response_model=CountedPage[CaseViewStatement],
    dependencies=[known_query_params("kind", "language", "limit", "cursor")],
)
async def case_view_statements(
    case_id: uuid.UUID,
    kind: Annotated[StatementKind, Query(description="harm or danger")],
    request: Request,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
    page: ListPageDep,
    language: Language = "en",
) -> Response:
    """The case view's statements of one kind after `cursor` (the case view's `harm_paging.next_cursor` or
    `danger_paging.next_cursor`, or this list's own), oldest first, exactly as the case view shows them to
    the request's audience in `language`. A cursor of another case or list is refused like a forged one."""
    require_case_scope(principal, case_id, Scope.case_read)
    window = await statement_window(
        session,
        case_id=case_id,
        kind=kind,
        audience=audience,
        language=language,
        limit=page.limit,
        cursor=page.cursor,
        sharing=principal.network_sharing,
    )
    await audit_request(
        request,
        session,
        principal,
        resource="case_view",
        action="read",
        case_id=case_id,
        fields=sorted(statement_fields_shown(window.items)),
    )
    return json_response(page_json(window))


@router.get(
    "/cases/{case_id}/case-view/safety-scale",
    response_model=CountedPage[Trajectory],
    dependencies=[known_query_params("limit", "cursor")],
)
async def case_view_safety_scale(
    case_id: uuid.UUID,
    request: Request,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
    page: ListPageDep,
) -> Response:
    """The safety scale's trajectories after `cursor` (the case view's `trajectory_paging.next_cursor`, or
    this list's own): the overall rating first, then each danger statement, active ones first."""
    require_case_scope(principal, case_id, Scope.case_read)
    window = await scale_window(
        session,
        case_id=case_id,
        audience=audience,
        limit=page.limit,
        cursor=page.cursor,
        sharing=principal.network_sharing,
    )
    await audit_request(
        request, session, principal, resource="case_view", action="read", case_id=case_id, fields=["safety_scale"]
    )
    return json_response(page_json(window.trajectories))


@router.post("/case-views", response_model=CaseSummaries, dependencies=[known_query_params()])
async def case_views(
    body: CaseViewsIn,
    request: Request,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
    now: Now,
) -> CaseSummaries:
    """A caseload page: per case, in the order asked, the active danger statements, the latest overall
    safety-scale rating, the latest safety decision and risk level, and the approvals waiting. 1 to 50
    different cases, each one the token's (a bulk-read token) — any other answers 404."""
    if len(set(body.case_ids)) != len(body.case_ids):
        raise InvalidInput.field("case_ids", "each case once")
    require_cases_read(principal, body.case_ids)
    items = await case_summaries(
        session, body.case_ids, catalog=catalog_of(request.app), now=now, internal=is_internal(audience)
    )
    await audit_request_many(
        request,
        session,
        principal,
        [RequestAccess(resource="case_view", action="read", case_id=case_id) for case_id in body.case_ids],
    )
    return CaseSummaries(items=items)
