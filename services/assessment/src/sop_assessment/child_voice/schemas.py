"""What the child-voice API promises. The child's words are stored exactly as given: no trimming, no
rewording (these models do not strip whitespace on purpose)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from sop_assessment.child_voice.models import ChildVoiceKind
from sop_shared import case_refs
from sop_shared.input_models import Verbatim
from sop_shared.language_tags import LanguageTag
from sop_shared.pagination import Page
from sop_shared.translations import CarriedTranslation

Words = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Note = Annotated[str | None, Field(default=None, max_length=1000)]


class ShareAudience(StrEnum):
    """Who, beyond the agency's staff and supervisors, the child agreed may see the record."""

    family = "family"
    network = "network"
    partner = "partner"
    court = "court"


class ChildRef(Verbatim):
    name: Name
    person_id: case_refs.PersonRef | None = None


class Consent(Verbatim):
    shared_with: list[ShareAudience] = Field(default_factory=list, max_length=4)
    note: Note = None  # e.g. "Sofia said Grandma can see the dreams house"

    @model_validator(mode="after")
    def _no_repeats(self) -> Consent:
        if len(set(self.shared_with)) != len(self.shared_with):
            raise ValueError("an audience is listed twice")
        return self


class WrittenBy(StrEnum):
    """Who wrote the words down: the child, or someone for the child"""

    child = "child"
    worker = "worker"
    interpreter = "interpreter"
    other = "other"


class HouseKind(StrEnum):
    """Which of the three houses: worries, good things, dreams"""

    worries = "worries"
    good_things = "good_things"
    dreams = "dreams"


class ParentConsent(StrEnum):
    given = "given"
    refused = "refused"
    not_needed = "not_needed"


class LivesOrVisits(StrEnum):
    lives_with = "lives_with"
    visits = "visits"


class HouseEntry(Verbatim):
    words: Words  # the child's exact words
    written_by: WrittenBy = WrittenBy.child
    read_back: bool | None = None  # read back to the child, who said yes (true) or no (false)
    drawing_id: case_refs.DrawingRef | None = None


class House(Verbatim):
    house: HouseKind
    child_name_for_house: Annotated[str | None, Field(max_length=200)] = None  # the child may rename it
    entries: list[HouseEntry] = Field(default_factory=list, max_length=100)


class ThreeHouses(Verbatim):
    session_date: date
    houses: list[House] = Field(min_length=1, max_length=3)
    parent_consent: ParentConsent = ParentConsent.not_needed
    stopped_early: bool = False
    stopped_reason: Note = None
    interpreter_used: bool = False
    interpreter_name: Annotated[str | None, Field(max_length=200)] = None

    @model_validator(mode="after")
    def _consistent(self) -> ThreeHouses:
        names = [h.house for h in self.houses]
        if len(set(names)) != len(names):
            raise ValueError("houses: each house appears once")
        if self.stopped_early and not (self.stopped_reason or "").strip():
            raise ValueError("stopped_reason: say why the session stopped early")
        return self


class InsidePerson(Verbatim):
    name: Name
    lives_or_visits: LivesOrVisits
    why_safe: Annotated[str | None, Field(max_length=2000)] = None  # in the child's words


class OutsidePerson(Verbatim):
    name: Name
    status: Literal["not_allowed", "supervised_only"]
    why: Annotated[str | None, Field(max_length=2000)] = None


class RoofRule(Verbatim):
    words: Words  # the rule as the child says it
    safety_plan_rule_id: case_refs.SafetyPlanRuleRef | None = None  # the safety-plan rule it became (plans)


class SafetyHouse(Verbatim):
    session_date: date
    inside_people: list[InsidePerson] = Field(default_factory=list, max_length=50)
    outside_people: list[OutsidePerson] = Field(default_factory=list, max_length=50)
    roof_rules: list[RoofRule] = Field(default_factory=list, max_length=50)
    path_position: int | None = Field(default=None, ge=0, le=10)
    drawing_ids: list[case_refs.DrawingRef] = Field(default_factory=list, max_length=20)
    interpreter_used: bool = False


class WordsPage(Verbatim):
    text: Words
    drawing_id: case_refs.DrawingRef | None = None


class CaregiverReview(Verbatim):
    name: Name
    person_id: case_refs.PersonRef | None = None
    decision: Literal["agreed", "disagreed"]
    comment: Annotated[str | None, Field(max_length=2000)] = None


class CaregiverRef(Verbatim):
    name: Name
    person_id: case_refs.PersonRef | None = None


class WordsAndPictures(Verbatim):
    """The adults' explanation to the child: the caregivers who wrote it (`written_by`) and those whose review
    agreed see it; the child's consent does not govern it (it is not the child's words)."""

    pages: list[WordsPage] = Field(min_length=1, max_length=100)
    written_by: list[CaregiverRef] = Field(default_factory=list, max_length=10)
    caregiver_reviews: list[CaregiverReview] = Field(default_factory=list, max_length=20)
    shared_with_child_on: date | None = None


CONTENT_MODELS: dict[ChildVoiceKind, type[BaseModel]] = {
    ChildVoiceKind.three_houses: ThreeHouses,
    ChildVoiceKind.safety_house: SafetyHouse,
    ChildVoiceKind.words_and_pictures: WordsAndPictures,
}


class SharingJudgement(Verbatim):
    """The worker's judgement whether sharing the child's Three Houses with the caregivers is safe. The child's
    consent to share with the family is needed as well; both, or the caregivers do not see it."""

    safe: bool
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class SharingJudgementOut(BaseModel):
    safe: bool
    reason: str
    judged_by: str
    judged_at: datetime


class _RecordIn(Verbatim):
    child: ChildRef
    language: LanguageTag = "en"
    consent: Consent = Field(default_factory=Consent)


class ThreeHousesIn(_RecordIn):
    kind: Literal["three_houses"]
    content: ThreeHouses
    sharing_judgement: SharingJudgement | None = None


class SafetyHouseIn(_RecordIn):
    kind: Literal["safety_house"]
    content: SafetyHouse


class WordsAndPicturesIn(_RecordIn):
    kind: Literal["words_and_pictures"]
    content: WordsAndPictures


ChildVoiceIn = Annotated[ThreeHousesIn | SafetyHouseIn | WordsAndPicturesIn, Field(discriminator="kind")]


class ChildVoicePatch(Verbatim):
    """Changes with If-Match: the child's consent (it may be withdrawn at any time), the content (checked
    against the record's kind; drawings referenced by the ids of this record's attachments), the language."""

    consent: Consent | None = None
    content: dict[str, Any] | None = None
    language: LanguageTag | None = None
    sharing_judgement: SharingJudgement | None = Field(
        default=None,
        description="Three Houses only: the worker's judgement that sharing with the caregivers is safe (new "
        "content without a new judgement clears the earlier one)",
    )


class AttachmentOut(BaseModel):
    id: uuid.UUID
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class RuleLinkOut(BaseModel):
    roof_rule: int
    safety_plan_rule_id: uuid.UUID
    # false when a later version of the safety plan removed the rule (the plans service's events said so)
    in_plan: bool = True
    removed_in_version: int | None = None


class ChildVoiceOut(BaseModel):
    """A record as this audience may see it. When the child did not consent to share with the audience,
    `restricted` is true and only that the record exists is shown: every content field is null."""

    id: uuid.UUID
    case_id: uuid.UUID
    kind: ChildVoiceKind
    restricted: bool
    created_at: datetime
    child: ChildRef | None = None
    language: str | None = None
    content: dict[str, Any] | None = None
    consent: Consent | None = None
    sharing_judgement: SharingJudgementOut | None = Field(
        default=None, description="The agency only: the worker's judgement that sharing with the caregivers is safe"
    )
    attachments: list[AttachmentOut] | None = None
    rule_links: list[RuleLinkOut] | None = None
    created_by: str | None = None
    version: int | None = None
    translations: list[CarriedTranslation] | None = Field(
        default=None,
        description="The case view only (null elsewhere and when restricted): people's current translations of "
        "the child's words, each naming the words' place in `content` (`source_field`, e.g. "
        "`houses.0.entries.1.words`); the words stay verbatim",
    )
    updated_at: datetime | None = None


ChildVoicePage = Page[ChildVoiceOut]
