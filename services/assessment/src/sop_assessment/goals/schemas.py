"""What the safety-goal API promises, and the statement updates (status, threat codes, who agrees)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from sop_assessment.goals.models import GoalOwner, GoalStatus
from sop_assessment.models import StatementStatus, TextSource
from sop_assessment.schemas import PART_MAX, TEXT_MAX, Name, PersonRef, Strict, ThreatCode
from sop_shared import case_refs
from sop_shared.language_tags import LanguageTag
from sop_shared.plain_language import LanguageCheck
from sop_shared.policy import Audience, SensitivityLabel
from sop_shared.sharing import SharingOut

Part = Annotated[str | None, Field(max_length=PART_MAX)]
Duration = Annotated[
    str,
    Field(
        min_length=2,
        max_length=40,
        examples=["P3M", "P6W", "P1Y"],
        description="ISO-8601 duration in years, months, weeks or days",
    ),
]


class SafetyGoalIn(Strict):
    """A safety goal for one danger statement: what the caregiver will be *doing* (positive, observable),
    what the child will experience, what others will see, and for how long it must be seen. Each part is a
    whole sentence in the family's words, e.g. "Maria will make sure a sober adult is awake with Sofia and
    Mateo every night". Give `text` to use the family's own wording instead of the composed one."""

    danger_statement_id: case_refs.DangerStatementRef
    language: LanguageTag = "en"
    text: str | None = Field(default=None, max_length=TEXT_MAX)
    caregiver_will_be_doing: Part = None
    child_will_experience: Part = None
    others_will_see: Part = None
    duration: Duration
    owner: GoalOwner = Field(
        description="`family` (the caregivers) or `joint`; `agency` alone is refused (422 `owner`): safety is "
        "what the caregivers are seen doing. Goals stored earlier with `agency` still read."
    )


class SafetyGoalUpdate(Strict):
    """A change to a goal (If-Match needed). Parts given replace the old ones; the text is composed again
    unless the goal's text is the worker's own (then send `text` to change it)."""

    status: GoalStatus | None = None
    text: str | None = Field(default=None, max_length=TEXT_MAX)
    caregiver_will_be_doing: Part = None
    child_will_experience: Part = None
    others_will_see: Part = None
    duration: Duration | None = None
    owner: GoalOwner | None = Field(default=None, description="`family` or `joint`; `agency` alone is refused (422)")


class SafetyGoalOut(SharingOut):
    id: uuid.UUID
    case_id: uuid.UUID
    danger_statement_id: uuid.UUID
    status: GoalStatus
    language: str
    composed_text: str
    text_source: TextSource
    caregiver_will_be_doing: str | None
    child_will_experience: str | None
    others_will_see: str | None
    duration: str
    duration_text: str = Field(description="The duration in words, in the goal's language")
    owner: GoalOwner
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime
    plain_language: LanguageCheck


class StatementUpdate(Strict):
    """A change to a statement's status, its SDM safety-threat codes, who agrees and disputes it, its
    sensitivity labels or the audiences consented to see them (If-Match needed). A withdrawn statement stays
    withdrawn; a resolved one can become active again.

    A correction of its words — any part, `children`, `caregivers` or `text` — needs `change_reason`: the
    earlier words are kept (`GET …/statements/{id}/revisions`), the statement is a draft again (mark it ready
    to share anew) and its translations of the earlier version become stale."""

    text: str | None = Field(default=None, max_length=TEXT_MAX)
    who_is_worried: Part = None
    caregiver_behaviour: Part = None
    context_trigger: Part = None
    feared_impact_on_child: Part = None
    who_reported: Part = None
    caregivers: list[PersonRef] | None = Field(default=None, max_length=10)
    action_or_inaction: Part = None
    when_or_how_often: Part = None
    impact_on_child: Part = None
    children: list[PersonRef] | None = Field(default=None, max_length=20)
    change_reason: Annotated[str | None, Field(max_length=1000)] = Field(
        default=None, description="Why the words are corrected (required with new words; kept with the earlier ones)"
    )

    status: StatementStatus | None = None
    threat_codes: list[ThreatCode] | None = Field(default=None, max_length=20)
    agrees: list[Name] | None = Field(default=None, max_length=50)
    disputes: list[Name] | None = Field(default=None, max_length=50)
    sensitivity_labels: list[SensitivityLabel] | None = Field(default=None, max_length=len(SensitivityLabel))
    consented_audiences: list[Audience] | None = Field(
        default=None, max_length=len(Audience), description="Replaces the recorded consents"
    )
