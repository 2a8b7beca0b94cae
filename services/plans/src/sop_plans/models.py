"""Tables of the plans service: safety plans and their immutable versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, UniqueConstraint, event
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from sop_shared.db import UTCDateTime, enum_column, service_metadata, utcnow
from sop_shared.ids import new_id
from sop_shared.platform_tables import define_platform_tables

metadata = service_metadata()
platform = define_platform_tables(metadata)


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


def _created() -> datetime:
    return utcnow()


class SafetyPlan(PlansTable, table=True):
    """The plan's life and links. What was agreed lives in its versions; `current_version_number` points at
    the one in force. Cases live in the network service, so `case_id` is a reference, not a foreign key."""

    __tablename__ = "safety_plan"

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
    created_by: str = Field(sa_column=Column(String(200), nullable=False))
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class ImmutableVersionError(RuntimeError):
    """A programming error: something tried to change a stored plan version instead of adding one."""


@event.listens_for(SafetyPlanVersion, "before_update")
def _versions_are_never_updated(_mapper: Any, _connection: Any, target: SafetyPlanVersion) -> None:
    raise ImmutableVersionError(
        f"safety plan version {target.plan_id}/{target.number} is immutable; create a new version instead")
