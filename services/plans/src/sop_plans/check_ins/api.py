"""Monitoring check-ins over HTTP: record one, list them, and the plan's week-by-week record."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from sop_plans.check_ins.service import list_check_ins, record_check_in, weekly_record
from sop_plans.deps import plan_for
from sop_plans.safety_plans.service import check_in_out, newest_check_ins
from sop_plans.schemas import CheckInIn, CheckInOut, CheckInRecord
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal
from sop_shared.case_refs import SafetyPlanRuleRef
from sop_shared.clock import ClockDep
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import CountedPage, ListPageDep, Page, PageDep
from sop_shared.policy import Scope
from sop_shared.query_params import known_query_params

router = APIRouter(tags=["check-ins"])


@router.post(
    "/safety-plans/{plan_id}/check-ins",
    status_code=201,
    response_model=CheckInOut,
    dependencies=[known_query_params()],
    responses={409: {"description": "The plan has no version in force, or it has ended"}},
)
async def create_check_in(
    plan_id: uuid.UUID,
    body: CheckInIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    clock: ClockDep,
) -> Response:
    """Someone saw whether a rule of the plan in force was kept: the evidence of safety over time."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_write)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        return replayed
    check_in = await record_check_in(session, plan, body, by=principal.subject, now=clock.now())
    await audit_request(
        request, session, principal, resource="check_in", action="create", case_id=plan.case_id, resource_id=check_in.id
    )
    content = check_in_out(check_in).model_dump(mode="json")
    await idempotency.remember(session, body, status_code=201, content=content)
    return JSONResponse(content, status_code=201)


@router.get(
    "/safety-plans/{plan_id}/check-ins",
    response_model=Page[CheckInOut],
    dependencies=[known_query_params("rule_id", "kept", "limit", "cursor")],
)
async def get_check_ins(
    plan_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    rule_id: Annotated[SafetyPlanRuleRef | None, Query(description="Only this rule's")] = None,
    kept: Annotated[bool | None, Query(description="Only kept (true) or broken (false)")] = None,
) -> Page[CheckInOut]:
    """The plan's check-ins in the order they were recorded."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    rows, next_cursor = await list_check_ins(session, plan_id=plan.id, rule_id=rule_id, kept=kept, page=page)
    await audit_request(
        request, session, principal, resource="check_in", action="read", case_id=plan.case_id, resource_id=plan.id
    )
    return Page[CheckInOut](items=[check_in_out(c) for c in rows], next_cursor=next_cursor)


@router.get(
    "/safety-plans/{plan_id}/recent-check-ins",
    response_model=CountedPage[CheckInOut],
    dependencies=[known_query_params("limit", "cursor")],
)
async def get_recent_check_ins(
    plan_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, page: ListPageDep
) -> CountedPage[CheckInOut]:
    """The plan's check-ins newest first, a window at a time: the case view's `recent_check_ins` continues
    here with its `recent_check_ins_paging.next_cursor` (or reads back with a page's `start_cursor`). A cursor
    of another plan or case is refused."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    window = await newest_check_ins(session, plan, limit=page.limit, cursor=page.cursor)
    await audit_request(
        request, session, principal, resource="check_in", action="read", case_id=plan.case_id, resource_id=plan.id
    )
    return CountedPage[CheckInOut](
        **window.model_dump(exclude={"items"}), items=[check_in_out(c) for c in window.items]
    )


@router.get(
    "/safety-plans/{plan_id}/check-ins/weekly", response_model=CheckInRecord, dependencies=[known_query_params()]
)
async def get_weekly_record(
    plan_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> CheckInRecord:
    """Kept and broken rules per week: the plan's record of safety over time."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    await audit_request(
        request,
        session,
        principal,
        resource="check_in",
        action="read",
        case_id=plan.case_id,
        resource_id=plan.id,
        fields=["weekly"],
    )
    return await weekly_record(session, plan)
