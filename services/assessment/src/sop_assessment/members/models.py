"""A member's response to a statement: never changed, never deleted; a second thought is a new response."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Text, Uuid
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


class Stance(StrEnum):
    agree = "agree"
    partly = "partly"
    disagree = "disagree"


class StatementResponse(AssessmentTable, table=True):
    __tablename__ = "statement_response"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    statement_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("statement.id"), nullable=False, index=True))
    statement_version: int  # the version of the words the member read and answered
    person_id: uuid.UUID  # who answered: the member's own person record (from their token)
    responder_name: str = Field(max_length=200)
    responder_role: str = Field(max_length=20)  # caregiver | network
    stance: Stance = Field(sa_type=enum_column(Stance))
    words: str = Field(sa_column=Column(Text, nullable=False))  # verbatim: never trimmed, never rewritten
    language: str | None = Field(default=None, max_length=35)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
