"""A contact with the family or their network (a visit, a call, a meeting) and the solution-focused questions
the worker asked in it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


class ContactType(StrEnum):
    home_visit = "home_visit"
    office_visit = "office_visit"
    phone = "phone"
    video = "video"
    family_meeting = "family_meeting"
    other = "other"


class Contact(AssessmentTable, table=True):
    """Never changed once recorded: what happened in one contact, and which questions of the bank were used."""

    __tablename__ = "contact"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    contact_on: date
    contact_type: ContactType = Field(sa_type=enum_column(ContactType))
    with_whom: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # [{key, language, answer}]: the question bank's key, the language asked in, a note of the answer
    questions_used: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
