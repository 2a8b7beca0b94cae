"""Tables of coaching: referrals (routed by the training coordinator to a coach's queue) with their history,
coaching sessions with the practice behaviours rated in them, and the worker's goals with their follow-up.

The one piece of a case that may reach the practice service is a consultation's snapshot that a worker brings to
coaching (`sop_shared.policy.COACH_CASE_VIEW`); a coach reads it through `coach_view`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Text, UniqueConstraint, Uuid
from sqlalchemy.sql.elements import conv
from sqlmodel import Field

from sop_practice.models import PracticeTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


class CoachingType(StrEnum):
    one_on_one = "one_on_one"
    group = "group"  # a whole unit


class ReferralStatus(StrEnum):
    referred = "referred"  # waiting for the training coordinator to route it
    assigned = "assigned"  # in a coach's queue
    in_coaching = "in_coaching"
    closed = "closed"


class ReferralSource(StrEnum):
    supervisor = "supervisor"
    self = "self"  # the worker referred themselves
    assessment_service = "assessment_service"  # made in the assessment service before coaching moved here


class CloseOutcome(StrEnum):
    completed = "completed"
    declined = "declined"  # the worker or the coordinator declined it
    withdrawn = "withdrawn"  # the referrer withdrew it


class SessionKind(StrEnum):
    modelling = "modelling"  # the coach models the practice
    observation_mapping_meeting = "observation_mapping_meeting"
    observation_family_meeting = "observation_family_meeting"
    feedback = "feedback"


class SnapshotSource(StrEnum):
    """Where a referral's consultation snapshot came from"""

    consultation = "consultation"  # brought from the assessment service, checked there and here
    pasted = "pasted"  # in the referral's body (deprecated)


class GoalStatus(StrEnum):
    open = "open"
    met = "met"
    partly_met = "partly_met"
    not_met = "not_met"
    dropped = "dropped"


RATING_KEY = "uq_coaching_behaviour_rating_session_worker_behaviour"


def _created() -> datetime:
    return utcnow()


class CoachingReferral(PracticeTable, table=True):
    __tablename__ = "coaching_referral"
    __table_args__ = (
        Index("ix_coaching_referral_coach_status", "coach_subject", "status"),
        Index("ix_coaching_referral_status", "status"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    worker_subject: str | None = Field(default=None, max_length=200, index=True)
    unit: str | None = Field(default=None, max_length=200)
    coaching_type: CoachingType = Field(sa_type=enum_column(CoachingType))
    topic: str = Field(max_length=200)
    reason: str | None = Field(default=None, max_length=2000)
    source: ReferralSource = Field(sa_type=enum_column(ReferralSource))
    referred_by: str = Field(max_length=200, index=True)
    status: ReferralStatus = Field(default=ReferralStatus.referred, sa_type=enum_column(ReferralStatus))
    coach_subject: str | None = Field(default=None, max_length=200)
    outcome: CloseOutcome | None = Field(default=None, sa_type=enum_column(CloseOutcome))
    # What the worker brought to coaching: a consultation's snapshot, shown to the coach without identifying
    # details unless the worker's supervisor allowed them (who and when, below).
    consultation_snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    identifying_allowed_by: str | None = Field(default=None, max_length=200)
    identifying_allowed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # Where the snapshot came from: the consultation brought from the assessment service (its event), by whom and
    # when. `consultation_id` alone: the referral waits for that consultation. None: a pasted snapshot, or none.
    consultation_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    consultation_brought_by: str | None = Field(default=None, max_length=200)
    consultation_brought_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # A referral made in the assessment service: its id and version there (imported from its events).
    legacy_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True, unique=True))
    legacy_version: int | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class ReferralEvent(PracticeTable, table=True):
    """One step of a referral's history: who moved it, when, why, and to which coach."""

    __tablename__ = "coaching_referral_event"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    referral_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("coaching_referral.id"), nullable=False, index=True)
    )
    action: str = Field(max_length=40)
    from_status: ReferralStatus | None = Field(default=None, sa_type=enum_column(ReferralStatus))
    to_status: ReferralStatus = Field(sa_type=enum_column(ReferralStatus))
    by: str = Field(max_length=200)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    why: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    coach_subject: str | None = Field(default=None, max_length=200)


class CoachingSession(PracticeTable, table=True):
    __tablename__ = "coaching_session"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    referral_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("coaching_referral.id"), nullable=False, index=True)
    )
    coach_subject: str = Field(max_length=200)
    kind: SessionKind = Field(sa_type=enum_column(SessionKind))
    held_on: date
    profile_key: str = Field(max_length=64)
    profile_version: str = Field(max_length=64)
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_by: str = Field(max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class BehaviourRating(PracticeTable, table=True):
    """A practice behaviour observed in a session, rated on the profile's scale, for one worker (a group session
    rates each worker in it on their own)."""

    __tablename__ = "coaching_behaviour_rating"
    # Named here: the convention's name would pass PostgreSQL's 63 characters.
    __table_args__ = (UniqueConstraint("session_id", "worker_subject", "behaviour_key", name=conv(RATING_KEY)),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    session_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("coaching_session.id"), nullable=False))
    worker_subject: str | None = Field(default=None, max_length=200, index=True)
    behaviour_key: str = Field(max_length=64)
    rating: int
    note: str | None = Field(default=None, max_length=2000)


class CoachingGoal(PracticeTable, table=True):
    """A goal for the worker, set in coaching, and where its follow-up stands."""

    __tablename__ = "coaching_goal"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    referral_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("coaching_referral.id"), nullable=False, index=True)
    )
    session_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, ForeignKey("coaching_session.id")))
    worker_subject: str | None = Field(default=None, max_length=200)
    behaviour_key: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=1000)
    follow_up_on: date | None = None
    status: GoalStatus = Field(default=GoalStatus.open, sa_type=enum_column(GoalStatus))
    follow_up_note: str | None = Field(default=None, max_length=2000)
    followed_up_by: str | None = Field(default=None, max_length=200)
    followed_up_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    set_by: str = Field(max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
