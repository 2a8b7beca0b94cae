"""Safety plans over HTTP: create a plan (with its version 1), list a case's plans, read a plan and its
immutable versions."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_plans.models import PlanStatus, SafetyPlan
from sop_plans.safety_plans.service import (
    create_safety_plan,
    current_version,
    get_plan,
    get_version,
    list_plans,
    list_versions,
    plan_out,
    version_out,
)
from sop_plans.schemas import SafetyPlanIn, SafetyPlanOut, SafetyPlanVersionOut
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, require_case_scope
from sop_shared.concurrency import etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import Scope
from sop_shared.problems import NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["safety plans"])

NO_SUCH_PLAN = "no such safety plan"
VersionNumber = Annotated[int, Path(ge=1, le=2_147_483_647, description="The version number (1 is the first)")]


async def _plan_for(session: AsyncSession, principal: Principal, plan_id: uuid.UUID, scope: Scope) -> SafetyPlan:
    """The plan, if the token's case is the plan's case; a plan of another case and a missing plan answer
    the same 404."""
    plan = await get_plan(session, plan_id)
    if plan is None:
        raise NotFound(NO_SUCH_PLAN)
    try:
        require_case_scope(principal, plan.case_id, scope)
    except NotFound:
        raise NotFound(NO_SUCH_PLAN) from None
    return plan


@router.post("/cases/{case_id}/safety-plans", status_code=201, response_model=SafetyPlanOut,
             dependencies=[known_query_params()],
             responses={201: {"description": "Created as a draft with version 1. A repeat with the same "
                                             "Idempotency-Key and body returns this response again."}})
async def create_plan(case_id: uuid.UUID, body: SafetyPlanIn, request: Request, session: SessionDep,
                      principal: CurrentPrincipal, idempotency: IdempotencyDep) -> Response:
    """Create a draft safety plan and its first version. Practice concerns (a rule nobody monitors, a rule
    that is only a service referral) come back in `warnings`; they never block."""
    require_case_scope(principal, case_id, Scope.case_write)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(request, session, principal, resource="safety_plan", action="read", case_id=case_id,
                            resource_id=json.loads(replayed.body).get("id"))
        return replayed
    plan, version = await create_safety_plan(session, case_id=case_id, body=body, created_by=principal.subject)
    await audit_request(request, session, principal, resource="safety_plan", action="create", case_id=case_id,
                        resource_id=plan.id)
    content = plan_out(plan, version).model_dump(mode="json")
    headers = {"Location": f"/v1/safety-plans/{plan.id}", "ETag": etag(plan.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.get("/cases/{case_id}/safety-plans", response_model=Page[SafetyPlanOut],
            dependencies=[known_query_params("status", "limit", "cursor")])
async def list_case_plans(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, page: PageDep,
    status: Annotated[PlanStatus | None, Query(description="Only plans in this status")] = None,
) -> Page[SafetyPlanOut]:
    """A case's safety plans, each with its current version's rules, red flags and monitoring: everything
    the case view needs in one call."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await list_plans(session, case_id=case_id, status=status, page=page)
    await audit_request(request, session, principal, resource="safety_plan", action="read", case_id=case_id)
    return Page[SafetyPlanOut](items=[plan_out(plan, version) for plan, version in rows], next_cursor=next_cursor)


@router.get("/safety-plans/{plan_id}", response_model=SafetyPlanOut, dependencies=[known_query_params()])
async def get_safety_plan(plan_id: uuid.UUID, request: Request, response: Response, session: SessionDep,
                          principal: CurrentPrincipal) -> SafetyPlanOut:
    """One plan with its current version; the ETag is the plan's row version (for If-Match later)."""
    plan = await _plan_for(session, principal, plan_id, Scope.case_read)
    version = await current_version(session, plan)
    await audit_request(request, session, principal, resource="safety_plan", action="read", case_id=plan.case_id,
                        resource_id=plan.id)
    set_etag(response, plan.version)
    return plan_out(plan, version)


@router.get("/safety-plans/{plan_id}/versions", response_model=Page[SafetyPlanVersionOut],
            dependencies=[known_query_params("limit", "cursor")])
async def list_safety_plan_versions(plan_id: uuid.UUID, request: Request, session: SessionDep,
                                    principal: CurrentPrincipal, page: PageDep) -> Page[SafetyPlanVersionOut]:
    """Every version of a plan, oldest first."""
    plan = await _plan_for(session, principal, plan_id, Scope.case_read)
    versions, next_cursor = await list_versions(session, plan_id=plan.id, page=page)
    await audit_request(request, session, principal, resource="safety_plan_version", action="read",
                        case_id=plan.case_id, resource_id=plan.id)
    return Page[SafetyPlanVersionOut](items=[version_out(plan, v) for v in versions], next_cursor=next_cursor)


@router.get("/safety-plans/{plan_id}/versions/{n}", response_model=SafetyPlanVersionOut,
            dependencies=[known_query_params()])
async def get_safety_plan_version(plan_id: uuid.UUID, n: VersionNumber, request: Request, session: SessionDep,
                                  principal: CurrentPrincipal) -> SafetyPlanVersionOut:
    """One immutable version: its content exactly as agreed and the SHA-256 its signatures bind to."""
    plan = await _plan_for(session, principal, plan_id, Scope.case_read)
    version = await get_version(session, plan.id, n)
    if version is None:
        raise NotFound("no such version of this safety plan")
    await audit_request(request, session, principal, resource="safety_plan_version", action="read",
                        case_id=plan.case_id, resource_id=version.id)
    return version_out(plan, version)
