"""Tables of the fidelity read model: one row per case the other services' events told us of, holding only what
the measures count (dates, flags and counts, never words or names), and the rebuild jobs.

A row is a projection, nothing more: `facts` keeps the per-record state the fold needs to apply the next event
(statement ids and their status, rating perspectives, members…), the other columns are derived from it so a
dashboard is one aggregate query over indexed columns."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field

from sop_practice.models import PracticeTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id


def _now() -> datetime:
    return utcnow()


class FidelityCase(PracticeTable, table=True):
    __tablename__ = "fidelity_case"
    __table_args__ = (
        Index("ix_fidelity_case_county_opened", "county", "opened_on"),
        Index("ix_fidelity_case_unit_opened", "unit", "opened_on"),
        Index("ix_fidelity_case_worker_opened", "worker", "opened_on"),
    )

    case_id: uuid.UUID = Field(primary_key=True)
    county: str | None = Field(default=None, max_length=100)
    opened_on: date | None = None
    worker: str | None = Field(default=None, max_length=200)  # the case's worker (staff subject)
    unit: str | None = Field(default=None, max_length=100)  # the worker's unit, when SACWIS said
    has_map: bool = False
    danger_days: int | None = None  # days from opening to the first danger statement still standing
    has_safety_goal: bool = False
    two_perspectives: bool = False  # live safety-scale ratings from two perspectives, one the family's or network's
    network_size: int = 0  # members in the network now
    network_heard: int = 0  # of them, those who have heard the danger statements
    child_voice: bool = False
    has_plan: bool = False
    caregiver_signed: bool = False
    sdm_completed: int = 0  # completed SDM assessments with a completion due date
    sdm_on_time: int = 0
    shared_texts: int = 0  # texts shared with the family now (statements, goals, maps)
    shared_plain: int = 0  # of them, shared with no plain-language finding to fix
    needs_translation: bool = False  # someone in the family reads another language than English
    translation_verified: bool = False
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))


class RebuildStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class FidelityRebuild(PracticeTable, table=True):
    """A rebuild of the read model from the event streams: its progress, readable over the API."""

    __tablename__ = "fidelity_rebuild"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    status: RebuildStatus = Field(default=RebuildStatus.queued, sa_type=enum_column(RebuildStatus))
    requested_by: str = Field(max_length=200)
    events_total: int | None = None  # the stream's messages to read, once it said
    events_read: int = 0  # read so far
    events_applied: int = 0  # of them, the events the model counts (when done)
    cases: int = 0
    error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
