"""Safety goals over HTTP, each with its plain-language check; and changes to a statement's status,
threat codes and who agrees (the statement's words are never edited in place)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.case_view.access import require_record_scope
from sop_assessment.case_view.http import idempotent_create
from sop_assessment.goals.models import GoalStatus, SafetyGoal
from sop_assessment.goals.schemas import SafetyGoalIn, SafetyGoalOut, SafetyGoalUpdate, StatementUpdate
from sop_assessment.goals.service import (
    SafetyGoalNotFound,
    create_goal,
    goal_out,
    goal_shown_to,
    list_goals,
    update_goal,
    update_statement,
)
from sop_assessment.models import Statement
from sop_assessment.schemas import StatementOut
from sop_assessment.sdm.published import check_threat_codes
from sop_assessment.statements.service import StatementNotFound, statement_out
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_case_scope
from sop_shared.case_refs import DangerStatementRef
from sop_shared.concurrency import IfMatchVersion, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import Audience, Scope
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["safety goals"])


async def _goal_for(
    session: AsyncSession, principal: Principal, goal_id: uuid.UUID, scope: Scope, case_id: uuid.UUID | None = None
) -> SafetyGoal:
    goal = await session.get(SafetyGoal, goal_id)
    require_record_scope(principal, goal, scope, SafetyGoalNotFound(), path_case_id=case_id)
    assert goal is not None
    return goal


@router.post(
    "/cases/{case_id}/safety-goals", status_code=201, response_model=SafetyGoalOut, dependencies=[known_query_params()]
)
async def create_case_goal(
    case_id: uuid.UUID,
    body: SafetyGoalIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Write the safety goal of one danger statement (one live goal per danger statement: 409 for a
    second). Negative phrasing ("will not", "stop") and missing parts come back as findings."""
    require_case_scope(principal, case_id, Scope.case_write)
    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="safety_goal",
        case_id=case_id,
        create=lambda: create_goal(session, case_id=case_id, body=body, created_by=principal.subject),
        render=goal_out,
        location=lambda g: f"/v1/safety-goals/{g.id}",
        version=lambda g: g.version,
    )


@router.get(
    "/cases/{case_id}/safety-goals",
    response_model=Page[SafetyGoalOut],
    dependencies=[known_query_params("status", "danger_statement_id", "limit", "cursor")],
)
async def list_case_goals(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
    status: Annotated[GoalStatus | None, Query()] = None,
    danger_statement_id: Annotated[DangerStatementRef | None, Query()] = None,
) -> Page[SafetyGoalOut]:
    """A case's safety goals, oldest first; outside the agency (X-SOP-Audience) only shared, live ones."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await list_goals(
        session, case_id=case_id, page=page, audience=audience, status=status, danger_statement_id=danger_statement_id
    )
    await audit_request(request, session, principal, resource="safety_goal", action="read", case_id=case_id)
    return Page[SafetyGoalOut](items=[goal_out(row, audience) for row in rows], next_cursor=next_cursor)


async def _read_goal(
    goal_id: uuid.UUID,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID | None,
    audience: Audience,
) -> SafetyGoalOut:
    goal = await _goal_for(session, principal, goal_id, Scope.case_read, case_id)
    if not await goal_shown_to(session, goal, audience):
        raise SafetyGoalNotFound()
    await audit_request(
        request, session, principal, resource="safety_goal", action="read", case_id=goal.case_id, resource_id=goal.id
    )
    set_etag(response, goal.version)
    return goal_out(goal, audience)


@router.get("/safety-goals/{goal_id}", response_model=SafetyGoalOut, dependencies=[known_query_params()])
async def get_goal(
    goal_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> SafetyGoalOut:
    return await _read_goal(goal_id, request, response, session, principal, None, audience)


@router.get(
    "/cases/{case_id}/safety-goals/{goal_id}", response_model=SafetyGoalOut, dependencies=[known_query_params()]
)
async def get_case_goal(
    case_id: uuid.UUID,
    goal_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> SafetyGoalOut:
    return await _read_goal(goal_id, request, response, session, principal, case_id, audience)


async def _patch_goal(
    goal_id: uuid.UUID,
    body: SafetyGoalUpdate,
    version: int,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID | None,
) -> SafetyGoalOut:
    goal = await _goal_for(session, principal, goal_id, Scope.case_write, case_id)
    goal = await update_goal(session, goal, body, expected_version=version)
    await audit_request(
        request, session, principal, resource="safety_goal", action="update", case_id=goal.case_id, resource_id=goal.id
    )
    set_etag(response, goal.version)
    return goal_out(goal)


@router.patch("/safety-goals/{goal_id}", response_model=SafetyGoalOut, dependencies=[known_query_params()])
async def patch_goal(
    goal_id: uuid.UUID,
    body: SafetyGoalUpdate,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> SafetyGoalOut:
    """Change a goal's parts, duration, owner or status (`achieved`, `withdrawn`). Needs If-Match."""
    return await _patch_goal(goal_id, body, version, request, response, session, principal, None)


@router.patch(
    "/cases/{case_id}/safety-goals/{goal_id}", response_model=SafetyGoalOut, dependencies=[known_query_params()]
)
async def patch_case_goal(
    case_id: uuid.UUID,
    goal_id: uuid.UUID,
    body: SafetyGoalUpdate,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> SafetyGoalOut:
    return await _patch_goal(goal_id, body, version, request, response, session, principal, case_id)


async def _patch_statement(
    statement_id: uuid.UUID,
    body: StatementUpdate,
    version: int,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID | None,
) -> StatementOut:
    statement = await session.get(Statement, statement_id)
    require_record_scope(principal, statement, Scope.case_write, StatementNotFound(), path_case_id=case_id)
    assert statement is not None
    check_threat_codes(request.app, body.threat_codes)  # threats of the loaded SDM instruments only
    statement = await update_statement(session, statement, body, expected_version=version, updated_by=principal.subject)
    await audit_request(
        request,
        session,
        principal,
        resource="statement",
        action="update",
        case_id=statement.case_id,
        resource_id=statement.id,
    )
    set_etag(response, statement.version)
    return statement_out(statement)


@router.patch(
    "/statements/{statement_id}", response_model=StatementOut, tags=["statements"], dependencies=[known_query_params()]
)
async def patch_statement(
    statement_id: uuid.UUID,
    body: StatementUpdate,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> StatementOut:
    """Resolve or withdraw a statement (or make a resolved one active again), change the SDM safety-threat
    codes it answers, or who agrees and disputes it; or correct its words with a `change_reason` (the earlier
    words are kept: `…/revisions`; the statement is a draft again). Needs If-Match."""
    return await _patch_statement(statement_id, body, version, request, response, session, principal, None)


@router.patch(
    "/cases/{case_id}/statements/{statement_id}",
    response_model=StatementOut,
    tags=["statements"],
    dependencies=[known_query_params()],
)
async def patch_case_statement(
    case_id: uuid.UUID,
    statement_id: uuid.UUID,
    body: StatementUpdate,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> StatementOut:
    return await _patch_statement(statement_id, body, version, request, response, session, principal, case_id)
