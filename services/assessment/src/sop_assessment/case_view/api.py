"""The bulk reads for the gateway: everything the case view needs from this service in one call, for the
request's audience and the reader's language; and a caseload page's summaries in one call."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from sop_assessment.case_view.rules import is_internal
from sop_assessment.case_view.schemas import AssessmentCaseView, CaseSummaries, CaseViewsIn
from sop_assessment.case_view.service import assessment_case_view, case_summaries
from sop_assessment.sdm.service import catalog_of
from sop_shared.audit import RequestAccess, audit_request, audit_request_many
from sop_shared.auth import CurrentPrincipal, RequestAudience, require_case_scope, require_cases_read
from sop_shared.clock import Now
from sop_shared.db import SessionDep
from sop_shared.policy import Scope
from sop_shared.problems import InvalidInput
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["case view"])

# BCP 47, short: a primary language of two or three letters, optionally a region or script ("es", "es-MX", "mh").
LANGUAGE = r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,2}$"


@router.get(
    "/cases/{case_id}/case-view", response_model=AssessmentCaseView, dependencies=[known_query_params("language")]
)
async def case_view(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
    now: Now,
    language: Annotated[
        str, Query(max_length=35, pattern=LANGUAGE, description="The reader's language (BCP 47, e.g. en, es, mh)")
    ] = "en",
) -> AssessmentCaseView:
    """Statements (with their current translations and plain-language checks), safety goals, the latest
    ratings and trajectories, the current map, the SDM summary, the child's voice and the glossary, as the
    request's audience (X-SOP-Audience) may see them: the assessment part of the case view in one call."""
    require_case_scope(principal, case_id, Scope.case_read)
    view, fields = await assessment_case_view(
        session, case_id=case_id, audience=audience, language=language, catalog=catalog_of(request.app), now=now
    )
    await audit_request(
        request, session, principal, resource="case_view", action="read", case_id=case_id, fields=fields
    )
    return view


@router.post("/case-views", response_model=CaseSummaries, dependencies=[known_query_params()])
async def case_views(
    body: CaseViewsIn,
    request: Request,
    session: SessionDep,
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
