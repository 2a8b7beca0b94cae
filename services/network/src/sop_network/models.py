"""Tables of the network service: cases, persons, case members, staff assignments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from sop_shared.db import UTCDateTime, enum_column, service_metadata, utcnow
from sop_shared.ids import new_id
from sop_shared.platform_tables import define_platform_tables

metadata = service_metadata()
platform = define_platform_tables(metadata)


class NetworkTable(SQLModel, registry=registry(metadata=metadata)):
    pass


class CaseType(StrEnum):
    investigation = "investigation"
    in_home = "in_home"
    out_of_home = "out_of_home"
    supportive_services = "supportive_services"
    differential_response = "differential_response"


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"


class MemberRole(StrEnum):
    child = "child"
    caregiver = "caregiver"
    parent = "parent"
    network = "network"
    professional = "professional"


class AssignmentRole(StrEnum):
    worker = "worker"
    supervisor = "supervisor"


def _created() -> datetime:
    return utcnow()


class Case(NetworkTable, table=True):
    __tablename__ = "case"
    __table_args__ = (UniqueConstraint("external_system", "external_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    external_system: str = Field(max_length=50)
    external_id: str = Field(max_length=100)
    county: str | None = Field(default=None, max_length=100, index=True)
    case_type: CaseType = Field(sa_type=enum_column(CaseType))
    status: CaseStatus = Field(default=CaseStatus.open, index=True, sa_type=enum_column(CaseStatus))
    opened_on: date | None = None
    closed_on: date | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False, index=True))


class Person(NetworkTable, table=True):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("external_system", "external_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    external_system: str | None = Field(default=None, max_length=50)
    external_id: str | None = Field(default=None, max_length=100)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    date_of_birth: date | None = None
    preferred_language: str = Field(default="en", max_length=35)
    needs_interpreter: bool = False
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class CaseMember(NetworkTable, table=True):
    __tablename__ = "case_member"
    __table_args__ = (UniqueConstraint("case_id", "person_id", "role"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    role: MemberRole = Field(sa_type=enum_column(MemberRole))
    relationship_to_children: str | None = Field(default=None, max_length=200)
    active: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class StaffAssignment(NetworkTable, table=True):
    __tablename__ = "staff_assignment"
    __table_args__ = (UniqueConstraint("case_id", "staff_subject", "role"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    staff_subject: str = Field(max_length=200, index=True)
    role: AssignmentRole = Field(sa_type=enum_column(AssignmentRole))
    active: bool = True
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
