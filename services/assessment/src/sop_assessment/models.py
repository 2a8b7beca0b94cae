"""Tables of the assessment service. This slice: harm and danger statements."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Text, Uuid
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from sop_shared.case_refs import define_case_entity_table
from sop_shared.db import UTCDateTime, enum_column, service_metadata, utcnow
from sop_shared.ids import new_id
from sop_shared.platform_tables import define_platform_tables
from sop_shared.sharing import SharedRecord

metadata = service_metadata()
platform = define_platform_tables(metadata)
# Other services' records (people, safety plans and their rules) this service may be asked to refer to.
case_entities = define_case_entity_table(metadata)


class AssessmentTable(SQLModel, registry=registry(metadata=metadata)):
    pass


class StatementKind(StrEnum):
    harm = "harm"  # what happened (past)
    danger = "danger"  # what people fear will happen if nothing changes (future)


class StatementStatus(StrEnum):
    active = "active"
    resolved = "resolved"
    withdrawn = "withdrawn"


class TextSource(StrEnum):
    composed = "composed"  # the server wrote the sentence from the parts
    worker = "worker"  # the worker wrote it (with the family, in their words)


def _created() -> datetime:
    return utcnow()


def _json_list() -> Any:
    return Column(JSON, nullable=False)


class Statement(AssessmentTable, SharedRecord, table=True):
    """A harm or danger statement of one case. The case lives in the network service: no foreign key. A draft
    until marked ready to share (`SharedRecord`)."""

    __tablename__ = "statement"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    kind: StatementKind = Field(sa_type=enum_column(StatementKind))
    status: StatementStatus = Field(default=StatementStatus.active, sa_type=enum_column(StatementStatus))
    language: str = Field(default="en", max_length=35)
    text_source: TextSource = Field(sa_type=enum_column(TextSource))
    composed_text: str = Field(sa_column=Column(Text, nullable=False))
    # danger statement parts
    who_is_worried: str | None = Field(default=None, max_length=1000)
    caregiver_behaviour: str | None = Field(default=None, max_length=1000)
    context_trigger: str | None = Field(default=None, max_length=1000)
    feared_impact_on_child: str | None = Field(default=None, max_length=1000)
    # harm statement parts
    who_reported: str | None = Field(default=None, max_length=1000)
    caregivers: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json_list())
    action_or_inaction: str | None = Field(default=None, max_length=1000)
    when_or_how_often: str | None = Field(default=None, max_length=1000)
    impact_on_child: str | None = Field(default=None, max_length=1000)
    # both kinds
    children: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json_list())
    threat_codes: list[str] = Field(default_factory=list, sa_column=_json_list())
    agrees: list[str] = Field(default_factory=list, sa_column=_json_list())
    disputes: list[str] = Field(default_factory=list, sa_column=_json_list())
    # sensitivity: labels of `sop_shared.policy.SensitivityLabel` the content carries, and the audiences with a
    # recorded consent to see it (e.g. a 42 CFR Part 2 consent naming the court)
    sensitivity_labels: list[str] = Field(default_factory=list, sa_column=_json_list())
    consented_audiences: list[str] = Field(default_factory=list, sa_column=_json_list())
    created_by: str = Field(max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class StatementRevision(AssessmentTable, table=True):
    """A correction of a statement's words: the words it had before (`earlier_words`: its parts, children,
    caregivers, composed text and text source), the version they were read at, the version the correction
    made, why and by whom. Never updated, never deleted."""

    __tablename__ = "statement_revision"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    statement_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("statement.id"), nullable=False, index=True))
    case_id: uuid.UUID = Field(index=True)
    from_version: int
    to_version: int
    earlier_words: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    change_reason: str = Field(max_length=1000)
    corrected_by: str = Field(max_length=200)
    corrected_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
