"""Tables of the practice service: the practitioner registry (who trains, coaches, coordinates and leads, and the
workers and supervisors they serve), coaches' caseloads; the platform's own tables (outbox, processed events,
idempotency keys, the audit chain). No case data: people are named by their staff subject, units by code."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from sop_shared.db import UTCDateTime, service_metadata, utcnow
from sop_shared.ids import new_id
from sop_shared.platform_tables import define_platform_tables

metadata = service_metadata()
platform = define_platform_tables(metadata)


class PracticeTable(SQLModel, registry=registry(metadata=metadata)):
    pass


class PracticeRole(StrEnum):
    """A practitioner's part in SOP practice (what training is required of them follows from it)."""

    worker = "worker"
    supervisor = "supervisor"
    coach = "coach"
    trainer = "trainer"
    training_coordinator = "training_coordinator"
    practice_lead = "practice_lead"


def _created() -> datetime:
    return utcnow()


class Practitioner(PracticeTable, table=True):
    """Someone the practice service knows: a DCFS worker or supervisor, or MidSOUTH's coaches and trainers."""

    __tablename__ = "practitioner"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    subject: str = Field(max_length=200, unique=True)  # the staff identity they sign in with
    name: str = Field(max_length=200)
    agency: str = Field(max_length=100)
    roles: list[str] = Field(sa_column=Column(JSON, nullable=False))
    unit: str | None = Field(default=None, max_length=100, index=True)
    county: str | None = Field(default=None, max_length=100)
    supervisor_subject: str | None = Field(default=None, max_length=200, index=True)
    started_on: date | None = None  # in their present role: training due dates count from here
    active: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class CaseloadEntry(PracticeTable, table=True):
    """One line of a coach's caseload: a worker, or a whole unit; open until `ended_on`."""

    __tablename__ = "coach_caseload"
    __table_args__ = (Index("ix_coach_caseload_coach_ended", "coach_subject", "ended_on"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    coach_subject: str = Field(max_length=200)
    worker_subject: str | None = Field(default=None, max_length=200, index=True)
    unit: str | None = Field(default=None, max_length=100, index=True)
    started_on: date
    ended_on: date | None = None
    assigned_by: str = Field(max_length=200)
    end_reason: str | None = Field(default=None, max_length=500)
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
