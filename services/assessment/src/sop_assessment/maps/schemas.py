"""What the map API promises: the seven categories (plus gray areas) as lists of items, each with its
source person and who agrees or disputes it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from sop_assessment.maps.models import MapContext
from sop_assessment.schemas import Name, PersonRef, Strict
from sop_shared import case_refs
from sop_shared.plain_language import LanguageCheck
from sop_shared.sharing import SharingOut
from sop_shared.translations import CarriedTranslation, without_carried_translations

ItemText = Annotated[str, Field(min_length=1, max_length=2000)]
MAX_ITEMS = 100

# An item's own id, kept across the map's versions: a label within this map, never looked up anywhere.
KeptItemId = Annotated[uuid.UUID, case_refs.NotCaseScoped("an item's own id within this map's versions")]


class MapItemIn(Strict):
    """One thing on the map. `id` is kept across versions when sent back; a new item gets one."""

    id: KeptItemId | None = None
    text: ItemText
    source: PersonRef | None = Field(default=None, description="Who said or showed this")
    agrees: list[Name] = Field(default_factory=list, max_length=50)
    disputes: list[Name] = Field(default_factory=list, max_length=50)

    @model_validator(mode="before")
    @classmethod
    def _read_only_translations(cls, value: Any) -> Any:
        # An item sent back as a read gave it: its translations and its check are read only, left out.
        value = without_carried_translations(value)
        if isinstance(value, dict) and "plain_language" in value:
            return {k: v for k, v in value.items() if k != "plain_language"}
        return value


class ExistingSafetyItemIn(MapItemIn):
    """What was *done* to protect the child when the danger was present: by whom, when, how often."""

    by_whom: Annotated[str | None, Field(max_length=200)] = None
    when: Annotated[str | None, Field(max_length=200)] = None
    how_often: Annotated[str | None, Field(max_length=200)] = None


class NextStepStatus(StrEnum):
    open = "open"
    done = "done"
    dropped = "dropped"


class NextStepItemIn(MapItemIn):
    owner: Annotated[str | None, Field(max_length=200)] = None
    due_on: date | None = None
    status: NextStepStatus = NextStepStatus.open


class ParticipantIn(Strict):
    name: Name
    role: Annotated[str | None, Field(max_length=100)] = None
    person_id: case_refs.PersonRef | None = None


class MapContentIn(Strict):
    """The worker's and family's words. Harm and danger statements, safety goals and scale ratings are
    records of their own (reused by reference, never copied): the map shows the case's current ones."""

    participants: list[ParticipantIn] = Field(default_factory=list, max_length=50)
    complicating_factors: list[MapItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    strengths: list[MapItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    existing_safety: list[ExistingSafetyItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    next_steps: list[NextStepItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    gray_areas: list[MapItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class MapCreate(MapContentIn):
    context: MapContext
    title: Annotated[str, Field(min_length=1, max_length=200)]
    change_note: Annotated[str | None, Field(max_length=500)] = None


class MapSave(MapContentIn):
    """A save: the whole content as it should now read. It becomes the next version if anything changed."""

    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    change_note: Annotated[str | None, Field(max_length=500)] = None


class MapComplete(Strict):
    """The optional body of marking a map complete."""

    exception_reason: Annotated[str | None, Field(min_length=1, max_length=2000)] = Field(
        default=None,
        description="A supervisor's reason to complete a map that is not balanced (no active danger statement, "
        "nothing working well or no safety goal). Only a supervisor (approvals:decide) may give one; it is kept "
        "with who gave it and when. It never waives a danger statement's own safety goal and rating.",
    )


class CompletionExceptionOut(BaseModel):
    reason: str
    recorded_by: str
    recorded_at: datetime
    waived: list[str] = Field(description="The balance rule's missing pieces it was given for")


class MapItemOut(BaseModel):
    id: uuid.UUID
    text: str
    source: PersonRef | None
    agrees: list[str]
    disputes: list[str]
    plain_language: LanguageCheck | None = Field(
        default=None,
        description="The plain-language check of the item's words (`map_item`), with the map as the agency reads "
        "it; findings stand in the way of sharing the version unless a reason is given",
    )
    translations: list[CarriedTranslation] = Field(
        default_factory=list,
        description="The case view only: people's current translations of the item's words (`source_field` "
        "names which: text, by_whom, when, how_often, owner)",
    )


class ExistingSafetyItemOut(MapItemOut):
    by_whom: str | None = None
    when: str | None = None
    how_often: str | None = None


class NextStepItemOut(MapItemOut):
    owner: str | None = None
    due_on: date | None = None
    status: NextStepStatus = NextStepStatus.open


class ParticipantOut(BaseModel):
    name: str
    role: str | None = None
    person_id: uuid.UUID | None = None


class MapContentOut(BaseModel):
    title: str
    participants: list[ParticipantOut]
    complicating_factors: list[MapItemOut]
    strengths: list[MapItemOut]
    existing_safety: list[ExistingSafetyItemOut]
    next_steps: list[NextStepItemOut]
    gray_areas: list[MapItemOut]


class MapVersionOut(BaseModel):
    map_id: uuid.UUID
    case_id: uuid.UUID
    number: int
    content: MapContentOut
    change_note: str | None
    saved_by: str
    saved_at: datetime


class MapWarning(BaseModel):
    code: str
    message: str


class MapStatus(StrEnum):
    """`complete` when the current version was marked complete, else `draft`"""

    draft = "draft"
    complete = "complete"


class MapOut(SharingOut):
    id: uuid.UUID
    case_id: uuid.UUID
    context: MapContext
    title: str
    status: MapStatus
    current_version: int
    completed_version: int | None
    completed_at: datetime | None
    completed_by: str | None
    completion_exception: CompletionExceptionOut | None = Field(
        default=None, description="A supervisor's recorded exception to the balance rule for the completed version"
    )
    shared_version: int | None = Field(
        default=None, description="The version the family, their network, partners and the court read (null: none yet)"
    )
    created_by: str
    created_at: datetime
    updated_at: datetime
    content: MapContentOut
    warnings: list[MapWarning] = Field(default_factory=list)


class MapVersionSummary(BaseModel):
    number: int
    change_note: str | None
    saved_by: str
    saved_at: datetime
