"""The case-view reads over HTTP: one case (`GET /v1/cases/{case_id}/case-view`) and a caseload page
(`POST /v1/case-views`, with a bulk-read token). The path is not under `cases/` because the gateway's façade
reads `cases/<segment>` as a case id."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from sop_plans.case_view.rules import alerts_for_audience, plan_for_audience
from sop_plans.case_view.schemas import CaseGlances, CaseViewsIn, PlansCaseView
from sop_plans.case_view.service import CaseViewParts, glance_at_cases, read_case_view
from sop_plans.deps import PolicyDep
from sop_plans.safety_plans.service import RECENT_CHECK_INS
from sop_shared.audit import RequestAccess, audit_request, audit_request_many
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_case_scope, require_cases_read
from sop_shared.clock import ClockDep
from sop_shared.db import ReadSessionDep, SessionDep
from sop_shared.pagination import FirstItems
from sop_shared.policy import Audience, Scope
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["case view"])


@router.get(
    "/cases/{case_id}/case-view",
    response_model=PlansCaseView,
    dependencies=[known_query_params("check_ins_first")],
)
async def case_view(
    case_id: uuid.UUID,
    request: Request,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
    clock: ClockDep,
    policy: PolicyDep,
    check_ins_first: FirstItems = RECENT_CHECK_INS,
) -> Response:
    """The plans part of the case view in one call and a fixed number of queries: the plan in force (as
    its version in force reads), the newest plans, the next steps (open first) and the alerts. Outside the
    agency (`X-SOP-Audience` family, network, partner, court) the supervisor's decision and comment, the
    worker's practice warnings and the alerts are left out. Each plan carries its newest `check_ins_first`
    check-ins (default 5), their total and a cursor to the rest (`recent_check_ins_paging`)."""
    require_case_scope(principal, case_id, Scope.case_read)
    parts = await read_case_view(
        session, case_id=case_id, now=clock.now(), policy=policy, check_ins=check_ins_first, audience=audience
    )
    await audit_request(
        request,
        session,
        principal,
        resource="case_view",
        action="read",
        case_id=case_id,
        fields=[f"audience:{audience.value}"],
    )
    view = view_for(case_id, audience, principal, parts)
    # serialised once (the response model's JSON), not dumped, validated again and encoded by FastAPI
    return Response(view.model_dump_json(by_alias=True), media_type="application/json")


def view_for(case_id: uuid.UUID, audience: Audience, principal: Principal, parts: CaseViewParts) -> PlansCaseView:
    """The case view's parts shown to `audience` (a member: as the person they are, with the family's sharing)."""
    return PlansCaseView(
        case_id=case_id,
        audience=audience,
        safety_plan=plan_for_audience(parts.safety_plan, audience, principal.person_id, principal.network_sharing)
        if parts.safety_plan is not None
        else None,
        plans=[plan_for_audience(p, audience, principal.person_id, principal.network_sharing) for p in parts.plans],
        next_steps=parts.next_steps,
        alerts=alerts_for_audience(parts.alerts, audience),
    )


@router.post("/case-views", response_model=CaseGlances, dependencies=[known_query_params()])
async def case_views(
    body: CaseViewsIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    clock: ClockDep,
    policy: PolicyDep,
) -> CaseGlances:
    """A caseload page (1 to 50 different cases, each in the bulk-read token) in one call and a fixed
    number of queries: per case, in the order asked, the plan in force in a line, open alerts and overdue
    next steps. A case outside the token answers 404 for the whole call."""
    require_cases_read(principal, body.case_ids)
    glances = await glance_at_cases(session, case_ids=body.case_ids, now=clock.now(), policy=policy)
    await audit_request_many(
        request,
        session,
        principal,
        [
            RequestAccess(resource="case_view", action="read", case_id=case_id, fields=["caseload"])
            for case_id in body.case_ids
        ],
    )
    return CaseGlances(items=glances)
