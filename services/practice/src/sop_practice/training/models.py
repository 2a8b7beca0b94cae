"""Tables of training: the course catalogue (data, seeded by migration and extended by the coordinator),
sessions with their rosters and attendance, and completions (with the certification's expiry, if the course
certifies)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, UniqueConstraint, Uuid
from sqlmodel import Field

from sop_practice.models import PracticeTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


class CourseTopic(StrEnum):
    sop_foundations = "sop_foundations"
    mapping = "mapping"
    harm_and_danger_statements = "harm_and_danger_statements"
    safety_networks = "safety_networks"
    child_voice_tools = "child_voice_tools"
    sdm_instruments = "sdm_instruments"
    supervision = "supervision"


class SessionStatus(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class RosterStatus(StrEnum):
    enrolled = "enrolled"
    attended = "attended"
    absent = "absent"


class CompletionSource(StrEnum):
    attendance = "attendance"  # a trainer recorded it at a session
    batch = "batch"  # the state's learning system (or SACWIS) loaded it


def _created() -> datetime:
    return utcnow()


class Course(PracticeTable, table=True):
    __tablename__ = "course"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code: str = Field(max_length=50, unique=True)
    title: str = Field(max_length=200)
    topic: CourseTopic = Field(sa_type=enum_column(CourseTopic))
    description: str | None = Field(default=None, max_length=2000)
    hours: float = 0
    # Practice roles for whom the course is required, due this many days after they start in the role.
    required_for: list[str] = Field(sa_column=Column(JSON, nullable=False))
    due_within_days: int | None = None
    # A course that certifies (e.g. to use an SDM instrument): valid this many months after completion.
    certification_months: int | None = None
    active: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class TrainingSession(PracticeTable, table=True):
    __tablename__ = "training_session"
    __table_args__ = (UniqueConstraint("external_system", "external_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    course_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("course.id"), nullable=False, index=True))
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    location: str | None = Field(default=None, max_length=200)
    trainer_subject: str | None = Field(default=None, max_length=200, index=True)
    capacity: int | None = None
    status: SessionStatus = Field(default=SessionStatus.scheduled, sa_type=enum_column(SessionStatus))
    # Where a batch load came from and its id there: the same session loaded again is the same row.
    external_system: str | None = Field(default=None, max_length=50)
    external_id: str | None = Field(default=None, max_length=100)
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class RosterEntry(PracticeTable, table=True):
    __tablename__ = "roster_entry"
    __table_args__ = (UniqueConstraint("session_id", "person_subject"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    session_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("training_session.id"), nullable=False))
    person_subject: str = Field(max_length=200, index=True)
    status: RosterStatus = Field(default=RosterStatus.enrolled, sa_type=enum_column(RosterStatus))
    completed: bool = False
    recorded_by: str = Field(max_length=200)
    version: int = 1
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class Completion(PracticeTable, table=True):
    """A person completed a course on a day; if the course certifies, certified until a day."""

    __tablename__ = "training_completion"
    __table_args__ = (
        UniqueConstraint("person_subject", "course_id", "completed_on"),
        Index("ix_training_completion_person_course", "person_subject", "course_id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    person_subject: str = Field(max_length=200)
    course_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("course.id"), nullable=False))
    completed_on: date
    certified_until: date | None = None
    session_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, ForeignKey("training_session.id")))
    source: CompletionSource = Field(sa_type=enum_column(CompletionSource))
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
