"""What the trauma-history API promises."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from sop_assessment.schemas import Name, Strict
from sop_assessment.trauma.models import PersonRole
from sop_shared import case_refs
from sop_shared.pagination import Page

Note = Annotated[str | None, Field(default=None, max_length=1000)]


class ConsentedAudience(StrEnum):
    """Who a recorded consent may name: the policy table lets no one else read a trauma history."""

    staff = "staff"
    supervisor = "supervisor"
    court = "court"


class Trigger(Strict):
    trigger: Annotated[str, Field(min_length=1, max_length=500, description="What is known to set the person off")]
    what_helps: Annotated[str | None, Field(max_length=1000, description="What helps when it happens")] = None


class TriggerOut(BaseModel):
    id: uuid.UUID | None = Field(
        default=None, description="The trigger's id: a plan says how it avoids it by this id (kept while its words are)"
    )
    trigger: str
    what_helps: str | None = None


class PersonIn(Strict):
    name: Name
    person_id: case_refs.PersonRef | None = None


class TraumaHistoryIn(Strict):
    person: PersonIn
    person_role: PersonRole
    history: Annotated[str, Field(min_length=1, max_length=4000)]
    triggers: list[Trigger] = Field(default_factory=list, max_length=30)
    consented_audiences: list[ConsentedAudience] = Field(
        default_factory=list,
        max_length=3,
        description="The audiences a recorded consent names; nobody else reads it (as 42 CFR Part 2 data)",
    )
    consent_note: Note = None

    @model_validator(mode="after")
    def _no_repeats(self) -> TraumaHistoryIn:
        if len(set(self.consented_audiences)) != len(self.consented_audiences):
            raise ValueError("consented_audiences: an audience is listed twice")
        return self


class TraumaHistoryPatch(Strict):
    """Changes with If-Match; a consent may be narrowed or withdrawn at any time."""

    history: Annotated[str | None, Field(min_length=1, max_length=4000)] = None
    triggers: list[Trigger] | None = Field(default=None, max_length=30)
    consented_audiences: list[ConsentedAudience] | None = Field(default=None, max_length=3)
    consent_note: Note = None


class TraumaHistoryOut(BaseModel):
    """A trauma history as this audience may see it: without a consent naming the audience, `restricted` is true
    and only that a record exists (and whose role) is shown."""

    id: uuid.UUID
    case_id: uuid.UUID
    person_role: PersonRole
    restricted: bool
    created_at: datetime
    person: PersonIn | None = None
    history: str | None = None
    triggers: list[TriggerOut] | None = None
    consented_audiences: list[str] | None = None
    consent_note: str | None = None
    created_by: str | None = None
    version: int | None = None
    updated_at: datetime | None = None


TraumaHistoryPage = Page[TraumaHistoryOut]


class KnownTrigger(BaseModel):
    """A known trigger the plan must avoid, with whose it is and what helps (the agency only, with consent)."""

    trauma_history_id: uuid.UUID
    trigger_id: uuid.UUID | None = Field(default=None, description="What a plan's `trigger_plan` names")
    person_name: str
    person_role: PersonRole
    trigger: str
    what_helps: str | None
