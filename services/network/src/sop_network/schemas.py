"""What the network API promises: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sop_network.models import AssignmentRole, CaseStatus, CaseType, MemberRole

BCP47 = r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonIn(Strict):
    external_id: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date | None = None
    preferred_language: str = Field(default="en", pattern=BCP47)
    needs_interpreter: bool = False

    @field_validator("date_of_birth")
    @classmethod
    def _not_in_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError("date of birth cannot be in the future")
        return value


class CaseMemberIn(Strict):
    role: MemberRole
    relationship_to_children: str | None = Field(default=None, max_length=200)
    person: PersonIn


class AssignmentIn(Strict):
    staff_subject: str = Field(min_length=1, max_length=200)
    role: AssignmentRole


class CaseUpsert(Strict):
    """A case as SACWIS (CHRIS) sends it: the case, everyone in it, and the staff assigned."""

    case_type: CaseType
    status: CaseStatus = CaseStatus.open
    county: str | None = Field(default=None, max_length=100)
    opened_on: date | None = None
    closed_on: date | None = None
    members: list[CaseMemberIn] = Field(default_factory=list, max_length=200)
    assignments: list[AssignmentIn] = Field(default_factory=list, max_length=50)


class PersonOut(BaseModel):
    id: uuid.UUID
    external_system: str | None
    external_id: str | None
    first_name: str
    last_name: str
    date_of_birth: date | None
    preferred_language: str
    needs_interpreter: bool
    version: int


class CaseMemberOut(BaseModel):
    id: uuid.UUID
    role: MemberRole
    relationship_to_children: str | None
    active: bool
    person: PersonOut


class AssignmentOut(BaseModel):
    staff_subject: str
    role: AssignmentRole
    active: bool


class CaseOut(BaseModel):
    id: uuid.UUID
    external_system: str
    external_id: str
    case_type: CaseType
    status: CaseStatus
    county: str | None
    opened_on: date | None
    closed_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    members: list[CaseMemberOut]
    assignments: list[AssignmentOut]


class AccessOut(BaseModel):
    case_id: uuid.UUID
    subject: str
    allowed: bool
    relationships: list[str]
    scopes: list[str]


class CaseViewSlice(BaseModel):
    """The network's part of the gateway's case view in one call: the caller's access, then the case."""

    access: AccessOut
    case: CaseOut | None
