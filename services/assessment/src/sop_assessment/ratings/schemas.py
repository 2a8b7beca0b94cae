"""What the safety-scale API promises: ratings and their trajectory."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from sop_assessment.ratings.models import RaterRole, RatingMode
from sop_assessment.schemas import Name, Strict
from sop_shared import case_refs

ZERO_ANCHOR = "The children cannot safely be with their caregivers."
TEN_ANCHOR = "There is enough safety for the agency to close the case."


class ScaleRatingIn(Strict):
    """One person's rating on one occasion, of one danger statement or (without `statement_id`) overall.
    0 means the children cannot safely be with their caregivers; 10 means there is enough safety to close
    the case. Ratings are never changed afterwards: the next occasion is a new rating."""

    statement_id: case_refs.DangerStatementRef | None = Field(
        default=None, description="The danger statement; absent = overall"
    )
    occasion_on: date
    occasion: Annotated[
        str, Field(max_length=200, description="e.g. 'family meeting'; tells apart two occasions on one day")
    ] = ""
    rater_name: Name
    rater_person_id: case_refs.PersonRef | None = None
    rater_role: RaterRole
    score: int = Field(ge=0, le=10)
    mode: RatingMode = RatingMode.verbal
    anchors_shown: bool = True
    zero_anchor: Annotated[str, Field(min_length=1, max_length=500)] = ZERO_ANCHOR
    ten_anchor: Annotated[str, Field(min_length=1, max_length=500)] = TEN_ANCHOR
    rationale: Annotated[str | None, Field(max_length=2000)] = None
    one_step_up: Annotated[str | None, Field(max_length=2000, description="What would move it one up")] = None


class ScaleRatingOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    statement_id: uuid.UUID | None
    occasion_on: date
    occasion: str
    rater_name: str
    rater_person_id: uuid.UUID | None
    rater_role: RaterRole
    score: int
    mode: RatingMode
    anchors_shown: bool
    zero_anchor: str
    ten_anchor: str
    rationale: str | None
    one_step_up: str | None
    created_by: str
    created_at: datetime
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawal_reason: str | None = None


class ScaleRatingWithdrawal(Strict):
    """Withdraw a mistaken rating: it is kept with the reason, and left out of the trajectory."""

    reason: Annotated[str, Field(min_length=1, max_length=2000, description="Why the rating is withdrawn")]


class TrajectoryRating(BaseModel):
    rater_name: str
    rater_role: RaterRole
    score: int


class TrajectoryOccasion(BaseModel):
    occasion_on: date
    occasion: str
    ratings: list[TrajectoryRating]
    lowest: int
    highest: int
    mean: float


class RaterPoint(BaseModel):
    occasion_on: date
    occasion: str
    score: int
    change: int | None = Field(description="Up (+) or down (-) since this rater's previous rating")


class RaterSeries(BaseModel):
    rater_name: str
    rater_role: RaterRole
    points: list[RaterPoint]


class Trajectory(BaseModel):
    """How one danger statement (or the overall rating) moved over time: occasions oldest first, and each
    rater's own line."""

    statement_id: uuid.UUID | None
    occasions: list[TrajectoryOccasion]
    raters: list[RaterSeries]
