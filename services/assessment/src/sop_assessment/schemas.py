"""What the assessment API promises: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from sop_assessment.models import StatementKind, StatementStatus, TextSource
from sop_shared import case_refs
from sop_shared.input_models import Strict as Strict  # re-exported: the service's bodies import it from here
from sop_shared.language_tags import LanguageTag
from sop_shared.pagination import Page
from sop_shared.plain_language import LanguageCheck
from sop_shared.policy import Audience, SensitivityLabel
from sop_shared.sharing import SharingOut

PART_MAX = 1000
TEXT_MAX = 2000

Part = Annotated[str | None, Field(max_length=PART_MAX)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
ThreatCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]


class PersonRef(Strict):
    """Someone a statement names: the name the family uses and, when known, the network service's person."""

    name: Name
    person_id: case_refs.PersonRef | None = None


class StatementIn(Strict):
    """A harm or danger statement as the worker writes it with the family.

    Give the parts; the server composes the sentence from them in `language` (English and Spanish), unless
    `text` is given (the family's own wording, or a language the server cannot compose). A missing part is
    not an error: the plain-language check in the response names it. The `impact` parts are written to
    follow the children's names, e.g. "could be badly hurt" or "went to bed without dinner".
    """

    kind: StatementKind
    language: LanguageTag = "en"
    text: str | None = Field(default=None, max_length=TEXT_MAX)
    # danger statement (future): who is worried, about which behaviour in which context, fearing what
    who_is_worried: Part = None
    caregiver_behaviour: Part = None
    context_trigger: Part = None
    feared_impact_on_child: Part = None
    # harm statement (past): how it is known, who did or did not do what, when, and the impact
    who_reported: Part = None
    caregivers: list[PersonRef] = Field(default_factory=list, max_length=10)
    action_or_inaction: Part = None
    when_or_how_often: Part = None
    impact_on_child: Part = None
    # both
    children: list[PersonRef] = Field(default_factory=list, max_length=20)
    threat_codes: list[ThreatCode] = Field(default_factory=list, max_length=20)
    agrees: list[Name] = Field(default_factory=list, max_length=50)
    disputes: list[Name] = Field(default_factory=list, max_length=50)
    # sensitivity (see the redaction table in docs/assessment.md)
    sensitivity_labels: list[SensitivityLabel] = Field(
        default_factory=list,
        max_length=len(SensitivityLabel),
        description="What sensitive content the statement carries, e.g. `substance_use_part2`: audiences the "
        "policy table does not let see a label are shown a fixed sentence instead",
    )
    consented_audiences: list[Audience] = Field(
        default_factory=list,
        max_length=len(Audience),
        description="Audiences with a recorded consent to see the labelled content (e.g. a Part 2 consent "
        "naming the court)",
    )


class StatementRevisionOut(BaseModel):
    """A correction of a statement's words: the words it had before, as the reader may see them."""

    statement_id: uuid.UUID
    from_version: int = Field(description="The version that read these words")
    to_version: int = Field(description="The version the correction made")
    change_reason: str
    corrected_by: str
    corrected_at: datetime
    composed_text: str
    text_source: TextSource
    who_is_worried: str | None = None
    caregiver_behaviour: str | None = None
    context_trigger: str | None = None
    feared_impact_on_child: str | None = None
    who_reported: str | None = None
    caregivers: list[PersonRef] = Field(default_factory=list)
    action_or_inaction: str | None = None
    when_or_how_often: str | None = None
    impact_on_child: str | None = None
    children: list[PersonRef] = Field(default_factory=list)
    redacted: list[str] = Field(default_factory=list, description="What was withheld from this reader")


class StatementOut(SharingOut):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: StatementKind
    status: StatementStatus
    language: str
    composed_text: str
    text_source: TextSource
    who_is_worried: str | None
    caregiver_behaviour: str | None
    context_trigger: str | None
    feared_impact_on_child: str | None
    who_reported: str | None
    caregivers: list[PersonRef]
    action_or_inaction: str | None
    when_or_how_often: str | None
    impact_on_child: str | None
    children: list[PersonRef]
    threat_codes: list[str]
    agrees: list[str]
    disputes: list[str]
    sensitivity_labels: list[str]
    consented_audiences: list[str]
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime
    plain_language: LanguageCheck | None = Field(
        description="The plain-language check of what is shown; null when the statement is withheld"
    )
    redacted: list[str] = Field(
        default_factory=list, description="Fields withheld from this audience (their values are null or empty)"
    )


StatementPage = Page[StatementOut]
