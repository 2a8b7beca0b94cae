"""The table of statement translations: each one of one version of a statement's words, in one language."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Text, Uuid
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, utcnow
from sop_shared.ids import new_id


def _now() -> datetime:
    return utcnow()


class StatementTranslation(AssessmentTable, table=True):
    """A person's translation of a statement as it read at `statement_version`. Never changed: a better or a
    verified translation is a new row; one of an older version is kept and shown as not current."""

    __tablename__ = "statement_translation"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    statement_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("statement.id"), nullable=False, index=True))
    case_id: uuid.UUID = Field(index=True)
    statement_version: int
    language: str = Field(max_length=35)
    text: str = Field(sa_column=Column(Text, nullable=False))
    translated_by: str = Field(max_length=200)
    # Whether the text names who reported: then only audiences that may see the reporter are shown it.
    names_reporter: bool = False
    verified: bool = False
    verified_by: str | None = Field(default=None, max_length=200)
    verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
