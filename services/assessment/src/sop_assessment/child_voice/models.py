"""Tables of child-voice records (Three Houses, Safety House, Words and Pictures), the links from Safety
House roof rules to safety-plan rules, and the drawings (attachments) of each record."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


class ChildVoiceKind(StrEnum):
    three_houses = "three_houses"
    safety_house = "safety_house"
    words_and_pictures = "words_and_pictures"


def _now() -> datetime:
    return utcnow()


class ChildVoiceRecord(AssessmentTable, table=True):
    """One session with one child. `content` holds the kind's parts in the child's exact words; `shared_with`
    the audiences the child agreed to share it with (staff and supervisors see it anyway)."""

    __tablename__ = "child_voice_record"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    kind: ChildVoiceKind = Field(sa_type=enum_column(ChildVoiceKind))
    child_name: str = Field(max_length=200)
    child_person_id: uuid.UUID | None = None
    language: str = Field(default="en", max_length=35)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    shared_with: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consent_note: str | None = Field(default=None, max_length=1000)
    # The worker's recorded judgement that sharing this Three Houses with the caregivers is safe: {safe, reason,
    # judged_by, judged_at}; cleared when the child's words change (they judge these words, not later ones).
    sharing_judgement: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str = Field(max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))


class SafetyHouseRuleLink(AssessmentTable, table=True):
    """A rule on a Safety House roof linked to a safety-plan rule (in the plans service: no foreign key),
    so the child's rules provably reach the plan."""

    __tablename__ = "safety_house_rule_link"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    record_id: uuid.UUID = Field(foreign_key="child_voice_record.id", index=True)
    case_id: uuid.UUID = Field(index=True)
    roof_rule: int  # position of the rule on the roof
    safety_plan_rule_id: uuid.UUID = Field(index=True)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))


class SafetyPlanRules(AssessmentTable, table=True):
    """The rules of each safety plan as the plans service's events tell them (`created`, `version_created`,
    …: every event about a version names its rule ids): the newest version's rules, and every rule the plan
    ever had. A Safety House rule linked to a rule the newest version no longer has is flagged, and a new link
    to one is refused (see child_voice.rules)."""

    __tablename__ = "safety_plan_rules"

    plan_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    version_number: int
    rule_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    all_rule_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
