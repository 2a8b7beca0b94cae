"""Three-column maps and their immutable versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, UniqueConstraint, Uuid
from sqlmodel import Field

from sop_assessment.models import AssessmentTable
from sop_shared.db import UTCDateTime, enum_column, utcnow
from sop_shared.ids import new_id
from sop_shared.sharing import SharedRecord


class MapContext(StrEnum):
    investigation = "investigation"
    in_home = "in_home"
    out_of_home = "out_of_home"
    consultation = "consultation"
    family_meeting = "family_meeting"
    supervision = "supervision"


class AssessmentMap(AssessmentTable, SharedRecord, table=True):
    """A map of one case. Its words live in its versions; this row only says which version is current and
    which version (if any) was marked complete. `current_version` is also the map's ETag."""

    __tablename__ = "assessment_map"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    context: MapContext = Field(sa_type=enum_column(MapContext))
    title: str = Field(max_length=200)
    current_version: int = 1
    completed_version: int | None = None
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    completed_by: str | None = Field(default=None, max_length=200)
    # A supervisor's recorded exception to the balance rule for the completed version: {reason, recorded_by,
    # recorded_at, waived: [the missing pieces' fields]} (None: the map was balanced, or never completed).
    completion_exception: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The version the family, their network, partners and the court read (None: none shared yet). Versions are
    # immutable, so they keep reading it while the worker drafts the next one.
    shared_version: int | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class MapVersion(AssessmentTable, table=True):
    """One saved state of a map. Never updated, never deleted: a change is the next number."""

    __tablename__ = "map_version"
    __table_args__ = (UniqueConstraint("map_id", "number"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    map_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("assessment_map.id"), nullable=False, index=True))
    case_id: uuid.UUID = Field(index=True)
    number: int
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    change_note: str | None = Field(default=None, max_length=500)
    saved_by: str = Field(max_length=200)
    saved_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
