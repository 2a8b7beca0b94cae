"""Tables of the outcome measures and the federal extract. The cases' facts (reports, removals, children, the
safety plans in force) are the fidelity read model's (`fidelity_case.facts`, folded from the network's and the plans
service's events); here: the units each case belongs to (to read a unit's cases), the extract jobs with their
progress, and the files they produced."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field

from sop_practice.models import PracticeTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id
from sop_shared.jobs import JobStatus


def _now() -> datetime:
    return utcnow()


class OutcomeCaseUnit(PracticeTable, table=True):
    """A unit whose staff are or were on a case (from the case's `sop.network.case.reporting_facts`): the cases of a
    unit's outcome measures. Derived from the fidelity read model's facts, written with them."""

    __tablename__ = "outcome_case_unit"

    case_id: uuid.UUID = Field(primary_key=True)
    unit: str = Field(max_length=100, primary_key=True, index=True)


class ExtractJob(PracticeTable, table=True):
    """A federal extract (NCANDS child file, AFCARS foster care file) being produced: its progress, then its
    counts; the files are in `extract_file`."""

    __tablename__ = "extract_job"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    status: JobStatus = Field(default=JobStatus.queued, sa_type=enum_column(JobStatus))
    requested_by: str = Field(max_length=200)
    period: str = Field(max_length=7)
    county: str | None = Field(default=None, max_length=100)
    element_map: str = Field(max_length=40)  # the element map's version used
    records_total: int | None = None  # the cases to read, once counted
    records_done: int = 0
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ExtractFile(PracticeTable, table=True):
    """One file of an extract, kept in the database (any replica serves it; nothing lives on one machine's disk)."""

    __tablename__ = "extract_file"

    job_id: uuid.UUID = Field(foreign_key="extract_job.id", primary_key=True)
    name: str = Field(max_length=100, primary_key=True)
    media_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime, nullable=False))
