"""What the contacts API promises."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from sop_assessment.contacts.models import ContactType
from sop_assessment.schemas import Name, Strict
from sop_shared import case_refs
from sop_shared.language_tags import LanguageTag
from sop_shared.pagination import Page


class ContactPerson(Strict):
    name: Name
    role: Annotated[str | None, Field(max_length=100, description="e.g. caregiver, child, network")] = None
    person_id: case_refs.PersonRef | None = None


class QuestionUsed(Strict):
    key: Annotated[str, Field(min_length=1, max_length=64, description="The question bank's key (GET /v1/questions)")]
    language: LanguageTag = "en"
    answer: Annotated[str | None, Field(max_length=2000, description="A note of what the person said")] = None


class ContactIn(Strict):
    contact_on: date
    contact_type: ContactType
    with_whom: list[ContactPerson] = Field(min_length=1, max_length=30)
    questions_used: list[QuestionUsed] = Field(default_factory=list, max_length=50)
    note: Annotated[str | None, Field(max_length=4000)] = None


class ContactOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    contact_on: date
    contact_type: ContactType
    with_whom: list[ContactPerson]
    questions_used: list[QuestionUsed]
    note: str | None
    created_by: str
    created_at: datetime


ContactPage = Page[ContactOut]
