"""Supervision and coaching: consultations, the approval queue (with its history), coaching referrals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Text, Uuid, text
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


class ConsultationType(StrEnum):
    individual_supervision = "individual_supervision"
    group_supervision = "group_supervision"
    case_consultation = "case_consultation"
    appreciative_inquiry = "appreciative_inquiry"
    fidelity_review = "fidelity_review"


class Consultation(AssessmentTable, table=True):
    """A consultation about one case. It names the map version it discussed; map versions are never
    changed, so that is a snapshot. Each participant's scale rating is kept as they gave it."""

    __tablename__ = "consultation"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    consultation_type: ConsultationType = Field(sa_type=enum_column(ConsultationType))
    held_on: date
    facilitator: str = Field(max_length=200)
    participants: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    presenting_question: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    map_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("assessment_map.id"), nullable=True)
    )
    map_version: int | None = None
    decisions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    next_steps: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    follow_up_on: date | None = None
    # What was discussed, as it stood when the consultation was recorded (supervision.rules.discussed): the
    # danger statements, the safety goals and the latest ratings. Kept, never recomputed; null on older rows.
    discussed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class ApprovalKind(StrEnum):
    """What is being approved. Stored as a string: a new kind is not a schema change."""

    sdm_override = "sdm_override"  # a discretionary risk override (exactly one level up)
    priority_downgrade = "priority_downgrade"  # a hotline response priority lowered
    sdm_assessment = "sdm_assessment"  # an SDM result a supervisor must approve before it is final
    safety_plan = "safety_plan"  # from the plans service (sop.plans.safety_plan.approval_requested)


class ApprovalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    returned = "returned"  # returned for edits; the requester resubmits
    withdrawn = "withdrawn"


class Approval(AssessmentTable, table=True):
    __tablename__ = "approval"
    # One pending approval per kind and subject, kept by the database too.
    __table_args__ = (
        Index(
            "uq_approval_pending_kind_subject",
            "kind",
            "subject_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    kind: ApprovalKind = Field(sa_type=enum_column(ApprovalKind))
    source_service: str = Field(max_length=40)
    subject_id: uuid.UUID = Field(index=True)  # the thing approved: an SDM assessment, a safety plan, …
    subject_version: int | None = None
    subject_hash: str | None = Field(default=None, max_length=128)  # e.g. a safety plan version's content hash
    # Where the decision is taken when it is not taken in this queue (another service's item), as a gateway path.
    decide_at: str | None = Field(default=None, max_length=500)
    summary: str = Field(max_length=1000)
    # What the supervisor would ask about, as the requesting service said (a safety plan's practice warnings)
    warnings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    requested_by: str = Field(max_length=200)
    approver_subject: str | None = Field(default=None, max_length=200, index=True)
    status: ApprovalStatus = Field(default=ApprovalStatus.pending, sa_type=enum_column(ApprovalStatus))
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decision_comment: str | None = Field(default=None, max_length=2000)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class ApprovalAction(StrEnum):
    requested = "requested"
    approved = "approved"
    returned = "returned"
    resubmitted = "resubmitted"
    withdrawn = "withdrawn"


class ApprovalEvent(AssessmentTable, table=True):
    """The history of one approval: appended, never changed."""

    __tablename__ = "approval_event"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    approval_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("approval.id"), nullable=False, index=True))
    action: ApprovalAction = Field(sa_type=enum_column(ApprovalAction))
    actor: str = Field(max_length=200)
    comment: str | None = Field(default=None, max_length=2000)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class CoachingType(StrEnum):
    one_on_one = "one_on_one"
    group = "group"


class CoachingStatus(StrEnum):
    requested = "requested"
    scheduled = "scheduled"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class CoachingReferral(AssessmentTable, table=True):
    """A worker or a unit referred for SOP/SDM coaching. Not case data: it is about practice."""

    __tablename__ = "coaching_referral"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    worker_subject: str | None = Field(default=None, max_length=200, index=True)
    unit: str | None = Field(default=None, max_length=200)
    coaching_type: CoachingType = Field(sa_type=enum_column(CoachingType))
    topic: str = Field(max_length=200)
    notes: str | None = Field(default=None, max_length=2000)
    status: CoachingStatus = Field(default=CoachingStatus.requested, sa_type=enum_column(CoachingStatus))
    referred_by: str = Field(max_length=200, index=True)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
