"""Ready to share over HTTP: `POST /v1/cases/{case_id}/<statements|safety-goals|maps>/{id}/share`.

Until then the record is a draft: the agency reads it, the family, their network, partners and the court do
not. With If-Match (the version read); a body `{"reason": …}` is needed when the plain-language check has
findings to fix (422 naming `reason` otherwise)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from sop_assessment.case_view.access import require_record_scope
from sop_assessment.goals.models import SafetyGoal
from sop_assessment.goals.schemas import SafetyGoalOut
from sop_assessment.goals.service import SafetyGoalNotFound, goal_out
from sop_assessment.maps.models import AssessmentMap
from sop_assessment.maps.schemas import MapOut
from sop_assessment.maps.service import MapNotFound, map_out
from sop_assessment.models import Statement
from sop_assessment.schemas import StatementOut
from sop_assessment.sharing.service import share_goal, share_map, share_statement
from sop_assessment.statements.service import StatementNotFound, statement_out
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal
from sop_shared.concurrency import IfMatchVersion, set_etag
from sop_shared.db import SessionDep
from sop_shared.policy import Scope
from sop_shared.query_params import known_query_params
from sop_shared.sharing import ShareIn

router = APIRouter(prefix="/v1", tags=["ready to share"])

SHARE_DOC = (
    "Mark the {thing} ready to share with the family, their network, partners and the court (until then "
    "only the agency reads it). Needs If-Match (the version read). When the plain-language check has "
    "findings to fix, a `reason` is required (the supervisor sees it); otherwise 422 naming `reason`."
)


@router.post(
    "/cases/{case_id}/statements/{statement_id}/share",
    response_model=StatementOut,
    dependencies=[known_query_params()],
    description=SHARE_DOC.format(thing="statement"),
)
async def share_case_statement(
    case_id: uuid.UUID,
    statement_id: uuid.UUID,
    body: ShareIn,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> StatementOut:
    statement = await session.get(Statement, statement_id)
    require_record_scope(principal, statement, Scope.case_write, StatementNotFound(), path_case_id=case_id)
    assert statement is not None
    statement = await share_statement(
        session, statement, expected_version=version, reason=body.reason, by=principal.subject
    )
    await audit_request(
        request, session, principal, resource="statement", action="update", case_id=case_id, resource_id=statement.id
    )
    set_etag(response, statement.version)
    return statement_out(statement)


@router.post(
    "/cases/{case_id}/safety-goals/{goal_id}/share",
    response_model=SafetyGoalOut,
    dependencies=[known_query_params()],
    description=SHARE_DOC.format(thing="safety goal"),
)
async def share_case_goal(
    case_id: uuid.UUID,
    goal_id: uuid.UUID,
    body: ShareIn,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> SafetyGoalOut:
    goal = await session.get(SafetyGoal, goal_id)
    require_record_scope(principal, goal, Scope.case_write, SafetyGoalNotFound(), path_case_id=case_id)
    assert goal is not None
    goal = await share_goal(session, goal, expected_version=version, reason=body.reason, by=principal.subject)
    await audit_request(
        request, session, principal, resource="safety_goal", action="update", case_id=case_id, resource_id=goal.id
    )
    set_etag(response, goal.version)
    return goal_out(goal)


@router.post(
    "/cases/{case_id}/maps/{map_id}/share",
    response_model=MapOut,
    dependencies=[known_query_params()],
    description=SHARE_DOC.format(thing="map's current version")
    + " The family keeps reading the shared version while the worker saves later ones.",
)
async def share_case_map(
    case_id: uuid.UUID,
    map_id: uuid.UUID,
    body: ShareIn,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> MapOut:
    the_map = await session.get(AssessmentMap, map_id)
    require_record_scope(principal, the_map, Scope.case_write, MapNotFound(), path_case_id=case_id)
    assert the_map is not None
    the_map = await share_map(session, the_map, expected_version=version, reason=body.reason, by=principal.subject)
    await audit_request(
        request, session, principal, resource="map", action="update", case_id=case_id, resource_id=the_map.id
    )
    set_etag(response, the_map.current_version)
    return await map_out(session, the_map)
