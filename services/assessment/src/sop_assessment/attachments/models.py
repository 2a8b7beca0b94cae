"""Attachments (children's drawings): the bytes live in an attachment store; the row says where, what
type, how big, and whose record it belongs to."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, utcnow
from sop_shared.ids import new_id


def _now() -> datetime:
    return utcnow()


class Attachment(AssessmentTable, table=True):
    __tablename__ = "attachment"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    record_id: uuid.UUID = Field(foreign_key="child_voice_record.id", index=True)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=300)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
