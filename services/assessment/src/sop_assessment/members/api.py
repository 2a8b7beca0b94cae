"""A member's own actions, under `/v1/cases/{case_id}`: the person acting is the one the token names (the
gateway puts the member's person id there from the network service's access decision), never one a body
names."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.case_view.http import idempotent_create
from sop_assessment.members.models import StatementResponse
from sop_assessment.members.schemas import MemberRatingIn, StatementResponseIn, StatementResponseOut
from sop_assessment.models import Statement
from sop_assessment.ratings.api import rating_out
from sop_assessment.ratings.models import RaterRole, RatingMode
from sop_assessment.ratings.schemas import ScaleRatingIn, ScaleRatingOut
from sop_assessment.ratings.service import create_rating
from sop_assessment.statements.service import StatementNotFound, statement_seen_by
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_case_scope, require_member
from sop_shared.clock import Now
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import DEFAULT_AUDIENCE, MEMBER_ACTORS, ActorType, Scope
from sop_shared.problems import Conflict, InvalidInput
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["members"])
MEMBER_ONLY: dict[int | str, dict[str, Any]] = {403: {"description": "Not a family or network member of this case"}}


def _role(principal: Principal) -> RaterRole:
    return RaterRole.caregiver if principal.actor_type == ActorType.family else RaterRole.network


async def statement_shown_to_member(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, statement_id: uuid.UUID, version: int | None
) -> Statement:
    """The statement as the member was shown it: in their case, shared with their audience, at the version they
    read (a statement corrected since is a stale write: 409, read it again)."""
    statement = await session.get(Statement, statement_id)
    if (
        statement is None
        or statement.case_id != case_id
        or not statement_seen_by(statement, DEFAULT_AUDIENCE[principal.actor_type], principal.network_sharing)
    ):
        raise StatementNotFound()  # missing, not shared, or a harm statement the family keeps from their network
    if version is None:
        raise InvalidInput.field("statement_version", "say which version of the statement you read")
    if statement.version != version:
        raise Conflict(f"the statement is at version {statement.version} now, not {version}: read it again")
    return statement


@router.post(
    "/member-scale-ratings",
    status_code=201,
    response_model=ScaleRatingOut,
    dependencies=[known_query_params()],
    responses={**MEMBER_ONLY, 409: {"description": "Already rated on this occasion, or the statement changed"}},
)
async def rate_as_member(
    case_id: uuid.UUID,
    body: MemberRatingIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    now: Now,
) -> Response:
    """A caregiver or network member gives their own safety-scale rating, written by themselves, with what
    would move it one up."""
    person_id = require_member(principal, case_id)

    async def create() -> object:
        if body.statement_id is not None:
            await statement_shown_to_member(session, principal, case_id, body.statement_id, body.statement_version)
        elif body.statement_version is not None:
            raise InvalidInput.field("statement_version", "only with a statement_id")
        rating = ScaleRatingIn(
            statement_id=body.statement_id,
            occasion_on=body.occasion_on or now.date(),
            occasion=body.occasion,
            rater_name=principal.name or principal.subject,
            rater_person_id=person_id,
            rater_role=_role(principal),
            score=body.score,
            mode=RatingMode.written_independent,
            rationale=body.rationale,
            one_step_up=body.one_step_up,
        )
        return await create_rating(session, case_id=case_id, body=rating, created_by=principal.subject)

    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="scale_rating",
        case_id=case_id,
        create=create,
        render=rating_out,
        location=lambda r: f"/v1/cases/{case_id}/scale-ratings",
    )


def response_out(response: object) -> StatementResponseOut:
    return StatementResponseOut.model_validate(response, from_attributes=True)


@router.post(
    "/statements/{statement_id}/responses",
    status_code=201,
    response_model=StatementResponseOut,
    dependencies=[known_query_params()],
    responses={**MEMBER_ONLY, 409: {"description": "The statement changed since the member read it"}},
)
async def respond_to_statement(
    case_id: uuid.UUID,
    statement_id: uuid.UUID,
    body: StatementResponseIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """A caregiver or network member says they agree, partly agree or disagree with a statement they were
    shown, in their own words — kept exactly as they wrote them, beside the statement (never in it)."""
    person_id = require_member(principal, case_id)

    async def create() -> object:
        await statement_shown_to_member(session, principal, case_id, statement_id, body.statement_version)
        response = StatementResponse(
            case_id=case_id,
            statement_id=statement_id,
            statement_version=body.statement_version,
            person_id=person_id,
            responder_name=principal.name or principal.subject,
            responder_role=_role(principal).value,
            stance=body.stance,
            words=body.words,
            language=body.language,
            created_by=principal.subject,
        )
        session.add(response)
        await session.flush()
        return response

    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="statement_response",
        case_id=case_id,
        create=create,
        render=response_out,
        location=lambda r: f"/v1/cases/{case_id}/statements/{statement_id}/responses",
    )


@router.get(
    "/statements/{statement_id}/responses",
    response_model=Page[StatementResponseOut],
    dependencies=[known_query_params("limit", "cursor")],
)
async def statement_responses(
    case_id: uuid.UUID,
    statement_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
) -> Page[StatementResponseOut]:
    """What the family and the network said about a statement, oldest first, a page at a time: the agency
    reads every response, a member their own — of a statement their audience reads (404 otherwise, like a
    missing one)."""
    require_case_scope(principal, case_id, Scope.case_read)
    statement = await session.get(Statement, statement_id)
    if (
        statement is None
        or statement.case_id != case_id
        or not statement_seen_by(statement, audience, principal.network_sharing)
    ):
        raise StatementNotFound()
    query = select(StatementResponse).where(col(StatementResponse.statement_id) == statement_id)
    if principal.actor_type in MEMBER_ACTORS:
        query = query.where(col(StatementResponse.person_id) == principal.person_id)
    elif principal.actor_type != ActorType.staff:
        return Page[StatementResponseOut](items=[])
    rows, next_cursor = page.page(list((await session.execute(page.apply(query, col(StatementResponse.id)))).scalars()))
    await audit_request(
        request,
        session,
        principal,
        resource="statement_response",
        action="read",
        case_id=case_id,
        resource_id=statement_id,
    )
    return Page[StatementResponseOut](items=[response_out(r) for r in rows], next_cursor=next_cursor)
