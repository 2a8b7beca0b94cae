"""Tables of the plans service: safety plans, their immutable versions, sign-offs, approvals, reviews and
monitoring check-ins, and the case plan's next steps."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from sop_shared.case_refs import define_case_entity_table
from sop_shared.db import UTCDateTime, enum_column, service_metadata, utcnow
from sop_shared.ids import new_id
from sop_shared.person_languages import define_person_language_table
from sop_shared.platform_tables import define_platform_tables
from sop_shared.translations import TranslationRecord

metadata = service_metadata()
platform = define_platform_tables(metadata)
# Other services' records (people, danger statements, goals, SDM assessments) plans may refer to.
case_entities = define_case_entity_table(metadata)
# The languages people read (network events): whether a signer needs an interpreter for a version.
person_languages = define_person_language_table(metadata)


class PlansTable(SQLModel, registry=registry(metadata=metadata)):
    pass


class PlanType(StrEnum):
    immediate = "immediate"
    ongoing = "ongoing"
    reunification = "reunification"


class PlanStatus(StrEnum):
    draft = "draft"
    pending_approval = "pending_approval"
    approved = "approved"
    active = "active"
    modified = "modified"
    terminated = "terminated"
    expired = "expired"


class PlanEndReason(StrEnum):
    """Why a plan ended, as a code: the words are the reader's (the gateway's label catalogue), never stored."""

    replaced_by_plan = "replaced_by_plan"  # the plan named by `replaced_by_plan_id` came into force
    expired = "expired"  # its version in force passed `expires_at`
    terminated = "terminated"  # someone ended it; their words are `end_note`


# The plans that bind the family now (safety_plans.lifecycle.in_force), as SQL.
IN_FORCE_WHERE = text("in_force_version_number IS NOT NULL AND status NOT IN ('terminated', 'expired')")


def _created() -> datetime:
    return utcnow()


class SafetyPlan(PlansTable, table=True):
    """The plan's life and links. What was agreed lives in its versions; `current_version_number` points at
    the one in force. Cases live in the network service, so `case_id` is a reference, not a foreign key."""

    __tablename__ = "safety_plan"
    # At most one plan of each type in force per case, whatever two activations do at once (see
    # safety_plans.service.put_in_force, which ends the one in force first).
    __table_args__ = (
        Index(
            "uq_safety_plan_one_in_force_per_type",
            "case_id",
            "plan_type",
            unique=True,
            postgresql_where=IN_FORCE_WHERE,
            sqlite_where=IN_FORCE_WHERE,
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    plan_type: PlanType = Field(sa_type=enum_column(PlanType))
    status: PlanStatus = Field(default=PlanStatus.draft, sa_type=enum_column(PlanStatus))
    title: str = Field(max_length=200)
    effective_from: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    safety_assessment_id: uuid.UUID | None = None
    # Links to records of the assessment service (danger statements) and the SDM threat codes answered;
    # stored as JSON lists of strings because they point outside this database.
    danger_statement_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    threat_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    current_version_number: int = 1
    # The version that binds the family now (the last one activated); None until the plan is first
    # activated. While a newer version is prepared (status modified / pending_approval / approved) this
    # one stays in force, and the dates above are its dates: the expiry sweep reads them.
    in_force_version_number: int | None = None
    # The worker who owns the plan (alerts per worker) and the supervisor asked to decide on it or who
    # decided last (alerts per supervisor). Assignments live in the network service; these are the
    # plans service's own record of who acted.
    owner: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    supervisor: str | None = Field(default=None, sa_column=Column(String(200), nullable=True, index=True))
    rule_set_id: str = Field(sa_column=Column(String(100), nullable=False))
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    activated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # An approved plan activated before its effective start stays approved until then: when it starts, and
    # who activated it (the sweep and every read put it in force at that moment).
    starts_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # An immediate plan in force on the worker's and the caregivers' signatures, before the supervisor's
    # approval: when that approval is due (policy); None once she decided, and for every other plan.
    approval_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    start_scheduled_by: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    end_reason: PlanEndReason | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    # The words of whoever terminated the plan (the terminate request's `reason`), as they wrote them.
    end_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Who ended the plan (terminated it, or activated the plan that replaced it); None when it expired.
    ended_by: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    # At most one plan of each type is in force per case: the plan whose activation ended this one, and
    # the plans this one's activation ended.
    replaced_by_plan_id: uuid.UUID | None = None
    replaced_plan_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    last_reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    next_review_due: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    version: int = 1
    created_by: str = Field(sa_column=Column(String(200), nullable=False))
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class SafetyPlanVersion(PlansTable, table=True):
    """One agreed wording of a plan. Written once, never updated: a signature binds to `content_hash`,
    the SHA-256 of the canonical JSON of `content` (see safety_plans.rules)."""

    __tablename__ = "safety_plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="safety_plan.id")
    number: int
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    # Who changed what: the author's note and the changes from the previous version (not hashed: the
    # content is what was agreed; this is how it came about).
    change_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    created_by: str = Field(sa_column=Column(String(200), nullable=False))
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class SignatureDecision(StrEnum):
    signed = "signed"
    refused = "refused"


class SignatureMethod(StrEnum):
    typed_name = "typed_name"
    drawn = "drawn"
    pin = "pin"
    click = "click"


class SignerRole(StrEnum):
    caregiver = "caregiver"
    child = "child"
    network = "network"
    worker = "worker"
    supervisor = "supervisor"
    other = "other"


class InterpreterQualification(StrEnum):
    """What made the interpreter fit to explain a plan that can end up in court."""

    certified_court_interpreter = "certified_court_interpreter"
    certified_interpreter = "certified_interpreter"
    qualified_interpreter = "qualified_interpreter"  # tested for the language pair, not certified
    staff_bilingual = "staff_bilingual"  # agency staff assessed as bilingual
    telephone_service = "telephone_service"  # a contracted telephone or video interpreting service


class InterpreterMode(StrEnum):
    in_person = "in_person"
    phone = "phone"
    video = "video"


class SafetyPlanSignature(PlansTable, table=True):
    """One participant's sign-off on (or refusal of) one version. Written once, never updated:
    `signature_hash` is the SHA-256 of the canonical signature record, which includes the version's
    content hash and the drawn image's hash, so a changed row no longer verifies."""

    __tablename__ = "safety_plan_signature"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    plan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("safety_plan.id"), nullable=False, index=True))
    version_number: int
    version_hash: str = Field(sa_column=Column(String(64), nullable=False))
    decision: SignatureDecision = Field(sa_type=enum_column(SignatureDecision))
    signer_name: str = Field(sa_column=Column(String(200), nullable=False))
    signer_person_id: uuid.UUID | None = None
    signer_role: SignerRole = Field(sa_type=enum_column(SignerRole))
    participant_id: uuid.UUID | None = None
    method: SignatureMethod | None = Field(default=None, sa_type=enum_column(SignatureMethod))
    typed_name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    affirmation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    refusal_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    image_png: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    image_sha256: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    # The language of the version signed, and of the signer as the network service last said (None: not
    # known); both None on sign-offs recorded before languages were (their record is format 1).
    language: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    signer_language: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    # Who explained the version to the signer, in which language, and how (all None without an interpreter).
    interpreter_name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    interpreter_qualification: InterpreterQualification | None = Field(
        default=None, sa_type=enum_column(InterpreterQualification)
    )
    interpreter_mode: InterpreterMode | None = Field(default=None, sa_type=enum_column(InterpreterMode))
    interpreter_language: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    recorded_by: str = Field(sa_column=Column(String(200), nullable=False))
    recorded_by_type: str = Field(sa_column=Column(String(20), nullable=False))
    signed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    signature_hash: str = Field(sa_column=Column(String(64), nullable=False))

    @property
    def interpreter(self) -> dict[str, Any] | None:
        """The interpreter as one record (how the API and the signature record show it)."""
        if self.interpreter_name is None:
            return None
        return {
            "name": self.interpreter_name,
            "qualification": self.interpreter_qualification.value if self.interpreter_qualification else None,
            "mode": self.interpreter_mode.value if self.interpreter_mode else None,
            "language": self.interpreter_language,
        }


class PlanApprovalDecision(StrEnum):
    """The supervisor's decision on a plan version"""

    approved = "approved"
    requires_modification = "requires_modification"


class SafetyPlanApproval(PlansTable, table=True):
    """A supervisor's decision on one version (bound to its content hash). Written once."""

    __tablename__ = "safety_plan_approval"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    plan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("safety_plan.id"), nullable=False, index=True))
    version_number: int
    version_hash: str = Field(sa_column=Column(String(64), nullable=False))
    decision: PlanApprovalDecision = Field(sa_type=enum_column(PlanApprovalDecision))
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by: str = Field(sa_column=Column(String(200), nullable=False))
    decided_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SafetyPlanReview(PlansTable, table=True):
    """The worker's periodic review of a plan in force (the review schedule). Written once."""

    __tablename__ = "safety_plan_review"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    plan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("safety_plan.id"), nullable=False, index=True))
    version_number: int
    note: str = Field(sa_column=Column(Text, nullable=False))
    reviewed_by: str = Field(sa_column=Column(String(200), nullable=False))
    reviewed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CheckIn(PlansTable, table=True):
    """Monitoring evidence: on this date this person saw that this rule was kept (or not). Written once; a
    correction is another check-in."""

    __tablename__ = "check_in"
    __table_args__ = (Index("ix_check_in_plan_occurred", "plan_id", "occurred_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    plan_id: uuid.UUID = Field(sa_column=Column(ForeignKey("safety_plan.id"), nullable=False))
    case_id: uuid.UUID = Field(index=True)
    version_number: int
    rule_id: uuid.UUID
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reported_by_name: str = Field(sa_column=Column(String(200), nullable=False))
    reported_by_person_id: uuid.UUID | None = None
    kept: bool = Field(sa_column=Column(Boolean, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_by: str = Field(sa_column=Column(String(200), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class NextStepStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class NextStepOwnerKind(StrEnum):
    family = "family"
    agency = "agency"
    network = "network"
    provider = "provider"


class NextStep(PlansTable, table=True):
    """A case-plan action: who does what by when, linked to the safety goal it serves."""

    __tablename__ = "next_step"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    action: str = Field(sa_column=Column(Text, nullable=False))
    owner_name: str = Field(sa_column=Column(String(200), nullable=False))
    owner_person_id: uuid.UUID | None = None
    owner_kind: NextStepOwnerKind = Field(sa_type=enum_column(NextStepOwnerKind))
    due_on: date = Field(sa_column=Column(Date, nullable=False))
    status: NextStepStatus = Field(default=NextStepStatus.open, sa_type=enum_column(NextStepStatus))
    # A safety goal of the assessment service (a reference, not a foreign key) and optionally a plan here.
    goal_id: uuid.UUID | None = None
    safety_plan_id: uuid.UUID | None = None
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    version: int = 1
    created_by: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class ImmutableVersionError(RuntimeError):
    """A programming error: something tried to change a stored plan version instead of adding one."""


class ImmutableRecordError(ImmutableVersionError):
    """A programming error: something tried to change a signature, approval, review or check-in."""


@event.listens_for(SafetyPlanVersion, "before_update")
def _versions_are_never_updated(_mapper: Any, _connection: Any, target: SafetyPlanVersion) -> None:
    raise ImmutableVersionError(
        f"safety plan version {target.plan_id}/{target.number} is immutable; create a new version instead"
    )


def _never_updated(_mapper: Any, _connection: Any, target: Any) -> None:
    raise ImmutableRecordError(f"{type(target).__name__} {target.id} is a record of what happened; add a new one")


for _table in (SafetyPlanSignature, SafetyPlanApproval, SafetyPlanReview, CheckIn):
    event.listen(_table, "before_update", _never_updated)
    event.listen(_table, "before_delete", _never_updated)


# --- practice rules across services (sop_plans.practice): what other services' events told this one ---------


class SafetyDecision(PlansTable, table=True):
    """An SDM safety assessment's decision, from the assessment service's `sdm_assessment.completed` events.
    A `conditionally_safe` decision needs an immediate or ongoing plan in force by `plan_due_at` (policy:
    `conditionally_safe_plan_within_hours`), else an alert. `cleared_at` is when that stopped mattering: a
    plan came into force (`cleared_by_plan_id`) or a later decision superseded this one."""

    __tablename__ = "safety_decision"

    sdm_assessment_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    decision: str = Field(sa_column=Column(String(40), nullable=False))
    decided_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    decided_by: str = Field(sa_column=Column(String(200), nullable=False))
    plan_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    cleared_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    cleared_reason: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    cleared_by_plan_id: uuid.UUID | None = None
    source_event_id: uuid.UUID


class CaseStaff(PlansTable, table=True):
    """Who is assigned to a case (workers, supervisors), from the network service's case events: the
    practice alerts' addressees. The newest case version wins."""

    __tablename__ = "case_staff"

    case_id: uuid.UUID = Field(primary_key=True)
    workers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    supervisors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    case_version: int
    recorded_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class SdmThreatCodes(PlansTable, table=True):
    """The SDM safety-threat codes of each instrument the assessment service has loaded (its
    `sdm_instruments.published` events): what a plan's `threat_codes` and rules' `threat_code` may name."""

    __tablename__ = "sdm_threat_codes"

    instrument_key: str = Field(sa_column=Column(String(100), primary_key=True))
    instrument_version: str = Field(sa_column=Column(String(40), primary_key=True))
    codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    recorded_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class KnownTriggers(PlansTable, table=True):
    """The known triggers of one person in a case, by id only (the assessment service's trauma history:
    `trauma_history.recorded|updated` events carry whose and the triggers' ids, never the words). A plan says
    how it avoids each (`trigger_plan`); a plan that leaves one out carries a warning. The newest version wins."""

    __tablename__ = "known_triggers"

    trauma_history_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    person_id: uuid.UUID | None = None
    person_role: str = Field(sa_column=Column(String(40), nullable=False))
    trigger_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    history_version: int
    recorded_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class Translation(PlansTable, TranslationRecord, table=True):
    """A person's translation of one field of a safety plan (its title, a red flag, what happens if a rule is
    broken, the backup plan), of one of its rules, or of a next step, as it read then (`sop_shared.translations`)."""

    __tablename__ = "translation"
