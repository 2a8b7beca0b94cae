"""What the plans API promises: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from sop_plans.models import PlanStatus, PlanType

RULE_TEXT_MAX = 2000

ThreatCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
RuleText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=RULE_TEXT_MAX)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonRef(Strict):
    """Someone named in a plan: by name, as the family says it, and by person id when the network service
    knows them (a safety-network member, a caregiver)."""

    name: str = Field(min_length=1, max_length=200)
    person_id: uuid.UUID | None = None


class RuleIn(Strict):
    """One rule of the plan, in the family's words."""

    text: RuleText = Field(description="What must happen, in the family's words")
    threat_code: ThreatCode | None = Field(default=None, description="The SDM safety threat this rule answers")
    responsible: list[PersonRef] = Field(default_factory=list, max_length=20)
    monitors: list[PersonRef] = Field(default_factory=list, max_length=20,
                                      description="Who watches that the rule is kept (safety-network members)")
    frequency: str | None = Field(default=None, max_length=500, description="When / how often")
    how_verified: str | None = Field(default=None, max_length=1000)


class IfRuleBroken(Strict):
    who_is_called: list[PersonRef] = Field(default_factory=list, max_length=20)
    what_happens: Text


class WorkerMonitoring(Strict):
    contact_frequency: str = Field(min_length=1, max_length=200)
    method: str | None = Field(default=None, max_length=500)


class SafetyPlanIn(Strict):
    """A new safety plan: its links and its first version (rules, red flags, what happens if a rule is
    broken, the backup plan and how the worker monitors it)."""

    plan_type: PlanType
    title: str = Field(min_length=1, max_length=200)
    effective_from: AwareDatetime | None = Field(default=None, description="Defaults to the time of creation")
    expires_at: AwareDatetime | None = None
    safety_assessment_id: uuid.UUID | None = None
    danger_statement_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    threat_codes: list[ThreatCode] = Field(default_factory=list, max_length=20)
    rules: list[RuleIn] = Field(min_length=1, max_length=50)
    triggers: list[Text] = Field(default_factory=list, max_length=50,
                                 description="Red flags the network watches for")
    if_rule_broken: IfRuleBroken | None = None
    backup_plan: str | None = Field(default=None, max_length=4000)
    worker_monitoring: WorkerMonitoring | None = None


class Rule(BaseModel):
    id: uuid.UUID
    text: str
    threat_code: str | None
    responsible: list[PersonRef]
    monitors: list[PersonRef]
    frequency: str | None
    how_verified: str | None


class PlanContent(BaseModel):
    """Exactly what a version's `content_hash` covers."""

    rules: list[Rule]
    triggers: list[str]
    if_rule_broken: IfRuleBroken | None
    backup_plan: str | None
    worker_monitoring: WorkerMonitoring | None


class PlanWarning(BaseModel):
    """A practice concern the worker should see; it never blocks saving."""

    code: str
    field: str
    message: str


class SafetyPlanOut(BaseModel):
    """A plan with its current version's content, flattened (the case view's one-call read)."""

    id: uuid.UUID
    case_id: uuid.UUID
    plan_type: PlanType
    status: PlanStatus
    title: str
    effective_from: datetime
    expires_at: datetime | None
    safety_assessment_id: uuid.UUID | None
    danger_statement_ids: list[uuid.UUID]
    threat_codes: list[str]
    current_version_number: int
    content_hash: str
    rules: list[Rule]
    triggers: list[str]
    if_rule_broken: IfRuleBroken | None
    backup_plan: str | None
    worker_monitoring: WorkerMonitoring | None
    warnings: list[PlanWarning]
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class SafetyPlanVersionOut(BaseModel):
    """An immutable version: `content_hash` is the SHA-256 hex of the canonical JSON of `content`
    (keys sorted, no whitespace, UTF-8), so anyone can check what was signed."""

    plan_id: uuid.UUID
    case_id: uuid.UUID
    number: int
    content: PlanContent
    content_hash: str
    created_by: str
    created_at: datetime
