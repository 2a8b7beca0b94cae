"""Safety-scale rating operations: rate (with its event), list, and the trajectory."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.models import Statement, StatementKind, platform
from sop_assessment.ratings.models import ScaleRating
from sop_assessment.ratings.rules import fixed_anchors, rater_key, target_of
from sop_assessment.ratings.schemas import ScaleRatingIn
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.problems import Conflict, InvalidInput

RATING_CREATED = "sop.assessment.scale_rating.created"


class RatingAlreadyGiven(Conflict):
    slug, title = "rating-already-given", "This person already rated this on this occasion"


async def create_rating(
    session: AsyncSession, *, case_id: uuid.UUID, body: ScaleRatingIn, created_by: str
) -> ScaleRating:
    if body.statement_id is not None:
        statement = await session.get(Statement, body.statement_id)
        if statement is None or statement.case_id != case_id:
            raise InvalidInput.field("statement_id", "no such statement in this case")
        if statement.kind != StatementKind.danger:
            raise InvalidInput.field(
                "statement_id", "the safety scale rates danger statements (or the case overall), not harm statements"
            )
    key, target = rater_key(body.rater_name), target_of(body.statement_id)
    first = (
        await session.execute(
            select(col(ScaleRating.zero_anchor), col(ScaleRating.ten_anchor))
            .where(col(ScaleRating.case_id) == case_id, col(ScaleRating.target) == target)
            .order_by(col(ScaleRating.id))
            .limit(1)
        )
    ).first()
    anchors, errors = fixed_anchors(
        (body.zero_anchor, body.ten_anchor),
        (first[0], first[1]) if first is not None else None,
        given_fields=set(body.model_fields_set),
    )
    if errors:
        raise InvalidInput(errors)
    clash = (
        await session.execute(
            select(col(ScaleRating.id)).where(
                col(ScaleRating.case_id) == case_id,
                col(ScaleRating.target) == target,
                col(ScaleRating.occasion_on) == body.occasion_on,  # one occasion per day, whatever its label
                col(ScaleRating.rater_key) == key,
            )
        )
    ).first()
    if clash is not None:
        raise RatingAlreadyGiven(
            "one rating per rater, per statement, per day (the same rater on the same day is one occasion); "
            "a new occasion is a new rating",
            scale_rating_id=str(clash[0]),
        )
    rating = ScaleRating(
        case_id=case_id,
        target=target,
        rater_key=key,
        created_by=created_by,
        **body.model_dump(exclude={"rater_name", "zero_anchor", "ten_anchor"}),
        rater_name=" ".join(body.rater_name.split()),
        zero_anchor=anchors[0],
        ten_anchor=anchors[1],
    )
    session.add(rating)
    await session.flush()
    await emit(
        session,
        platform,
        subject=RATING_CREATED,
        case_id=case_id,
        data={
            "scale_rating_id": str(rating.id),
            "case_id": str(case_id),
            "statement_id": str(rating.statement_id) if rating.statement_id else None,
            "occasion_on": rating.occasion_on.isoformat(),
            "rater_role": rating.rater_role.value,
            "score": rating.score,
        },
    )
    return rating


async def list_ratings(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    page: PageRequest,
    statement_id: uuid.UUID | None = None,
    overall: bool | None = None,
) -> tuple[list[ScaleRating], str | None]:
    query = select(ScaleRating).where(col(ScaleRating.case_id) == case_id)
    if statement_id is not None:
        query = query.where(col(ScaleRating.statement_id) == statement_id)
    if overall is not None:
        query = query.where(
            col(ScaleRating.statement_id).is_(None) if overall else col(ScaleRating.statement_id).is_not(None)
        )
    rows = list((await session.execute(page.apply(query, col(ScaleRating.id)))).scalars())
    return page.page(rows)


async def ratings_of(
    session: AsyncSession, *, case_id: uuid.UUID, statement_id: uuid.UUID | None = None, every_target: bool = False
) -> list[ScaleRating]:
    query = select(ScaleRating).where(col(ScaleRating.case_id) == case_id)
    if not every_target:
        query = query.where(col(ScaleRating.target) == target_of(statement_id))
    return list((await session.execute(query.order_by(col(ScaleRating.id)))).scalars())
