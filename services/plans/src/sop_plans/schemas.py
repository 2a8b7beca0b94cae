"""What the plans API promises: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from sop_plans.models import (
    InterpreterMode,
    InterpreterQualification,
    NextStepOwnerKind,
    NextStepStatus,
    PlanApprovalDecision,
    PlanEndReason,
    PlanStatus,
    PlanType,
    SignatureDecision,
    SignatureMethod,
    SignerRole,
)
from sop_shared import case_refs
from sop_shared.input_models import Strict as Strict  # re-exported: the service's bodies import it from here
from sop_shared.language_tags import LanguageTag
from sop_shared.pagination import ListPaging
from sop_shared.plain_language import LanguageCheck
from sop_shared.policy import ActorType
from sop_shared.translations import CarriedTranslation, without_carried_translations

RULE_TEXT_MAX = 2000

ThreatCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
RuleText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=RULE_TEXT_MAX)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Language = LanguageTag


class PersonRef(Strict):
    """Someone named in a plan: by name, as the family says it, and by person id when the network service
    knows them (a safety-network member, a caregiver)."""

    name: str = Field(min_length=1, max_length=200)
    person_id: case_refs.PersonRef | None = None


class ParticipantRole(StrEnum):
    caregiver = "caregiver"
    child = "child"
    network = "network"
    other = "other"


class ParticipantIn(PersonRef):
    """Someone the plan binds, who is asked to sign it. Caregivers' signatures are required by policy
    (config/plan_rules.json: `caregiver_signatures`)."""

    role: ParticipantRole


class Participant(ParticipantIn):
    id: uuid.UUID


class RuleIn(Strict):
    """One rule of the plan, in the family's words."""

    text: RuleText = Field(description="What must happen, in the family's words")
    threat_code: ThreatCode | None = Field(default=None, description="The SDM safety threat this rule answers")
    responsible: list[PersonRef] = Field(default_factory=list, max_length=20)
    monitors: list[PersonRef] = Field(
        default_factory=list, max_length=20, description="Who watches that the rule is kept (safety-network members)"
    )
    frequency: str | None = Field(default=None, max_length=500, description="When / how often")
    how_verified: str | None = Field(default=None, max_length=1000)
    commitment_id: case_refs.ConfirmedCommitmentRef | None = Field(
        default=None,
        description="The safety-network member's own commitment this rule carries: only one the worker "
        "confirmed (network service) may enter a plan",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_only_translations(cls, value: Any) -> Any:
        return without_carried_translations(value)


class RuleEdit(RuleIn):
    """A rule in an edit: give the `id` of the rule it continues (check-ins and the child's Safety House
    keep pointing at it); leave it out for a new rule."""

    id: case_refs.SafetyPlanRuleRef | None = None


class ParticipantEdit(ParticipantIn):
    id: case_refs.PlanParticipantRef | None = None


class IfRuleBroken(Strict):
    who_is_called: list[PersonRef] = Field(default_factory=list, max_length=20)
    what_happens: Text


class WorkerMonitoring(Strict):
    contact_frequency: str = Field(min_length=1, max_length=200)
    method: str | None = Field(default=None, max_length=500)


class TriggerPlanIn(Strict):
    """How the plan avoids one known trigger of a child or caregiver (its id from the assessment service's trauma
    history; the trigger's words stay there, restricted)."""

    trigger_id: case_refs.KnownTriggerRef = Field(description="The known trigger (a trauma history's trigger id)")
    how_avoided: Text = Field(description="How the plan avoids it, in the practice's words (the family may read it)")


class TriggerPlanEntry(BaseModel):
    trigger_id: uuid.UUID = Field(description="The known trigger (its id only: the words are the trauma history's)")
    how_avoided: str


class SafetyPlanIn(Strict):
    """A new safety plan: its links and its first version (rules, red flags, what happens if a rule is
    broken, the backup plan, how the worker monitors it, and who is asked to sign)."""

    plan_type: PlanType
    title: str = Field(min_length=1, max_length=200)
    language: Language = Field(default="en", description="The language the family's words are in (BCP-47)")
    effective_from: AwareDatetime | None = Field(default=None, description="Defaults to the time of creation")
    expires_at: AwareDatetime | None = Field(
        default=None,
        description="Defaults to effective_from plus the policy's days for this plan type; "
        "never later than the policy's maximum",
    )
    safety_assessment_id: case_refs.SdmAssessmentRef | None = None
    danger_statement_ids: list[case_refs.DangerStatementRef] = Field(default_factory=list, max_length=20)
    threat_codes: list[ThreatCode] = Field(default_factory=list, max_length=20)
    participants: list[ParticipantIn] = Field(default_factory=list, max_length=30)
    rules: list[RuleIn] = Field(min_length=1, max_length=50)
    triggers: list[Text] = Field(default_factory=list, max_length=50, description="Red flags the network watches for")
    trigger_plan: list[TriggerPlanIn] = Field(
        default_factory=list,
        max_length=60,
        description="How the plan avoids each known trigger of the case's children and caregivers (a known trigger "
        "the plan does not address is a warning)",
    )
    if_rule_broken: IfRuleBroken | None = None
    backup_plan: str | None = Field(default=None, max_length=4000)
    worker_monitoring: WorkerMonitoring | None = None


class SafetyPlanEdit(Strict):
    """A change to a plan: every field given replaces the current version's; the result is a new version
    (`n+1`), never a change to an old one. Lists are replaced whole."""

    change_note: Note = Field(description="Why the plan changed, in a sentence (kept with the new version)")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    language: Language | None = None
    effective_from: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    safety_assessment_id: case_refs.SdmAssessmentRef | None = None
    danger_statement_ids: list[case_refs.DangerStatementRef] | None = Field(default=None, max_length=20)
    threat_codes: list[ThreatCode] | None = Field(default=None, max_length=20)
    participants: list[ParticipantEdit] | None = Field(default=None, max_length=30)
    rules: list[RuleEdit] | None = Field(default=None, min_length=1, max_length=50)
    triggers: list[Text] | None = Field(default=None, max_length=50)
    trigger_plan: list[TriggerPlanIn] | None = Field(default=None, max_length=60)
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
    # Left out when absent: a rule that carries no commitment is stored, hashed and shown as before commitments.
    commitment_id: uuid.UUID | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The confirmed network commitment it carries (absent when none)",
    )


class PlanContent(BaseModel):
    """Exactly what a version's `content_hash` covers: everything the family and the agency agreed,
    dates included, so nothing that binds them can change without a new version."""

    title: str
    language: str
    effective_from: datetime
    expires_at: datetime
    safety_assessment_id: uuid.UUID | None
    danger_statement_ids: list[uuid.UUID]
    threat_codes: list[str]
    participants: list[Participant]
    rules: list[Rule]
    triggers: list[str]
    if_rule_broken: IfRuleBroken | None
    backup_plan: str | None
    worker_monitoring: WorkerMonitoring | None
    # Left out when empty: a version that says nothing about known triggers is stored and hashed as before.
    trigger_plan: list[TriggerPlanEntry] = Field(default_factory=list, exclude_if=lambda value: not value)


class RuleOut(Rule):
    plain_language: LanguageCheck = Field(description="The plain-language check of the rule's text (warnings only)")
    translations: list[CarriedTranslation] | None = Field(
        default=None, description="The case view only: people's current translations of the rule's words"
    )


class PlanWarning(BaseModel):
    """A practice concern the worker should see; it never blocks saving."""

    code: str
    field: str
    message: str


class VersionChange(BaseModel):
    """One difference from the previous version: `field` is a content field, or `rules.<rule id>` /
    `participants.<id>` for one entry; `change` is added | removed | changed."""

    field: str
    change: str
    detail: list[str] = Field(default_factory=list)


class InterpreterIn(Strict):
    """Who explained the version to the signer, when it is not in the language the signer reads."""

    name: str = Field(min_length=1, max_length=200, description="The interpreter's name")
    qualification: InterpreterQualification
    mode: InterpreterMode = Field(description="How they interpreted: in_person, phone or video")
    language: Language | None = Field(
        default=None,
        description="The language they explained the plan in; defaults to the signer's preferred language "
        "(as the network service records it), and must be that language when it is known",
    )


class Interpreter(BaseModel):
    name: str
    qualification: InterpreterQualification
    mode: InterpreterMode
    language: str = Field(description="The language the interpreter explained the plan in")


class SignatureSummary(BaseModel):
    id: uuid.UUID
    version_number: int
    decision: SignatureDecision
    signer_name: str
    signer_role: SignerRole
    participant_id: uuid.UUID | None
    method: SignatureMethod | None
    refusal_reason: str | None
    signed_at: datetime
    recorded_by: str
    language: str | None = Field(
        description="The language of the version signed (null on sign-offs recorded before languages were)"
    )
    signer_language: str | None = Field(
        description="The signer's preferred language as the network service said when they signed (null: not known)"
    )
    interpreter: Interpreter | None = Field(description="Who explained the version to the signer, if anyone")


class SignatureOut(SignatureSummary):
    """A sign-off as recorded: what was signed (`version_hash`), how, with which affirmation; the
    `signature_hash` covers all of it (see docs/plans.md for the exact record)."""

    plan_id: uuid.UUID
    version_hash: str
    signer_person_id: uuid.UUID | None
    typed_name: str | None
    affirmation: str | None
    image_sha256: str | None
    recorded_by_type: ActorType
    signature_hash: str


class SignatureIn(Strict):
    """A participant signs (or refuses) one version. `version_number` and `content_hash` say exactly what
    they read; if the plan has moved on, the sign-off is refused (409) rather than attached elsewhere."""

    version_number: int = Field(ge=1)
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    decision: SignatureDecision = SignatureDecision.signed
    participant_id: case_refs.PlanParticipantRef | None = Field(
        default=None, description="The plan participant signing, if listed"
    )
    signer_name: str = Field(min_length=1, max_length=200)
    signer_person_id: case_refs.PersonRef | None = None
    signer_role: SignerRole
    method: SignatureMethod | None = Field(default=None, description="Required when signing")
    typed_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Required for the typed_name method"
    )
    affirmation: str | None = Field(
        default=None, min_length=1, max_length=2000, description="The words the signer affirmed, as shown to them"
    )
    image_png_base64: str | None = Field(
        default=None, max_length=2_000_000, description="The drawn signature (drawn method): a small base64 PNG"
    )
    refusal_reason: str | None = Field(default=None, min_length=1, max_length=2000)
    interpreter: InterpreterIn | None = Field(
        default=None,
        description="Required to sign a version whose language is not the signer's preferred language",
    )


class SignatureVerification(BaseModel):
    signature_id: uuid.UUID
    valid: bool
    checks: dict[str, bool] = Field(
        description="signature_hash: the record matches its hash; version_hash: it "
        "names the version's content hash; content: the version's content "
        "still hashes to it; image: the stored image matches its hash"
    )
    signature_hash: str
    recomputed_hash: str


class SignOffStatus(BaseModel):
    """Whose signatures the policy requires on the current version, and who has not signed."""

    version_number: int
    policy: str
    required: list[PersonRef]
    signed: list[str]
    refused: list[str]
    missing: list[str]
    complete: bool


class ApprovalIn(Strict):
    version_number: int = Field(ge=1)
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    decision: PlanApprovalDecision
    comment: str | None = Field(default=None, min_length=1, max_length=4000)


class ApprovalOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    version_number: int
    version_hash: str
    decision: PlanApprovalDecision
    comment: str | None
    decided_by: str
    decided_at: datetime


class SubmitIn(Strict):
    note: str | None = Field(default=None, min_length=1, max_length=4000)
    supervisor: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The supervisor asked to decide (their subject); any supervisor on the case may decide",
    )


class ActivateIn(Strict):
    note: str | None = Field(default=None, min_length=1, max_length=4000)


class TerminateIn(Strict):
    reason: Note


class ReviewIn(Strict):
    note: Note


class ReviewOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    version_number: int
    note: str
    reviewed_by: str
    reviewed_at: datetime
    next_review_due: datetime | None


class CheckInIn(Strict):
    rule_id: case_refs.SafetyPlanRuleRef = Field(description="A rule of the version in force")
    occurred_at: AwareDatetime | None = Field(default=None, description="When it was seen; defaults to now")
    reported_by: PersonRef
    kept: bool
    note: str | None = Field(default=None, min_length=1, max_length=4000)


class CheckInOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    case_id: uuid.UUID
    version_number: int
    rule_id: uuid.UUID
    occurred_at: datetime
    reported_by: PersonRef
    kept: bool
    note: str | None
    recorded_by: str
    recorded_at: datetime


class WeekRecord(BaseModel):
    """Kept and broken rules in one ISO week (Monday first), per rule and in total."""

    week: str = Field(description="ISO week, e.g. 2026-W45")
    starts_on: date
    kept: int
    broken: int
    rules: dict[str, dict[str, int]] = Field(description="rule id -> {kept, broken}")


class CheckInRecord(BaseModel):
    plan_id: uuid.UUID
    weeks: list[WeekRecord]
    total_kept: int
    total_broken: int


class InForce(BaseModel):
    version_number: int
    content_hash: str
    effective_from: datetime
    expires_at: datetime | None
    activated_at: datetime | None


class AlertKind(StrEnum):
    plan_expiring = "plan_expiring"
    plan_expired = "plan_expired"
    review_due = "review_due"
    review_overdue = "review_overdue"
    approval_pending = "approval_pending"
    next_step_overdue = "next_step_overdue"
    immediate_plan_approval_overdue = "immediate_plan_approval_overdue"
    conditionally_safe_without_plan = "conditionally_safe_without_plan"
    rule_broken = "rule_broken"


class Alert(BaseModel):
    kind: AlertKind
    case_id: uuid.UUID
    plan_id: uuid.UUID | None = None
    next_step_id: uuid.UUID | None = None
    sdm_assessment_id: uuid.UUID | None = None  # conditionally_safe_without_plan: the decision's assessment
    check_in_id: uuid.UUID | None = None  # rule_broken: the check-in that said so
    rule_id: uuid.UUID | None = None  # rule_broken: the plan rule
    title: str
    due_at: datetime | None
    owner: str
    supervisor: str | None = None
    message: str


class ReviewSchedule(BaseModel):
    review_every_days: int
    last_reviewed_at: datetime | None
    next_review_due: datetime | None


class SafetyPlanOut(BaseModel):
    """A plan with its current version's content, flattened, and what the case view shows with it: the
    version in force, sign-offs, the latest approval decision, recent check-ins and alerts."""

    id: uuid.UUID
    case_id: uuid.UUID
    plan_type: PlanType
    status: PlanStatus
    title: str
    language: str
    effective_from: datetime
    expires_at: datetime | None
    safety_assessment_id: uuid.UUID | None
    danger_statement_ids: list[uuid.UUID]
    threat_codes: list[str]
    current_version_number: int
    content_hash: str
    participants: list[Participant]
    rules: list[RuleOut]
    triggers: list[str]
    trigger_plan: list[TriggerPlanEntry] = Field(
        default_factory=list,
        description="How the plan avoids each known trigger: the agency reads the trigger ids; the family the words "
        "(once the plan is shared with them, translated like the plan's other words); nobody else",
    )
    if_rule_broken: IfRuleBroken | None
    backup_plan: str | None
    worker_monitoring: WorkerMonitoring | None
    warnings: list[PlanWarning]
    in_force: InForce | None
    owner: str
    supervisor: str | None
    rule_set_id: str
    review: ReviewSchedule
    submitted_at: datetime | None
    activated_at: datetime | None
    starts_at: datetime | None = Field(
        description="Activated before its effective start: the plan stays approved and comes into force then"
    )
    approval_due_at: datetime | None = Field(
        description="An immediate plan in force on the worker's and caregivers' signatures: the supervisor's "
        "approval is due by then"
    )
    ended_at: datetime | None
    end_reason: PlanEndReason | None = Field(
        description="Why the plan ended, as a code: `replaced_by_plan` (the plan `replaced_by_plan_id` came into "
        "force), `expired`, `terminated` (the words of whoever ended it are `end_note`). Readers show it in their "
        "own language (the case view's `endReasonWords`)"
    )
    end_note: str | None = Field(description="The reason given when the plan was terminated, as written")
    translations: list[CarriedTranslation] | None = Field(
        default=None,
        description="The case view only: people's current translations of the plan's words (`source_field`: "
        "title, triggers.0…, if_rule_broken.what_happens, backup_plan, trigger_plan.0.how_avoided…)",
    )
    ended_by: str | None = Field(description="Who ended the plan (terminated it, or activated its replacement)")
    replaced_by_plan_id: uuid.UUID | None = Field(
        description="The plan of the same type whose activation ended this one (one plan of each type in force)"
    )
    replaced_plan_ids: list[uuid.UUID] = Field(
        description="The case's plans of the same type this plan's activation ended (terminated, replaced)"
    )
    signatures: list[SignatureSummary] = Field(description="Sign-offs on the current version")
    sign_off: SignOffStatus
    latest_approval: ApprovalOut | None
    recent_check_ins: list[CheckInOut] = Field(
        description="The latest check-ins, newest first (5, or the case view's `check_ins_first`)"
    )
    recent_check_ins_paging: ListPaging = Field(
        description="How many check-ins the plan has; the rest from `GET /v1/safety-plans/{plan_id}/recent-check-ins`"
    )
    alerts: list[Alert]
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
    change_note: str | None
    changes: list[VersionChange]
    signatures: list[SignatureSummary]
    approvals: list[ApprovalOut]
    created_by: str
    created_at: datetime


class NextStepIn(Strict):
    action: Text
    owner: PersonRef
    owner_kind: NextStepOwnerKind
    due_on: date
    goal_id: case_refs.SafetyGoalRef | None = Field(
        default=None, description="The safety goal (assessment service) it serves"
    )
    safety_plan_id: case_refs.SafetyPlanRef | None = None


class NextStepPatch(Strict):
    action: Text | None = None
    owner: PersonRef | None = None
    owner_kind: NextStepOwnerKind | None = None
    due_on: date | None = None
    status: NextStepStatus | None = None
    goal_id: case_refs.SafetyGoalRef | None = None


class NextStepOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    action: str
    owner: PersonRef
    owner_kind: NextStepOwnerKind
    due_on: date
    status: NextStepStatus
    overdue: bool
    goal_id: uuid.UUID | None
    safety_plan_id: uuid.UUID | None
    completed_at: datetime | None
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    translations: list[CarriedTranslation] | None = Field(
        default=None, description="The case view only: people's current translations of the action"
    )


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
