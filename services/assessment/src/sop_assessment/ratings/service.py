"""Safety-scale rating operations: rate (with its event), list, and the trajectory."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.models import Statement, StatementKind, platform
from sop_assessment.ratings.models import ScaleRating
from sop_assessment.ratings.rules import fixed_anchors, rater_key, target_of
from sop_assessment.ratings.schemas import ScaleRatingIn
from sop_shared.db import utcnow
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.policy import (
    DEFAULT_SHARING,
    MEMBER_RATER_ROLES,
    Audience,
    NetworkSharing,
    Section,
    may_see_section,
)
from sop_shared.problems import Conflict, InvalidInput, NotFound

RATING_CREATED = "sop.assessment.scale_rating.created"
RATING_WITHDRAWN = "sop.assessment.scale_rating.withdrawn"


class RatingAlreadyGiven(Conflict):
    slug, title = "rating-already-given", "This person already rated this on this occasion"


async def _event(session: AsyncSession, rating: ScaleRating, subject: str, **extra: Any) -> None:
    await emit(
        session,
        platform,
        subject=subject,
        case_id=rating.case_id,
        data={
            "scale_rating_id": str(rating.id),
            "case_id": str(rating.case_id),
            "statement_id": str(rating.statement_id) if rating.statement_id else None,
            "occasion_on": rating.occasion_on.isoformat(),
            **extra,
        },
    )


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
            .where(
                col(ScaleRating.case_id) == case_id,
                col(ScaleRating.target) == target,
                col(ScaleRating.withdrawn_at).is_(None),
            )
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
                col(ScaleRating.withdrawn_at).is_(None),  # a withdrawn rating leaves room for its correction
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
    await _event(session, rating, RATING_CREATED, rater_role=rating.rater_role.value, score=rating.score)
    return rating


async def list_ratings(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    page: PageRequest,
    statement_id: uuid.UUID | None = None,
    overall: bool | None = None,
    raters: frozenset[str] | None = None,
) -> tuple[list[ScaleRating], str | None]:
    """The case's ratings, oldest first; only these rater roles' when `raters` is given (`raters_seen`)."""
    query = select(ScaleRating).where(col(ScaleRating.case_id) == case_id)
    if raters is not None:
        query = query.where(col(ScaleRating.rater_role).in_(sorted(raters)))
    if statement_id is not None:
        query = query.where(col(ScaleRating.statement_id) == statement_id)
    if overall is not None:
        query = query.where(
            col(ScaleRating.statement_id).is_(None) if overall else col(ScaleRating.statement_id).is_not(None)
        )
    rows = list((await session.execute(page.apply(query, col(ScaleRating.id)))).scalars())
    return page.page(rows)


def raters_seen(audience: Audience, shown: NetworkSharing = DEFAULT_SHARING) -> frozenset[str] | None:
    """Whose scores `audience` reads: everyone's, or without the `every_rater` section (the network, unless the
    family opened it) only the family's and the network's own."""
    return None if may_see_section(Section.every_rater, audience, shown) else MEMBER_RATER_ROLES


async def ratings_of(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    statement_id: uuid.UUID | None = None,
    every_target: bool = False,
    raters: frozenset[str] | None = None,
) -> list[ScaleRating]:
    query = select(ScaleRating).where(col(ScaleRating.case_id) == case_id)
    if raters is not None:
        query = query.where(col(ScaleRating.rater_role).in_(sorted(raters)))
    if not every_target:
        query = query.where(col(ScaleRating.target) == target_of(statement_id))
    query = query.where(col(ScaleRating.withdrawn_at).is_(None))  # withdrawn ratings draw nothing
    return list((await session.execute(query.order_by(col(ScaleRating.id)))).scalars())


class RatingAlreadyWithdrawn(Conflict):
    slug, title = "rating-already-withdrawn", "This rating was withdrawn already"


class RatingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such scale rating in this case")


async def withdraw_rating(
    session: AsyncSession, *, case_id: uuid.UUID, rating_id: uuid.UUID, reason: str, by: str
) -> ScaleRating:
    """A mistaken rating is withdrawn with a reason: kept (never deleted), left out of the trajectory; once."""
    rating = (
        await session.execute(
            select(ScaleRating)
            .where(col(ScaleRating.id) == rating_id, col(ScaleRating.case_id) == case_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if rating is None:
        raise RatingNotFound()
    if rating.withdrawn_at is not None:
        raise RatingAlreadyWithdrawn(
            f"withdrawn on {rating.withdrawn_at.date().isoformat()} by {rating.withdrawn_by}",
            scale_rating_id=str(rating.id),
        )
    rating.withdrawn_at, rating.withdrawn_by, rating.withdrawal_reason = utcnow(), by, reason.strip()
    await session.flush()
    await _event(session, rating, RATING_WITHDRAWN)
    return rating
