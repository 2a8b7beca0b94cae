"""A person's trauma history and known triggers (a child's or a caregiver's): restricted like 42 CFR Part 2
data, seen only by the audiences a recorded consent names (`sop_shared.policy`, label `trauma_history`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


class PersonRole(StrEnum):
    child = "child"
    caregiver = "caregiver"


class TraumaHistory(AssessmentTable, table=True):
    """What a child or a caregiver has lived through and what is known to set them off, so a plan and a visit
    avoid it. `consented_audiences` are the audiences a recorded consent names (nobody else reads it)."""

    __tablename__ = "trauma_history"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    person_name: str = Field(max_length=200)
    person_id: uuid.UUID | None = None
    person_role: PersonRole = Field(sa_type=enum_column(PersonRole))
    history: str = Field(sa_column=Column(Text, nullable=False))
    # [{trigger, what_helps}]: what is known to set the person off, and what helps then
    triggers: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consented_audiences: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consent_note: str | None = Field(default=None, max_length=1000)
    created_by: str = Field(max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
