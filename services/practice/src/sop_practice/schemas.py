"""What the practice API promises: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from sop_practice.models import PracticeRole
from sop_shared.input_models import Strict as Strict  # re-exported: the service's bodies import it from here

Subject = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@:-]+$")
UnitCode = Field(min_length=1, max_length=100)


class PractitionerIn(Strict):
    """Register someone with the practice service (the training coordinator)."""

    subject: str = Subject
    name: str = Field(min_length=1, max_length=200)
    agency: str = Field(min_length=1, max_length=100, description="DCFS, MidSOUTH, …")
    roles: list[PracticeRole] = Field(min_length=1, max_length=6)
    unit: str | None = Field(default=None, min_length=1, max_length=100)
    county: str | None = Field(default=None, min_length=1, max_length=100)
    supervisor_subject: str | None = Field(default=None, min_length=1, max_length=200)
    started_on: date | None = Field(default=None, description="Started in the present role (training is due from)")


class PractitionerUpdate(Strict):
    """Change what is given; leave the rest out."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    agency: str | None = Field(default=None, min_length=1, max_length=100)
    roles: list[PracticeRole] | None = Field(default=None, min_length=1, max_length=6)
    unit: str | None = Field(default=None, min_length=1, max_length=100)
    county: str | None = Field(default=None, min_length=1, max_length=100)
    supervisor_subject: str | None = Field(default=None, min_length=1, max_length=200)
    started_on: date | None = None
    active: bool | None = None


class PractitionerOut(BaseModel):
    id: uuid.UUID
    subject: str
    name: str
    agency: str
    roles: list[PracticeRole]
    unit: str | None
    county: str | None
    supervisor_subject: str | None
    started_on: date | None
    active: bool
    version: int
    updated_at: datetime


class CaseloadEntryIn(Strict):
    """A worker (`worker_subject`) or a whole unit (`unit`) on a coach's caseload: exactly one of the two."""

    worker_subject: str | None = Field(default=None, min_length=1, max_length=200)
    unit: str | None = Field(default=None, min_length=1, max_length=100)
    started_on: date | None = Field(default=None, description="Default: today")


class CaseloadEntryEnd(Strict):
    reason: str = Field(min_length=1, max_length=500)


class CaseloadEntryOut(BaseModel):
    id: uuid.UUID
    coach_subject: str
    worker_subject: str | None
    unit: str | None
    started_on: date
    ended_on: date | None
    end_reason: str | None
    assigned_by: str
    version: int


class CaseloadOut(BaseModel):
    """A coach's open caseload, and every worker it covers (named, or in a unit on it)."""

    coach_subject: str
    entries: list[CaseloadEntryOut]
    workers: list[PractitionerOut] = Field(description="Workers on the caseload: named ones and each unit's")
