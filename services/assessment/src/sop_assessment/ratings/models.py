"""Safety-scale ratings: one per rater, per danger statement (or overall), per occasion."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Uuid, text
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id

OVERALL = "overall"


class RaterRole(StrEnum):
    caregiver = "caregiver"
    child = "child"
    network = "network"
    worker = "worker"
    supervisor = "supervisor"
    professional = "professional"


class RatingMode(StrEnum):
    verbal = "verbal"
    written_independent = "written_independent"
    child_path = "child_path"


class ScaleRating(AssessmentTable, table=True):
    """Never changed once given — the history of ratings is the point (a new occasion is a new rating) — except
    that a mistaken one can be withdrawn with a reason (kept, left out of the trajectory)."""

    __tablename__ = "scale_rating"
    __table_args__ = (
        # one live rating per rater, target and occasion: a withdrawn one leaves room for its correction
        Index(
            "uq_scale_rating_live",
            "case_id",
            "target",
            "occasion_on",
            "occasion",
            "rater_key",
            unique=True,
            postgresql_where=text("withdrawn_at IS NULL"),
            sqlite_where=text("withdrawn_at IS NULL"),
        ),
        CheckConstraint("score >= 0 AND score <= 10", name="score_0_to_10"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    statement_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("statement.id"), nullable=True, index=True)
    )
    target: str = Field(max_length=40)  # the statement id, or "overall": a key that is never NULL
    occasion_on: date
    occasion: str = Field(default="", max_length=200)
    rater_name: str = Field(max_length=200)
    rater_key: str = Field(max_length=200)
    rater_person_id: uuid.UUID | None = None
    rater_role: RaterRole = Field(sa_type=enum_column(RaterRole))
    score: int
    mode: RatingMode = Field(sa_type=enum_column(RatingMode))
    anchors_shown: bool = True
    zero_anchor: str = Field(max_length=500)
    ten_anchor: str = Field(max_length=500)
    rationale: str | None = Field(default=None, max_length=2000)
    one_step_up: str | None = Field(default=None, max_length=2000)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # A mistaken rating is withdrawn with a reason, never deleted; the trajectory leaves it out.
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    withdrawn_by: str | None = Field(default=None, max_length=200)
    withdrawal_reason: str | None = Field(default=None, max_length=2000)
