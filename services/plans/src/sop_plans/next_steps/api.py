"""Next steps over HTTP, under the case: create, list (`?overdue=true` for the overdue list), read, update."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_plans.models import NextStep, NextStepStatus
from sop_plans.next_steps.service import (
    create_next_step,
    get_next_step,
    list_next_steps,
    next_step_out,
    update_next_step,
)
from sop_plans.schemas import NextStepIn, NextStepOut, NextStepPatch
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_case_scope
from sop_shared.clock import ClockDep
from sop_shared.concurrency import IfMatchVersion, check_version, etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import Scope
from sop_shared.problems import NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["next steps"])
NO_SUCH_STEP = "no such next step"


@router.post(
    "/cases/{case_id}/next-steps", status_code=201, response_model=NextStepOut, dependencies=[known_query_params()]
)
async def create_step(
    case_id: uuid.UUID,
    body: NextStepIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    clock: ClockDep,
) -> Response:
    """A case-plan action: who does what by when, linked to the safety goal it serves."""
    require_case_scope(principal, case_id, Scope.case_write)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        return replayed
    now = clock.now()
    step = await create_next_step(session, case_id=case_id, body=body, by=principal.subject, now=now)
    await audit_request(
        request, session, principal, resource="next_step", action="create", case_id=case_id, resource_id=step.id
    )
    content = next_step_out(step, now.date()).model_dump(mode="json")
    headers = {"Location": f"/v1/cases/{case_id}/next-steps/{step.id}", "ETag": etag(step.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.get(
    "/cases/{case_id}/next-steps",
    response_model=Page[NextStepOut],
    dependencies=[known_query_params("status", "overdue", "limit", "cursor")],
)
async def list_steps(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    clock: ClockDep,
    status: Annotated[NextStepStatus | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Only open or in-progress steps past their due date")] = False,
) -> Page[NextStepOut]:
    """The case's next steps, oldest first; `?overdue=true` is the overdue list."""
    require_case_scope(principal, case_id, Scope.case_read)
    today = clock.now().date()
    rows, next_cursor = await list_next_steps(
        session, case_id=case_id, status=status, overdue_on=today if overdue else None, page=page
    )
    await audit_request(request, session, principal, resource="next_step", action="read", case_id=case_id)
    return Page[NextStepOut](items=[next_step_out(s, today) for s in rows], next_cursor=next_cursor)


async def _step(session: AsyncSession, case_id: uuid.UUID, step_id: uuid.UUID, *, for_update: bool = False) -> NextStep:
    step = await get_next_step(session, step_id, for_update=for_update)
    if step is None or step.case_id != case_id:
        raise NotFound(NO_SUCH_STEP)
    return step


@router.get("/cases/{case_id}/next-steps/{step_id}", response_model=NextStepOut, dependencies=[known_query_params()])
async def get_step(
    case_id: uuid.UUID,
    step_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    clock: ClockDep,
) -> Response:
    require_case_scope(principal, case_id, Scope.case_read)
    step = await _step(session, case_id, step_id)
    await audit_request(
        request, session, principal, resource="next_step", action="read", case_id=case_id, resource_id=step.id
    )
    return JSONResponse(
        next_step_out(step, clock.now().date()).model_dump(mode="json"), headers={"ETag": etag(step.version)}
    )


@router.patch("/cases/{case_id}/next-steps/{step_id}", response_model=NextStepOut, dependencies=[known_query_params()])
async def patch_step(
    case_id: uuid.UUID,
    step_id: uuid.UUID,
    body: NextStepPatch,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatchVersion,
    clock: ClockDep,
) -> Response:
    """Change a step (its status above all: open, in_progress, done, cancelled)."""
    require_case_scope(principal, case_id, Scope.case_write)
    step = await _step(session, case_id, step_id, for_update=True)
    check_version(step.version, if_match)
    now = clock.now()
    await update_next_step(session, step, body, now=now)
    await audit_request(
        request,
        session,
        principal,
        resource="next_step",
        action="update",
        case_id=case_id,
        resource_id=step.id,
        fields=sorted(body.model_fields_set),
    )
    return JSONResponse(next_step_out(step, now.date()).model_dump(mode="json"), headers={"ETag": etag(step.version)})
