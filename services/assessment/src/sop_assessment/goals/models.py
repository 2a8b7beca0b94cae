"""Safety goals: one per danger statement, saying what the caregiver will be doing and for how long."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Text, Uuid, text
from sqlmodel import Field

from sop_assessment.models import AssessmentTable, TextSource
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id
from sop_shared.sharing import SharedRecord


class GoalOwner(StrEnum):
    family = "family"
    agency = "agency"
    joint = "joint"


class GoalStatus(StrEnum):
    active = "active"
    achieved = "achieved"
    withdrawn = "withdrawn"


_LIVE = text("status <> 'withdrawn'")


class SafetyGoal(AssessmentTable, SharedRecord, table=True):
    __tablename__ = "safety_goal"
    # One live goal per danger statement, kept by the database too (two creates racing: the loser gets 409).
    __table_args__ = (
        Index(
            "uq_safety_goal_live_danger_statement",
            "danger_statement_id",
            unique=True,
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    danger_statement_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("statement.id"), nullable=False, index=True)
    )
    status: GoalStatus = Field(default=GoalStatus.active, sa_type=enum_column(GoalStatus))
    language: str = Field(default="en", max_length=35)
    text_source: TextSource = Field(sa_type=enum_column(TextSource))
    composed_text: str = Field(sa_column=Column(Text, nullable=False))
    caregiver_will_be_doing: str | None = Field(default=None, max_length=1000)
    child_will_experience: str | None = Field(default=None, max_length=1000)
    others_will_see: str | None = Field(default=None, max_length=1000)
    duration: str = Field(max_length=40)  # ISO-8601, e.g. P3M
    owner: GoalOwner = Field(sa_type=enum_column(GoalOwner))
    created_by: str = Field(max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
