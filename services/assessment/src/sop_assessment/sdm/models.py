"""Tables of SDM assessments: one row per revision of an assessment, holding the answers, the instrument
key+version it was scored with, the server-computed result, any override and the approval history."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


class SdmStatus(StrEnum):
    draft = "draft"  # answers may change (PATCH with If-Match)
    completed = "completed"  # the server has scored it; an override may still be requested
    pending_approval = "pending_approval"  # a discretionary override or a downgrade waits for a supervisor
    approved = "approved"  # frozen: change it only by amending (a new revision)


def _now() -> datetime:
    return utcnow()


def _json(nullable: bool = False) -> Any:
    return Column(JSON, nullable=nullable)


class SdmAssessment(AssessmentTable, table=True):
    """One revision of an SDM assessment of a case. An amendment is a new row with the same `chain_id`
    and the next `revision`; approved rows never change."""

    __tablename__ = "sdm_assessment"
    __table_args__ = (UniqueConstraint("chain_id", "revision"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    chain_id: uuid.UUID = Field(index=True)  # the first revision's id
    revision: int = 1
    amends_id: uuid.UUID | None = None
    instrument_key: str = Field(max_length=64, index=True)
    instrument_version: str = Field(max_length=64)
    instrument_sha256: str | None = Field(default=None, max_length=64)  # of the file it was scored with
    assessment_type: str | None = Field(default=None, max_length=40)
    status: SdmStatus = Field(default=SdmStatus.draft, sa_type=enum_column(SdmStatus))
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    children: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    anchors: dict[str, str] = Field(default_factory=dict, sa_column=_json())
    results: dict[str, Any] | None = Field(default=None, sa_column=_json(nullable=True))
    scored_level: str | None = Field(default=None, max_length=40)
    final_level: str | None = Field(default=None, max_length=40)
    override: dict[str, Any] | None = Field(default=None, sa_column=_json(nullable=True))
    approvals: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    due: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    created_by: str = Field(max_length=200)
    completed_by: str | None = Field(default=None, max_length=200)
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    version: int = 1
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
