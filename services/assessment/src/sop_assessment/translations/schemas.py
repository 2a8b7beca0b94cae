"""What the statement-translation API promises."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from sop_assessment.schemas import BCP47, TEXT_MAX, Name, Strict
from sop_shared.pagination import Page


class StatementTranslationIn(Strict):
    """A person's translation of a statement's words (the text as the statement reads now, unless
    `statement_version` names the older version that was translated). `verified: true` says a second person
    who reads both languages checked it, and needs `verified_by`."""

    language: str = Field(max_length=35, pattern=BCP47)
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    translated_by: Name = Field(description="The person who translated it (a name or a subject)")
    verified: bool = False
    verified_by: Name | None = None
    statement_version: int | None = Field(default=None, ge=1)
    names_reporter: bool | None = Field(
        default=None,
        description="Whether the text names who reported; default: whether the statement has "
        "`who_reported`. Audiences that may not see the reporter are not shown such "
        "a translation (translate the family's version without the reporter instead)",
    )


class StatementTranslationOut(BaseModel):
    id: uuid.UUID
    statement_id: uuid.UUID
    case_id: uuid.UUID
    statement_version: int
    current: bool = Field(description="Whether it translates the statement's current version")
    language: str
    text: str
    translated_by: str
    names_reporter: bool
    verified: bool
    verified_by: str | None
    verified_at: datetime | None
    created_by: str
    created_at: datetime


class CaseViewTranslation(BaseModel):
    """A current translation, as the case view carries it for the gateway to pick the reader's language."""

    language: str
    text: str
    verified: bool
    current: bool
    translated_by: str


StatementTranslationPage = Page[StatementTranslationOut]
