"""Safety-scale ratings over HTTP, and their trajectory over time."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from sop_assessment.case_view.http import idempotent_create
from sop_assessment.ratings.rules import trajectory
from sop_assessment.ratings.schemas import ScaleRatingIn, ScaleRatingOut, ScaleRatingWithdrawal, Trajectory
from sop_assessment.ratings.service import create_rating, list_ratings, raters_seen, ratings_of, withdraw_rating
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, RequestAudience, require_case_scope
from sop_shared.case_refs import DangerStatementRef
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import Scope
from sop_shared.problems import InvalidInput
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["safety scale"])


def rating_out(rating: object) -> ScaleRatingOut:
    return ScaleRatingOut.model_validate(rating, from_attributes=True)


@router.post(
    "/cases/{case_id}/scale-ratings",
    status_code=201,
    response_model=ScaleRatingOut,
    dependencies=[known_query_params()],
)
async def rate(
    case_id: uuid.UUID,
    body: ScaleRatingIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Record one person's 0 to 10 rating on one occasion (409 if they already rated it on that occasion)."""
    require_case_scope(principal, case_id, Scope.case_write)
    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="scale_rating",
        case_id=case_id,
        create=lambda: create_rating(session, case_id=case_id, body=body, created_by=principal.subject),
        render=rating_out,
        location=lambda r: f"/v1/cases/{case_id}/scale-ratings",
    )


@router.get(
    "/cases/{case_id}/scale-ratings",
    response_model=Page[ScaleRatingOut],
    dependencies=[known_query_params("statement_id", "overall", "limit", "cursor")],
)
async def list_case_ratings(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
    statement_id: Annotated[
        DangerStatementRef | None, Query(description="Only ratings of this danger statement")
    ] = None,
    overall: Annotated[bool | None, Query(description="true: only overall ratings; false: only per statement")] = None,
) -> Page[ScaleRatingOut]:
    """A case's ratings, oldest first (the safety network: the family's and the network's own, unless the family
    opened every rater's score to them)."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await list_ratings(
        session,
        case_id=case_id,
        page=page,
        statement_id=statement_id,
        overall=overall,
        raters=raters_seen(audience, principal.network_sharing),
    )
    await audit_request(request, session, principal, resource="scale_rating", action="read", case_id=case_id)
    return Page[ScaleRatingOut](items=[rating_out(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}/scale-ratings/trajectory",
    response_model=Trajectory,
    dependencies=[known_query_params("statement_id", "overall")],
)
async def rating_trajectory(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
    statement_id: Annotated[DangerStatementRef | None, Query(description="The danger statement")] = None,
    overall: Annotated[bool, Query(description="true for the overall rating's trajectory")] = False,
) -> Trajectory:
    """How a danger statement's rating (or the overall one) moved over the occasions."""
    require_case_scope(principal, case_id, Scope.case_read)
    if (statement_id is None) != overall:
        raise InvalidInput.field("statement_id", "give a statement_id, or overall=true, not both")
    raters = raters_seen(audience, principal.network_sharing)
    rows = await ratings_of(session, case_id=case_id, statement_id=statement_id, raters=raters)
    await audit_request(request, session, principal, resource="scale_rating", action="read", case_id=case_id)
    return Trajectory.model_validate(trajectory(rows, statement_id))


@router.post(
    "/cases/{case_id}/scale-ratings/{rating_id}/withdraw",
    response_model=ScaleRatingOut,
    dependencies=[known_query_params()],
    responses={404: {"description": "No such rating in this case"}, 409: {"description": "Withdrawn already"}},
)
async def withdraw(
    case_id: uuid.UUID,
    rating_id: uuid.UUID,
    body: ScaleRatingWithdrawal,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ScaleRatingOut:
    """Withdraw a mistaken rating with a reason: it is kept (never deleted) and left out of the trajectory, and
    the rater may rate that occasion again. Once only (409 after); a rating changes in no other way."""
    require_case_scope(principal, case_id, Scope.case_write)
    rating = await withdraw_rating(
        session, case_id=case_id, rating_id=rating_id, reason=body.reason, by=principal.subject
    )
    await audit_request(
        request, session, principal, resource="scale_rating", action="withdraw", case_id=case_id, resource_id=rating.id
    )
    return rating_out(rating)
