"""What the statement-translation API promises."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from sop_assessment.schemas import TEXT_MAX, Name, Strict
from sop_shared.language_tags import LanguageTag
from sop_shared.pagination import Page
from sop_shared.translations import CarriedTranslation, Qualification, TranslationState


class StatementTranslationIn(Strict):
    """A person's translation of a statement's words (the text as the statement reads now, unless
    `statement_version` names the older version that was translated). `verified: true` says a second person
    who reads both languages checked it, and needs `verified_by` and `verifier_qualification` (or verify it
    later, as the verifier, with `POST /v1/cases/{case_id}/translations/{id}/verify`)."""

    language: LanguageTag
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    translated_by: Name = Field(description="The person who translated it (a name or a subject)")
    verified: bool = False
    verified_by: Name | None = None
    verifier_qualification: Qualification | None = Field(
        default=None, description="What qualifies the verifier (needed with `verified: true`)"
    )
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
    verifier_qualification: str | None = Field(default=None, description="What qualifies the verifier")
    verified_at: datetime | None
    state: TranslationState
    created_by: str
    created_at: datetime


# A current translation, as the case view carries it for the gateway to pick the reader's language.
CaseViewTranslation = CarriedTranslation


StatementTranslationPage = Page[StatementTranslationOut]
