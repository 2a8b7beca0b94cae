"""Training's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from sop_practice.models import PracticeRole
from sop_practice.schemas import Strict
from sop_practice.training.models import CourseTopic, RosterStatus, SessionStatus
from sop_practice.training.rules import TrainingStatus

CourseCode = Field(min_length=1, max_length=50, pattern=r"^[A-Z0-9][A-Z0-9._-]*$")


class CourseIn(Strict):
    code: str = CourseCode
    title: str = Field(min_length=1, max_length=200)
    topic: CourseTopic
    description: str | None = Field(default=None, max_length=2000)
    hours: float = Field(default=0, ge=0, le=200)
    required_for: list[PracticeRole] = Field(default_factory=list, max_length=6)
    due_within_days: int | None = Field(default=None, ge=0, le=3650)
    certification_months: int | None = Field(default=None, ge=1, le=120, description="Set when the course certifies")


class CourseOut(BaseModel):
    id: uuid.UUID
    code: str
    title: str
    topic: CourseTopic
    description: str | None
    hours: float
    required_for: list[PracticeRole]
    due_within_days: int | None
    certification_months: int | None
    active: bool
    version: int


class SessionIn(Strict):
    course_code: str = CourseCode
    starts_at: datetime
    ends_at: datetime
    location: str | None = Field(default=None, min_length=1, max_length=200)
    trainer_subject: str | None = Field(default=None, min_length=1, max_length=200)
    capacity: int | None = Field(default=None, ge=1, le=1000)


class RosterIn(Strict):
    """People to enrol (registered practitioners); someone enrolled already is left as they are."""

    subjects: list[str] = Field(min_length=1, max_length=500)


class AttendanceIn(Strict):
    subject: str = Field(min_length=1, max_length=200)
    attended: bool
    completed: bool = Field(default=False, description="Completed the course at this session (needs attended)")


class AttendanceSheet(Strict):
    entries: list[AttendanceIn] = Field(min_length=1, max_length=500)


class RosterEntryOut(BaseModel):
    person_subject: str
    status: RosterStatus
    completed: bool
    version: int


class SessionOut(BaseModel):
    id: uuid.UUID
    course_code: str
    course_title: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    trainer_subject: str | None
    capacity: int | None
    status: SessionStatus
    external_system: str | None
    external_id: str | None
    version: int
    roster: list[RosterEntryOut]


class CourseStanding(BaseModel):
    course_code: str
    title: str
    topic: CourseTopic
    required: bool
    status: TrainingStatus
    due_on: date | None
    last_completed_on: date | None
    certified_until: date | None


class CompletionOut(BaseModel):
    course_code: str
    completed_on: date
    certified_until: date | None
    source: str
    session_id: uuid.UUID | None


class TrainingRecordOut(BaseModel):
    """A worker's training record on `as_of`: each required or completed course's standing, and every completion."""

    subject: str
    name: str
    unit: str | None
    as_of: date
    courses: list[CourseStanding]
    completions: list[CompletionOut]


class DueTraining(BaseModel):
    subject: str
    name: str
    course_code: str
    title: str
    status: TrainingStatus
    due_on: date | None


class UnitTrainingDue(BaseModel):
    """A unit's training that needs someone to act on `as_of`: due, overdue, expiring and expired, soonest first."""

    unit: str
    as_of: date
    people: int = Field(description="Active people registered in the unit")
    items: list[DueTraining]


class BatchRosterLine(Strict):
    subject: str = Field(min_length=1, max_length=200)
    attended: bool | None = Field(default=None, description="None: enrolled, attendance not yet known")
    completed: bool = False


class BatchSession(Strict):
    external_id: str = Field(min_length=1, max_length=100)
    course_code: str = CourseCode
    starts_at: datetime
    ends_at: datetime
    location: str | None = Field(default=None, min_length=1, max_length=200)
    trainer_subject: str | None = Field(default=None, min_length=1, max_length=200)
    roster: list[BatchRosterLine] = Field(default_factory=list, max_length=500)


class BatchRosters(Strict):
    """Sessions and rosters from the state's learning system or SACWIS: loading the same batch again changes
    nothing (sessions are matched on `source` + `external_id`, roster lines on the person)."""

    source: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9._-]+$")
    sessions: list[BatchSession] = Field(min_length=1, max_length=200)


class BatchResult(BaseModel):
    sessions_created: int
    sessions_updated: int
    sessions_unchanged: int
    roster_entries_created: int
    roster_entries_updated: int
    roster_entries_unchanged: int
    completions_recorded: int
