"""What the coaching API promises: referrals and their history, the coach's queue, sessions with ratings against
the practice profile, goals and follow-up, and the profile itself."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from sop_practice.coaching.models import (
    CloseOutcome,
    CoachingType,
    GoalStatus,
    ReferralSource,
    ReferralStatus,
    SessionKind,
    SnapshotSource,
)
from sop_practice.schemas import Strict
from sop_shared.case_refs import NotCaseScoped

# Coaching's records are about people, never a case.
CoachingSessionId = Annotated[uuid.UUID, NotCaseScoped("a coaching session: about a worker's practice, never a case")]

ConsultationId = Annotated[
    uuid.UUID,
    NotCaseScoped(
        "a consultation of the assessment service, named only as what the referral waits for: the assessment service "
        "checks its case when the worker brings it, and only what it sends is attached"
    ),
]

Why = Field(min_length=1, max_length=2000)


class ReferralIn(Strict):
    """A worker referred one-on-one (by their supervisor, or by themselves), or a unit for group coaching (by a
    supervisor of the unit). The training coordinator routes it to a coach."""

    worker_subject: str | None = Field(default=None, min_length=1, max_length=200, description="The worker referred")
    unit: str | None = Field(default=None, min_length=1, max_length=200, description="Or the unit (group coaching)")
    coaching_type: CoachingType = CoachingType.one_on_one
    topic: str = Field(min_length=1, max_length=200, description="What the coaching is about")
    reason: str | None = Field(default=None, min_length=1, max_length=2000, description="Why coaching, now")
    consultation_id: ConsultationId | None = Field(
        default=None,
        description="The consultation the worker will bring to this coaching: its snapshot comes from the assessment "
        "service (POST /api/assessment/v1/cases/{case_id}/consultations/{consultation_id}/coaching), never in this "
        "body (`consultation_snapshot` with it: 422)",
    )
    consultation_snapshot: dict[str, Any] | None = Field(
        default=None,
        description="Deprecated: a pasted snapshot (anything may be pasted). Bring the consultation from the "
        "assessment service instead, which sends its own snapshot here. A coach sees a snapshot without the "
        "details that identify the family unless the worker's supervisor allows them.",
        json_schema_extra={"deprecated": True},
    )


class AssignIn(Strict):
    coach_subject: str = Field(min_length=1, max_length=200)
    why: str | None = Field(default=None, min_length=1, max_length=2000, description="Needed to change the coach")


class StartIn(Strict):
    why: str | None = Field(default=None, min_length=1, max_length=2000)


class CloseIn(Strict):
    outcome: CloseOutcome
    why: str = Why


class IdentifyingDetailsIn(Strict):
    """The worker's supervisor allows (or takes back) the coach seeing the snapshot's identifying details."""

    allowed: bool
    why: str = Why


class ReferralEventOut(BaseModel):
    action: str
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    by: str
    at: datetime
    why: str | None
    coach_subject: str | None


class ReferralOut(BaseModel):
    id: uuid.UUID
    worker_subject: str | None
    unit: str | None
    coaching_type: CoachingType
    topic: str
    reason: str | None
    source: ReferralSource
    referred_by: str
    status: ReferralStatus
    coach_subject: str | None
    outcome: CloseOutcome | None
    consultation_snapshot: dict[str, Any] | None = Field(
        description="As the reader may see it: a coach or the coordinator without identifying details unless the "
        "supervisor allowed them"
    )
    identifying_details_allowed: bool
    snapshot_source: SnapshotSource | None = Field(
        description="`consultation`: brought from the consultation named; `pasted`: in the referral's body "
        "(deprecated); null: none yet"
    )
    consultation_id: uuid.UUID | None = Field(
        description="The consultation the snapshot came from (or, with no snapshot yet, the one the referral waits for)"
    )
    consultation_brought_by: str | None = Field(description="Who brought the consultation to coaching")
    consultation_brought_at: datetime | None
    moved_from_assessment: bool = Field(description="Made in the assessment service before coaching moved here")
    version: int
    created_at: datetime
    updated_at: datetime
    history: list[ReferralEventOut]


class RatingIn(Strict):
    worker_subject: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Whose practice: required in a group's session (a worker of the unit, each rated on their own); "
        "in a one-on-one session the referral's worker (who may be left out)",
    )
    behaviour: str = Field(min_length=1, max_length=64, description="A behaviour key of the practice profile")
    rating: int = Field(ge=0, le=10, description="On the profile's rating scale")
    note: str | None = Field(default=None, min_length=1, max_length=2000, description="What the coach saw")


class SessionIn(Strict):
    kind: SessionKind
    held_on: date
    notes: str | None = Field(default=None, min_length=1, max_length=10000)
    ratings: list[RatingIn] = Field(default_factory=list, max_length=50)


class RatingOut(BaseModel):
    worker_subject: str | None = Field(
        description="The worker rated (null: a group's rating from before each worker was)"
    )
    behaviour: str
    domain: str | None
    text: str | None
    rating: int
    label: str | None
    note: str | None


class SessionOut(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    coach_subject: str
    kind: SessionKind
    held_on: date
    profile_key: str
    profile_version: str
    notes: str | None
    ratings: list[RatingOut]
    created_at: datetime


class GoalIn(Strict):
    text: str = Field(min_length=1, max_length=1000, description="What the worker will practise")
    behaviour: str | None = Field(default=None, min_length=1, max_length=64, description="The profile's behaviour")
    session_id: CoachingSessionId | None = Field(
        default=None, description="The session it was set in (of this referral)"
    )
    follow_up_on: date | None = None


class FollowUpIn(Strict):
    status: GoalStatus
    note: str = Field(min_length=1, max_length=2000)
    follow_up_on: date | None = Field(default=None, description="The next follow-up, if the goal stays open")


class GoalOut(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    session_id: uuid.UUID | None
    worker_subject: str | None
    behaviour: str | None
    text: str
    follow_up_on: date | None
    status: GoalStatus
    follow_up_note: str | None
    followed_up_by: str | None
    followed_up_at: datetime | None
    set_by: str
    version: int


class QueueItem(BaseModel):
    """A referral in a coach's queue (or, for the training coordinator, waiting to be routed)."""

    id: uuid.UUID
    worker_subject: str | None
    unit: str | None
    coaching_type: CoachingType
    topic: str
    reason: str | None
    status: ReferralStatus
    coach_subject: str | None
    referred_by: str
    source: ReferralSource
    consultation_snapshot: dict[str, Any] | None = Field(
        description="Without identifying details unless the worker's supervisor allowed them"
    )
    sessions: int
    open_goals: int
    next_follow_up_on: date | None
    version: int
    created_at: datetime


class ProfileOut(BaseModel):
    key: str
    version: str
    title: str
    notice: str | None
    rating_scale: list[dict[str, Any]]
    domains: list[dict[str, Any]]
    behaviours: list[dict[str, Any]]
