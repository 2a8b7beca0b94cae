"""The bulk read for the gateway: everything the case view needs from this service, in one call."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from sop_assessment.goals.schemas import SafetyGoalOut
from sop_assessment.goals.service import case_goals, goal_out
from sop_assessment.maps.rules import map_warnings
from sop_assessment.maps.schemas import MapOut, MapWarning
from sop_assessment.maps.service import latest_map, map_out
from sop_assessment.models import Statement, StatementKind, StatementStatus
from sop_assessment.ratings.api import rating_out
from sop_assessment.ratings.models import OVERALL
from sop_assessment.ratings.rules import latest_occasion, target_of, trajectory
from sop_assessment.ratings.schemas import ScaleRatingOut, Trajectory
from sop_assessment.ratings.service import ratings_of
from sop_assessment.schemas import StatementOut
from sop_assessment.statements.service import statement_out
from sop_assessment.supervision.models import Approval, ApprovalStatus
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_case_scope
from sop_shared.db import SessionDep
from sop_shared.policy import Scope
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["case view"])


class CaseViewStatements(BaseModel):
    harm: list[StatementOut]
    danger: list[StatementOut]


class SafetyScale(BaseModel):
    latest: list[ScaleRatingOut] = Field(description="Per danger statement and overall: the ratings of its most "
                                                     "recent occasion")
    trajectory: list[Trajectory] = Field(description="Per danger statement (active first) and overall")


class AssessmentCaseView(BaseModel):
    case_id: uuid.UUID
    statements: CaseViewStatements
    safety_goals: list[SafetyGoalOut]
    safety_scale: SafetyScale
    map: MapOut | None = Field(description="The case's most recently changed map, as its current version reads")
    pending_approvals: int
    warnings: list[MapWarning]


@router.get("/cases/{case_id}/case-view", response_model=AssessmentCaseView, dependencies=[known_query_params()])
async def case_view(case_id: uuid.UUID, request: Request, session: SessionDep,
                    principal: CurrentPrincipal) -> AssessmentCaseView:
    """Statements (with their plain-language checks), safety goals, the latest ratings and trajectories,
    the current map, and how many approvals wait: the assessment part of the case view in one call."""
    require_case_scope(principal, case_id, Scope.case_read)
    statements = list((await session.execute(
        select(Statement).where(Statement.case_id == case_id).order_by(Statement.id))).scalars())
    goals = await case_goals(session, case_id)
    ratings = await ratings_of(session, case_id=case_id, every_target=True)
    dangers = [s for s in statements if s.kind == StatementKind.danger]
    dangers.sort(key=lambda s: (s.status != StatementStatus.active, s.id))
    latest, trajectories = [], []
    for statement_id in [s.id for s in dangers] + [None]:
        target = target_of(statement_id)
        rows = [r for r in ratings if r.target == target]
        if not rows and target == OVERALL:
            continue
        latest += latest_occasion(rows)
        trajectories.append(Trajectory.model_validate(trajectory(rows, statement_id)))
    the_map = await latest_map(session, case_id)
    pending = (await session.execute(select(func.count()).select_from(Approval).where(
        Approval.case_id == case_id, Approval.status == ApprovalStatus.pending))).scalar_one()
    active = sum(1 for s in dangers if s.status == StatementStatus.active)
    await audit_request(request, session, principal, resource="case_view", action="read", case_id=case_id)
    return AssessmentCaseView(
        case_id=case_id,
        statements=CaseViewStatements(harm=[statement_out(s) for s in statements if s.kind == StatementKind.harm],
                                      danger=[statement_out(s) for s in statements if s.kind == StatementKind.danger]),
        safety_goals=[goal_out(g) for g in goals],
        safety_scale=SafetyScale(latest=[rating_out(r) for r in latest], trajectory=trajectories),
        map=await map_out(session, the_map) if the_map is not None else None,
        pending_approvals=pending,
        warnings=[MapWarning(**w) for w in map_warnings(active)],
    )
