"""The caseload list and the gateway's bulk read for a caseload page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from sop_network.access.api import access_out
from sop_network.access.service import decide_many
from sop_network.access.view import decide_on_rows, read_case_rows, slice_dict
from sop_network.caseload.service import case_id_by_external_id, list_caseload
from sop_network.cases.api import ExternalId, ExternalSystem
from sop_network.models import CaseStatus
from sop_network.schemas import (
    CaseAccessManyOut,
    CaseSummary,
    CaseViewsIn,
    CaseViewSlice,
    CaseViewsOut,
)
from sop_shared.audit import RequestAccess, audit_request, audit_request_many
from sop_shared.auth import CurrentPrincipal
from sop_shared.clock import Now
from sop_shared.db import ReadSessionDep
from sop_shared.pagination import Page, PageDep
from sop_shared.plain_answers import json_response
from sop_shared.problems import InvalidInput, NotFound, problem_response
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["caseload"])
NO_SUCH_CASE = "no such case"


@router.get(
    "/cases",
    response_model=Page[CaseSummary],
    dependencies=[known_query_params("assigned_to", "county", "status", "updated_since", "limit", "cursor")],
)
async def caseload(
    request: Request,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    assigned_to: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only cases this staff member is assigned to")
    ] = None,
    county: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    status: Annotated[CaseStatus | None, Query()] = None,
    updated_since: Annotated[datetime | None, Query(description="Only cases changed at or after this time")] = None,
) -> Page[CaseSummary]:
    """Staff see the cases they are assigned to (narrowed further by the filters); the SACWIS integration
    sees all. Ordered by id, cursor-paged."""
    if updated_since is not None and updated_since.tzinfo is None:
        raise InvalidInput.field("updated_since", "give a time zone, e.g. 2026-10-02T00:00:00Z")
    rows = await list_caseload(
        session, principal, page, assigned_to=assigned_to, county=county, status=status, updated_since=updated_since
    )
    items, next_cursor = page.page(rows)
    await audit_request(request, session, principal, resource="caseload", action="read", fields=[f"{len(items)} cases"])
    return Page[CaseSummary](
        items=[CaseSummary.model_validate(c, from_attributes=True) for c in items], next_cursor=next_cursor
    )


@router.post("/case-views", response_model=CaseViewsOut, dependencies=[known_query_params()])
async def case_views(
    body: CaseViewsIn, request: Request, session: ReadSessionDep, principal: CurrentPrincipal, now: Now
) -> Response:
    """Bulk read for the gateway: up to 50 cases (a caseload page) with the caller's access to each and,
    where allowed, the case with its people and safety network — one statement for the page, one call.
    Each case is decided by this service's own policy table; the token need not be scoped to a case."""
    rows = await read_case_rows(session, list(dict.fromkeys(body.case_ids)))
    items, accesses = [], []
    for case_id in body.case_ids:
        item = slice_dict(
            principal,
            case_id,
            rows[case_id],
            decide_on_rows(principal, case_id, rows[case_id], now),
            with_language=False,
        )
        items.append(item)
        read = item["case"] is not None
        accesses.append(
            RequestAccess(
                resource="case",
                action="read" if read else "decide",
                case_id=case_id,
                resource_id=case_id if read else None,
                fields=[] if read else ["denied"],
            )
        )
    await audit_request_many(request, session, principal, accesses)
    return json_response({"items": items})


@router.post("/case-access", response_model=CaseAccessManyOut, dependencies=[known_query_params()])
async def case_access_many(
    body: CaseViewsIn, request: Request, session: ReadSessionDep, principal: CurrentPrincipal, now: Now
) -> CaseAccessManyOut:
    """The lean bulk decision for a caseload page (what the gateway needs before it asks the other services
    for the page's summaries): the caller's access to each of up to 50 cases, decided by this service's own
    policy table in one query, without reading the cases (`POST /v1/case-views` also returns each allowed
    case with its people and safety network). Each decision is audited, as `GET /v1/cases/{id}/access`
    audits one."""
    ids = list(dict.fromkeys(body.case_ids))
    decisions = await decide_many(session, principal, ids, now)
    await audit_request_many(
        request,
        session,
        principal,
        [
            RequestAccess(
                resource="case_access",
                action="decide",
                case_id=case_id,
                fields=["allowed" if decisions[case_id].allowed else "denied"],
            )
            for case_id in ids
        ],
    )
    return CaseAccessManyOut(items=[access_out(case_id, principal, decisions[case_id]) for case_id in body.case_ids])


@router.get(
    "/case-views/by-external/{system}/{external_id:path}",
    response_model=CaseViewSlice,
    dependencies=[known_query_params()],
    responses={404: {"description": "No such case, or one the caller may not see: the same answer"}},
)
async def case_view_by_external_id(
    system: ExternalSystem,
    external_id: ExternalId,
    request: Request,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> Response:
    """The gateway's `caseByExternalId`: the same slice as `GET /v1/cases/{case_id}/view`, for the case
    SACWIS knows as (`system`, `external_id`). Access is decided by this service's own policy (the token
    need not be scoped to a case), so a case the caller may not see answers exactly like a missing one.
    (`{external_id:path}` so that an id with a slash is refused as 422, not routed elsewhere.)"""
    case_id = await case_id_by_external_id(session, system, external_id)
    rows = (await read_case_rows(session, [case_id]))[case_id] if case_id is not None else None
    decision = decide_on_rows(principal, case_id, rows, now) if case_id is not None and rows is not None else None
    if case_id is None or rows is None or decision is None or not decision.allowed:
        # Answered, not raised: the request succeeds, so the refusal is audited too.
        await audit_request(
            request,
            session,
            principal,
            resource="case",
            action="decide",
            case_id=case_id,
            resource_id=f"{system}/{external_id}",
            fields=["denied"],
        )
        return problem_response(NotFound(NO_SUCH_CASE), request)
    view = slice_dict(principal, case_id, rows, decision)
    await audit_request(
        request,
        session,
        principal,
        resource="case",
        action="read",
        case_id=case_id,
        resource_id=case_id,
        fields=[f"external:{system}/{external_id}"],
    )
    return json_response(view)
