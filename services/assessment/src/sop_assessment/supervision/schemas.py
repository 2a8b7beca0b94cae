"""What the supervision API promises: consultations, approvals, coaching referrals, questions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from sop_assessment.maps.schemas import MapContentOut
from sop_assessment.schemas import Name, Strict
from sop_assessment.supervision.models import (
    ApprovalAction,
    ApprovalKind,
    ApprovalStatus,
    CoachingStatus,
    CoachingType,
    ConsultationType,
)
from sop_shared import case_refs

Comment = Annotated[str | None, Field(max_length=2000)]


class ConsultationParticipantIn(Strict):
    name: Name
    role: Annotated[str | None, Field(max_length=100)] = None
    subject: Annotated[str | None, Field(max_length=200, description="Their login, for staff")] = None
    rating: int | None = Field(default=None, ge=0, le=10, description="Their safety-scale rating, 0 to 10")
    rationale: Comment = None


class ConsultationNextStep(Strict):
    action: Annotated[str, Field(min_length=1, max_length=1000)]
    owner: Annotated[str | None, Field(max_length=200)] = None
    due_on: date | None = None


class ConsultationIn(Strict):
    consultation_type: ConsultationType
    held_on: date
    facilitator: Name
    participants: list[ConsultationParticipantIn] = Field(min_length=1, max_length=50)
    presenting_question: Annotated[str | None, Field(max_length=2000)] = None
    map_id: case_refs.MapRef | None = Field(default=None, description="The map discussed")
    map_version: int | None = Field(default=None, ge=1, description="Default: the map's current version")
    decisions: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(default_factory=list, max_length=50)
    next_steps: list[ConsultationNextStep] = Field(default_factory=list, max_length=50)
    follow_up_on: date | None = None


class DiscussedStatement(BaseModel):
    """A danger statement as it read when the consultation was held (redacted for this reader as today)."""

    id: uuid.UUID
    version: int
    status: str
    composed_text: str
    threat_codes: list[str]
    redacted: list[str] = Field(default_factory=list, description="Fields withheld from this reader")


class DiscussedGoal(BaseModel):
    id: uuid.UUID
    version: int
    danger_statement_id: uuid.UUID
    status: str
    composed_text: str | None = Field(description="Null when its danger statement is withheld from this reader")
    owner: str
    duration: str


class DiscussedRating(BaseModel):
    id: uuid.UUID
    target: str = Field(description="The danger statement's id, or `overall`")
    statement_id: uuid.UUID | None
    rater_name: str
    rater_role: str
    score: int
    occasion_on: date


class Discussed(BaseModel):
    """What the consultation discussed, kept as it stood then (not recomputed)."""

    taken_at: datetime
    danger_statements: list[DiscussedStatement]
    safety_goals: list[DiscussedGoal]
    ratings: list[DiscussedRating] = Field(description="Each scale's latest occasion when the consultation was held")


class ConsultationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    consultation_type: ConsultationType
    held_on: date
    facilitator: str
    participants: list[ConsultationParticipantIn]
    presenting_question: str | None
    map_id: uuid.UUID | None
    map_version: int | None
    map_snapshot: MapContentOut | None = Field(description="The map exactly as it read in the version discussed")
    discussed: Discussed | None = Field(
        default=None,
        description="The danger statements, safety goals and ratings as they stood when it was recorded "
        "(null for a consultation recorded before these were kept)",
    )
    decisions: list[str]
    next_steps: list[ConsultationNextStep]
    follow_up_on: date | None
    created_by: str
    created_at: datetime


class BringToCoachingIn(Strict):
    """A worker (or their supervisor) brings this consultation to a coaching referral at the practice service."""

    referral_id: Annotated[
        uuid.UUID,
        case_refs.NotCaseScoped(
            "a coaching referral of the practice service: about a worker's practice, never a case; the practice "
            "service checks it is the bringer's (or their worker's) when the consultation arrives"
        ),
    ] = Field(description="The coaching referral (practice service) the consultation is brought to")


class BroughtToCoachingOut(BaseModel):
    """The consultation is on its way to the referral: the practice service attaches its snapshot once it has
    checked the referral is the bringer's (or their worker's), and keeps a refusal in the referral's history
    otherwise."""

    id: uuid.UUID = Field(description="The event that carries the consultation to the practice service")
    case_id: uuid.UUID
    consultation_id: uuid.UUID
    referral_id: uuid.UUID
    brought_by: str
    brought_at: datetime


class ApprovalRequestIn(Strict):
    """Asking a supervisor to approve something. `subject_id` is the thing approved (an SDM assessment, a
    safety plan, …); `summary` says in one or two lines what the supervisor is asked to decide."""

    kind: ApprovalKind
    subject_id: case_refs.ApprovalSubjectRef
    subject_version: int | None = Field(default=None, ge=1)
    summary: Annotated[str, Field(min_length=1, max_length=1000)]
    approver_subject: Annotated[str | None, Field(max_length=200, description="The supervisor asked")] = None


class ServiceApprovalRequestIn(ApprovalRequestIn):
    """A request from another service: it names the case and itself, and who asked."""

    case_id: case_refs.CaseIdRef
    source_service: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
    requested_by: Name


class SupervisorDecision(StrEnum):
    """What the supervisor decided on a request in the approval queue"""

    approved = "approved"
    returned = "returned"


class ApprovalDecisionIn(Strict):
    decision: SupervisorDecision
    comment: Comment = None


class ApprovalResubmitIn(Strict):
    comment: Comment = None


class ApprovalEventOut(BaseModel):
    action: ApprovalAction
    actor: str
    comment: str | None
    at: datetime


class ApprovalWarning(BaseModel):
    code: str
    field: str | None = None
    message: str


class ApprovalOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: ApprovalKind
    source_service: str
    subject_id: uuid.UUID
    subject_version: int | None
    subject_hash: str | None = Field(default=None, description="The hash of the version to decide on, if any")
    decide_at: str | None = Field(
        default=None,
        description="Where to decide when it is not decided in this queue (another service's item; a gateway path)",
    )
    summary: str
    warnings: list[ApprovalWarning] = Field(
        default_factory=list, description="What the supervisor would ask about: a safety plan's practice warnings"
    )
    requested_by: str
    approver_subject: str | None
    status: ApprovalStatus
    decided_by: str | None
    decided_at: datetime | None
    decision_comment: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    history: list[ApprovalEventOut]


class CoachingReferralIn(Strict):
    worker_subject: Annotated[str | None, Field(max_length=200, description="The worker referred")] = None
    unit: Annotated[str | None, Field(max_length=200, description="Or the unit referred (group coaching)")] = None
    coaching_type: CoachingType
    topic: Annotated[str, Field(min_length=1, max_length=200)]
    notes: Comment = None


class CoachingReferralUpdate(Strict):
    status: CoachingStatus | None = None
    notes: Comment = None


class CoachingReferralOut(BaseModel):
    id: uuid.UUID
    worker_subject: str | None
    unit: str | None
    coaching_type: CoachingType
    topic: str
    notes: str | None
    status: CoachingStatus
    referred_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class QuestionOut(BaseModel):
    key: str
    question_type: str
    audience: str
    language: str
    text: str
    reviewed: bool
