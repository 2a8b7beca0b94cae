"""Tables of the network service: cases, persons, case members, staff assignments, partner grants, the
safety network (members, their revisions, meetings), person merges and the change log."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from sop_shared.case_refs import define_case_entity_table
from sop_shared.db import UTCDateTime, enum_column, service_metadata, utcnow
from sop_shared.ids import new_id
from sop_shared.platform_tables import define_platform_tables
from sop_shared.sharing import SharedRecord
from sop_shared.translations import TranslationRecord

metadata = service_metadata()
platform = define_platform_tables(metadata)
# The other services' records a network request may name (the statements a family opens to their network).
case_entities = define_case_entity_table(metadata)


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
    __table_args__ = (
        UniqueConstraint("external_system", "external_id"),
        Index("ix_case_external_id_system", "external_id", "external_system"),  # batch lookups, see Person
        # The caseload filters, each ending in id so keyset paging stays an index range scan.
        Index("ix_case_status_id", "status", "id"),
        Index("ix_case_county_status_id", "county", "status", "id"),
    )

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
    __table_args__ = (
        UniqueConstraint("external_system", "external_id"),
        # Batch lookups are `external_id IN (...)`: with the id leading, the plan is an index probe per id
        # whatever the table statistics say (before the first ANALYZE, the planner scanned every row).
        Index("ix_person_external_id_system", "external_id", "external_system"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    external_system: str | None = Field(default=None, max_length=50)
    external_id: str | None = Field(default=None, max_length=100)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    date_of_birth: date | None = None
    preferred_language: str = Field(default="en", max_length=35)
    needs_interpreter: bool = False
    # The identity a family or network member logs in with; the access decision matches on it.
    principal_subject: str | None = Field(default=None, max_length=200, index=True)
    # Set while this record is merged into another (the survivor); cleared when the merge is reversed.
    merged_into_id: uuid.UUID | None = Field(default=None, foreign_key="person.id", index=True)
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
    __table_args__ = (
        UniqueConstraint("case_id", "staff_subject", "role"),
        Index("ix_staff_assignment_subject_case", "staff_subject", "case_id"),  # caseload by worker
        Index("ix_staff_assignment_unit_case", "unit", "case_id"),  # caseload by unit (supervisors)
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    staff_subject: str = Field(max_length=200, index=True)
    role: AssignmentRole = Field(sa_type=enum_column(AssignmentRole))
    unit: str | None = Field(default=None, max_length=100)
    area: str | None = Field(default=None, max_length=100)
    active: bool = True
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class ContactKind(StrEnum):
    phone = "phone"
    email = "email"
    address = "address"


class ContactMethod(NetworkTable, table=True):
    """How to reach a person. A `dv_confidential` address is shown only to audiences the policy allows."""

    __tablename__ = "contact_method"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    kind: ContactKind = Field(sa_type=enum_column(ContactKind))
    value: str = Field(max_length=500)
    dv_confidential: bool = False
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class PartnerGrant(NetworkTable, table=True):
    """A partner agency's access to one case: scopes, audience, purpose, consent; expires; revocable."""

    __tablename__ = "partner_grant"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    agency: str = Field(max_length=100)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    audience: str = Field(max_length=20)
    purpose: str = Field(max_length=200)
    consent_reference: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_by: str | None = Field(default=None, max_length=200)
    revocation_reason: str | None = Field(default=None, max_length=500)
    granted_by: str = Field(max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class NetworkCircle(StrEnum):
    inner = "inner"  # family and close friends who act day to day
    outer = "outer"  # people who help regularly but less often
    professional = "professional"


class BackgroundCheck(StrEnum):
    not_started = "not_started"
    pending = "pending"
    cleared = "cleared"
    not_cleared = "not_cleared"


class NetworkMember(NetworkTable, table=True):
    """A member of the family's safety network. Every change is a new revision; nothing is overwritten."""

    __tablename__ = "network_member"
    __table_args__ = (UniqueConstraint("case_id", "person_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    circle: NetworkCircle = Field(sa_type=enum_column(NetworkCircle))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What the member commits to is kept in `network_commitment` (the worker's record and the member's own alike).
    availability: str | None = Field(default=None, max_length=500)
    background_check: BackgroundCheck = Field(default=BackgroundCheck.not_started, sa_type=enum_column(BackgroundCheck))
    background_checked_on: date | None = None
    agreed_plan_version: int | None = None
    active_from: date | None = None
    active_to: date | None = None
    seen_danger_statements_on: date | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class NetworkMemberRevision(NetworkTable, table=True):
    """The network member as it was at each version, with who changed it and when."""

    __tablename__ = "network_member_revision"
    __table_args__ = (UniqueConstraint("member_id", "version"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    member_id: uuid.UUID = Field(foreign_key="network_member.id", index=True)
    version: int
    snapshot: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    changed_by: str = Field(max_length=200)
    changed_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class CommitmentStatus(StrEnum):
    proposed = "proposed"  # the network member's own words, waiting for the worker
    confirmed = "confirmed"  # the worker confirmed it: it may enter a plan, and is shared
    declined = "declined"  # the worker declined it, with the reason
    withdrawn = "withdrawn"  # it no longer holds (the worker said why): kept for the record, no longer shared


class CommitmentOrigin(StrEnum):
    member = "member"  # the network member proposed it, in their own words
    worker = "worker"  # the worker recorded it with the member (confirmed by that worker in the same act)


class NetworkCommitment(NetworkTable, SharedRecord, table=True):
    """What a safety-network member says they will do to keep the children safe. A member's own (`origin`
    member, in their own words) is a proposal until the worker confirms it (or declines it, with a reason); one
    the worker records with the member (`origin` worker) is confirmed by that worker in the same act. Only a
    confirmed commitment is shared and can enter a plan (docs/members.md). The words are kept as written;
    nothing is overwritten."""

    __tablename__ = "network_commitment"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    member_id: uuid.UUID = Field(foreign_key="network_member.id", index=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)  # who committed (the member's person)
    text: str = Field(sa_type=Text)
    schedule: str | None = Field(default=None, max_length=200)
    language: str = Field(max_length=35)
    status: CommitmentStatus = Field(default=CommitmentStatus.proposed, sa_type=enum_column(CommitmentStatus))
    origin: CommitmentOrigin = Field(default=CommitmentOrigin.member, sa_type=enum_column(CommitmentOrigin))
    proposed_by: str = Field(max_length=200)  # the login that proposed it
    proposed_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decline_reason: str | None = Field(default=None, max_length=1000)  # the worker's words, said to the member
    decline_reason_language: str | None = Field(default=None, max_length=35)  # None: the agency's
    withdrawn_by: str | None = Field(default=None, max_length=200)
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    withdraw_reason: str | None = Field(default=None, max_length=1000)  # the agency's note
    version: int = 1


class NetworkSharingChoice(NetworkTable, table=True):
    """What the family chose their safety network sees beyond the default on one case (`sop_shared.policy`
    `NetworkSharing`): whole sections and single statements. One row per case, a new version at each decision;
    who decided (a family member as themselves, or the worker recording the family's decision) is kept."""

    __tablename__ = "network_sharing"

    case_id: uuid.UUID = Field(foreign_key="case.id", primary_key=True)
    sections: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    statement_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    decided_by: str = Field(max_length=200)  # the login that recorded it
    decided_by_person_id: uuid.UUID | None = Field(default=None, foreign_key="person.id")  # a family member's own
    decided_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class Translation(NetworkTable, TranslationRecord, table=True):
    """A person's translation of a network commitment's words, as they read then (`sop_shared.translations`)."""

    __tablename__ = "translation"


class NetworkMeeting(NetworkTable, table=True):
    __tablename__ = "network_meeting"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    held_on: date
    attendee_member_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    decisions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    next_meeting_on: date | None = None
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class PersonAlias(NetworkTable, table=True):
    """The external-id crosswalk beyond a person's own id: ids of merged records point at the survivor."""

    __tablename__ = "person_alias"
    __table_args__ = (UniqueConstraint("external_system", "external_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    external_system: str = Field(max_length=50)
    external_id: str = Field(max_length=100)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    merge_id: uuid.UUID | None = Field(default=None, foreign_key="person_merge.id", index=True)


class PersonMerge(NetworkTable, table=True):
    """A merge of `merged_id` into `survivor_id`, with exactly what moved, so it can be reversed."""

    __tablename__ = "person_merge"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    survivor_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    merged_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    moved: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    merged_by: str = Field(max_length=200)
    merged_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    reversed_by: str | None = Field(default=None, max_length=200)
    reversed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ChangeCounter(NetworkTable, table=True):
    """One row: the last change sequence handed out. Writers advance it with UPDATE ... RETURNING, which
    holds its row lock until commit, so sequences become visible in order (see docs/network.md)."""

    __tablename__ = "change_counter"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(default=0, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), nullable=False))


class ChangeLog(NetworkTable, table=True):
    """Every change, in commit order, for the pull feed (`GET /v1/changes`); the same event as the outbox."""

    __tablename__ = "change_log"

    seq: int = Field(
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    )
    event_id: uuid.UUID = Field(unique=True)
    subject: str = Field(max_length=200)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    payload: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class LoginInvitation(NetworkTable, table=True):
    """A one-time invitation for a person of a case to bind their own member-portal login to their record.

    The worker never names the login: the person redeems the code signed in as themselves, so nobody can
    bind another person's record to a login of their choosing. Only a hash of the code is stored."""

    __tablename__ = "login_invitation"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    redeemed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    redeemed_by: str | None = Field(default=None, max_length=200)


class CaseReport(NetworkTable, table=True):
    """A report (referral) about the case's children, from SACWIS: when it came in, whether it was screened in,
    its disposition. A report SACWIS no longer lists is kept, inactive (like a case member)."""

    __tablename__ = "case_report"
    __table_args__ = (UniqueConstraint("case_id", "external_id"), Index("ix_case_report_received", "received_on"))

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    external_id: str = Field(max_length=100)
    received_on: date
    screened_in: bool = True
    investigation_started_on: date | None = None
    disposition: str | None = Field(default=None, max_length=40)
    disposition_on: date | None = None
    children: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # SACWIS person ids
    active: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))


class CaseRemoval(NetworkTable, table=True):
    """A child's removal into foster care and its discharge, from SACWIS. Kept as sent (a contradiction is for the
    extract's data-quality report); one SACWIS no longer lists is kept, inactive."""

    __tablename__ = "case_removal"
    __table_args__ = (UniqueConstraint("case_id", "external_id"), Index("ix_case_removal_removed", "removed_on"))

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    external_id: str = Field(max_length=100)
    child: str = Field(max_length=100)  # the child's SACWIS person id, as sent
    person_id: uuid.UUID | None = Field(default=None, foreign_key="person.id", index=True)  # that child, linked
    removed_on: date
    discharged_on: date | None = None
    discharge_reason: str | None = Field(default=None, max_length=40)
    active: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime, nullable=False))
