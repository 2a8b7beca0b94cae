"""What the network API promises: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sop_network.models import (
    AssignmentRole,
    BackgroundCheck,
    CaseStatus,
    CaseType,
    CommitmentOrigin,
    CommitmentStatus,
    ContactKind,
    MemberRole,
    NetworkCircle,
)
from sop_shared.case_refs import NetworkMemberRef, NotCaseScoped, PersonRef, StatementRef
from sop_shared.input_models import Strict as Strict  # re-exported: the service's bodies import it from here
from sop_shared.language_tags import LanguageTag
from sop_shared.plain_language import LanguageCheck
from sop_shared.policy import Audience, Section
from sop_shared.sharing import SharingOut
from sop_shared.translations import CarriedTranslation

# Ids not held to one case, and why: SACWIS keeps person records across cases (cases:sync only); a bulk read
# names the cases it reads, each checked against the token's allowed cases (`require_cases_read`).
SyncedPerson = Annotated[uuid.UUID, NotCaseScoped("a person record across cases, for SACWIS (cases:sync)")]
BulkReadCases = Annotated[uuid.UUID, NotCaseScoped("cases a bulk read names, each checked against the token")]


class ContactMethodIn(Strict):
    kind: ContactKind
    value: str = Field(min_length=1, max_length=500)
    dv_confidential: bool = False


def born_by_today(value: date | None) -> date | None:
    if value is not None and value > date.today():
        raise ValueError("date of birth cannot be in the future")
    return value


class PersonFields(Strict):
    """A person's own fields, as SACWIS or a worker records them."""

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date | None = None
    preferred_language: LanguageTag = "en"
    needs_interpreter: bool = False
    # None: SACWIS says nothing about contact methods (keep what is stored); a list replaces them.
    contact_methods: list[ContactMethodIn] | None = Field(default=None, max_length=20)

    @field_validator("date_of_birth")
    @classmethod
    def _not_in_future(cls, value: date | None) -> date | None:
        return born_by_today(value)


class PersonIn(PersonFields):
    external_id: str = Field(min_length=1, max_length=100)


class PersonPatch(Strict):
    """A platform-kept person's fields: only those given change (`date_of_birth` may be null; a
    `contact_methods` list replaces the stored ones)."""

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: date | None = None
    preferred_language: LanguageTag | None = None
    needs_interpreter: bool | None = None
    contact_methods: list[ContactMethodIn] | None = Field(default=None, max_length=20)

    @field_validator("date_of_birth")
    @classmethod
    def _not_in_future(cls, value: date | None) -> date | None:
        return born_by_today(value)


class CaseMemberIn(Strict):
    role: MemberRole
    relationship_to_children: str | None = Field(default=None, max_length=200)
    person: PersonIn


class CaseMemberAdd(Strict):
    """Someone a worker records in a case the platform keeps (opened with `POST /v1/cases`): a child, a
    caregiver, a parent or another member of the household (`relationship_to_children` says how they are
    related: "mother's partner", "uncle, lives in the home"). The person is new to the platform, kept by it."""

    role: MemberRole
    relationship_to_children: str | None = Field(default=None, max_length=200)
    person: PersonFields


class AssignmentIn(Strict):
    staff_subject: str = Field(min_length=1, max_length=200)
    role: AssignmentRole
    unit: str | None = Field(default=None, max_length=100)
    area: str | None = Field(default=None, max_length=100)


class ReportDisposition(StrEnum):
    """An investigation's finding, in Arkansas's words (DOMAIN.md), or a report taken to differential response."""

    true = "true"
    true_but_exempted = "true_but_exempted"  # true, but exempted from the Child Maltreatment Central Registry
    unsubstantiated = "unsubstantiated"
    inactive = "inactive"  # the investigation could not be completed (e.g. the family could not be found)
    differential_response = "differential_response"  # no finding: the family was served by differential response


class ReportIn(Strict):
    """A report (referral) to the hotline about this case's children, as SACWIS records it. Optional in a batch:
    a case record without `reports` leaves the stored ones as they are (docs/integration.md)."""

    external_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    received_on: date
    screened_in: bool = True
    investigation_started_on: date | None = None
    disposition: ReportDisposition | None = None
    disposition_on: date | None = None
    # the children the report is about, by their SACWIS person ids; none named: every child of the case
    children: list[str] = Field(default_factory=list, max_length=50)


class DischargeReason(StrEnum):
    """Why a child left foster care (the AFCARS reasons for discharge)."""

    reunification = "reunification"  # reunified with parents or the primary caretakers
    living_with_relatives = "living_with_relatives"
    adoption = "adoption"
    emancipation = "emancipation"
    guardianship = "guardianship"
    transfer_to_another_agency = "transfer_to_another_agency"
    runaway = "runaway"
    death_of_child = "death_of_child"


class RemovalIn(Strict):
    """A child's removal from home into foster care and, when it ended, the discharge. Optional in a batch, like
    `reports`. Dates are taken as SACWIS holds them: one that contradicts another (a discharge before the
    removal) is kept and named by the federal extract's data-quality report, never silently corrected."""

    external_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    child: str = Field(min_length=1, max_length=100, description="the child's SACWIS person id, a child of the case")
    removed_on: date
    discharged_on: date | None = None
    discharge_reason: DischargeReason | None = None


class CaseUpsert(Strict):
    """A case as SACWIS (CHRIS) sends it: the case, everyone in it, and the staff assigned; optionally its reports
    and its children's removals (None: SACWIS says nothing of them, keep what is stored; a list replaces them)."""

    case_type: CaseType
    status: CaseStatus = CaseStatus.open
    county: str | None = Field(default=None, max_length=100)
    opened_on: date | None = None
    closed_on: date | None = None
    members: list[CaseMemberIn] = Field(default_factory=list, max_length=200)
    assignments: list[AssignmentIn] = Field(default_factory=list, max_length=50)
    reports: list[ReportIn] | None = Field(default=None, max_length=500)
    removals: list[RemovalIn] | None = Field(default=None, max_length=500)


class CaseCreate(Strict):
    """A case opened on the platform, outside SACWIS: the caller becomes its worker."""

    case_type: CaseType
    status: CaseStatus = CaseStatus.open
    county: str | None = Field(default=None, max_length=100)
    opened_on: date | None = None
    closed_on: date | None = None


class CasePatch(Strict):
    """A platform-kept case's own fields: only those given change (`county` and the dates may be null)."""

    case_type: CaseType | None = None
    status: CaseStatus | None = None
    county: str | None = Field(default=None, max_length=100)
    opened_on: date | None = None
    closed_on: date | None = None


class ContactMethodOut(BaseModel):
    kind: ContactKind
    value: str
    dv_confidential: bool


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
    principal_subject: str | None = None
    merged_into_id: uuid.UUID | None = None
    # Only what the caller's audience may see: DV-confidential addresses are left out for others.
    contact_methods: list[ContactMethodOut] = Field(default_factory=list)


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
    unit: str | None = None
    area: str | None = None


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


class NetworkSharingIn(Strict):
    """What the family chooses their safety network sees beyond the default (the danger statements, the safety
    goal and the rules the member helps with): the whole of some sections, and single statements. The choice
    replaces the one before; the version read goes in `If-Match` (`"0"` before the first choice), as for every
    write."""

    sections: list[Section] = Field(default_factory=list, max_length=len(Section))
    statement_ids: list[StatementRef] = Field(
        default_factory=list, max_length=50, description="Statements (harm statements) opened one by one"
    )


class NetworkSeesOut(BaseModel):
    sections: list[Section]
    statement_ids: list[uuid.UUID]


class NetworkSharingOut(BaseModel):
    case_id: uuid.UUID
    sections: list[Section] = Field(description="Sections the family opened to their network")
    statement_ids: list[uuid.UUID]
    hidden_by_default: list[Section] = Field(
        description="What the network does not see unless the family opens it (the agency's supervision records are "
        "never the network's, and not listed)"
    )
    decided_by_person_id: uuid.UUID | None = Field(
        description="The family member who chose, as themselves (null: the worker recorded the family's decision)"
    )
    decided_at: datetime | None
    version: int = Field(description="0: the family has not chosen yet (the default holds)")


class AccessOut(BaseModel):
    case_id: uuid.UUID
    subject: str
    allowed: bool
    relationships: list[str]
    scopes: list[str]
    audiences: list[str] = Field(default_factory=list)
    person_id: uuid.UUID | None = Field(
        default=None, description="A family or network member: the person on this case their login is bound to"
    )
    language: str | None = Field(default=None, description="A family or network member: their preferred language")
    network_sees: NetworkSeesOut | None = Field(
        default=None,
        description="What the family chose their network sees on this case beyond the default (allowed callers)",
    )


class NetworkPersonIn(Strict):
    """A new person for the network (not known to SACWIS), or `person_id` of one already known."""

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date | None = None
    preferred_language: LanguageTag = "en"
    needs_interpreter: bool = False
    # No login here: a member binds their own login by redeeming an invitation (see persons/api.py).


class NetworkMemberFields(Strict):
    circle: NetworkCircle
    roles: list[str] = Field(default_factory=list, max_length=20)
    availability: str | None = Field(default=None, max_length=500)
    background_check: BackgroundCheck = BackgroundCheck.not_started
    background_checked_on: date | None = None
    agreed_plan_version: int | None = Field(default=None, ge=1)
    active_from: date | None = None
    active_to: date | None = None
    seen_danger_statements_on: date | None = None


class NetworkMemberCreate(NetworkMemberFields):
    person_id: PersonRef | None = None
    person: NetworkPersonIn | None = None


class NetworkMemberUpdate(NetworkMemberFields):
    """The whole member as it should now be (a new revision; the old one stays in the history)."""


class NetworkMemberOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    person: PersonOut
    circle: NetworkCircle
    roles: list[str]
    availability: str | None
    background_check: BackgroundCheck
    background_checked_on: date | None
    agreed_plan_version: int | None
    active_from: date | None
    active_to: date | None
    seen_danger_statements_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    commitments: list[NetworkCommitmentOut] = Field(
        default_factory=list,
        description="The member's commitments (`network_commitment`, oldest first), as the reader may read them: the "
        "ones the worker recorded with the member and the member's own; the agency reads every one, the member their "
        "own proposals too, everyone else the confirmed, shared ones. The worker records one with "
        "`POST …/members/{id}/commitments`",
    )


class NetworkMemberRevisionOut(BaseModel):
    version: int
    snapshot: dict[str, object]
    changed_by: str
    changed_at: datetime


class NetworkMeetingIn(Strict):
    held_on: date
    attendee_member_ids: list[NetworkMemberRef] = Field(default_factory=list, max_length=100)
    decisions: list[str] = Field(default_factory=list, max_length=100)
    next_meeting_on: date | None = None


class NetworkMeetingOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    held_on: date
    attendee_member_ids: list[uuid.UUID]
    decisions: list[str]
    next_meeting_on: date | None
    recorded_by: str
    created_at: datetime


class MemberCommitmentIn(Strict):
    """A network member's own commitment, in their own words (kept as written): never who they are (that is the
    token's person)."""

    text: str = Field(min_length=1, max_length=1000, description="What they will do to keep the children safe")
    schedule: str | None = Field(default=None, min_length=1, max_length=200, description="When / how often")
    language: LanguageTag | None = Field(
        default=None, description="The language the words are in; defaults to the member's preferred language"
    )


class WorkerCommitmentIn(Strict):
    """A commitment the worker records with a network member (what the member agreed to, in the worker's words):
    confirmed by the worker in the same act, so it is shared at once — the plain-language check's findings need
    `share_reason`."""

    text: str = Field(min_length=1, max_length=1000, description="What the member will do to keep the children safe")
    schedule: str | None = Field(default=None, min_length=1, max_length=200, description="When / how often")
    language: LanguageTag | None = Field(
        default=None, description="The language the words are in; defaults to the agency's language"
    )
    share_reason: str | None = Field(
        default=None,
        min_length=3,
        max_length=1000,
        description="Why the words are shared as they are although the plain-language check has findings",
    )


class CommitmentDecisionIn(Strict):
    """The worker confirms a proposed commitment (it may then enter a plan, and the family and network read it)
    or declines it with the reason, said to the member."""

    decision: Literal["confirmed", "declined"]
    reason: str | None = Field(
        default=None,
        min_length=3,
        max_length=1000,
        description="Why it is declined (required to decline): the member reads it (plain-language checked, and "
        "translated like the commitment's words)",
    )
    reason_language: LanguageTag | None = Field(
        default=None, description="The language `reason` is written in; defaults to the agency's language"
    )
    share_reason: str | None = Field(
        default=None,
        min_length=3,
        max_length=1000,
        description="Why the words the member or family read (the commitment's when confirming, the reason when "
        "declining) are shared as they are although the plain-language check has findings",
    )


class CommitmentWithdrawalIn(Strict):
    """The worker withdraws a commitment that no longer holds (kept for the record, no longer shared)."""

    reason: str = Field(min_length=3, max_length=1000, description="Why it no longer holds (the agency's note)")


class NetworkCommitmentOut(SharingOut):
    id: uuid.UUID
    case_id: uuid.UUID
    member_id: uuid.UUID
    person_id: uuid.UUID = Field(description="The network member's person who committed")
    text: str = Field(description="The member's own words, as written")
    schedule: str | None
    language: str
    status: CommitmentStatus
    origin: CommitmentOrigin = Field(
        description="`member`: the member's own words, proposed; `worker`: recorded by the worker with the member"
    )
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decline_reason: str | None = Field(
        description="Why the worker declined it (`translations` carry it as `source_field` decline_reason)"
    )
    decline_reason_language: str | None = Field(
        default=None, description="The language `decline_reason` is written in (null: none given)"
    )
    withdrawn_at: datetime | None = None
    withdraw_reason: str | None = Field(default=None, description="Why it was withdrawn (the agency's only)")
    version: int
    plain_language: LanguageCheck | None = Field(
        default=None, description="The plain-language check of the words (the agency's; warnings only)"
    )
    decline_reason_plain_language: LanguageCheck | None = Field(
        default=None, description="The plain-language check of the decline reason (the agency's)"
    )
    translations: list[CarriedTranslation] = Field(
        default_factory=list, description="People's current translations of the words (the reader's side picks)"
    )


class SafetyNetworkOut(BaseModel):
    members: list[NetworkMemberOut]
    meetings: list[NetworkMeetingOut]
    commitments: list[NetworkCommitmentOut] = Field(
        default_factory=list,
        description="Every member's commitments (the worker's record and the members' own): the agency reads every "
        "one; others the confirmed, shared ones (and a member their own proposals)",
    )


class CaseViewSlice(BaseModel):
    """The network's part of the gateway's case view in one call: the caller's access, then the case and
    its safety network."""

    access: AccessOut
    case: CaseOut | None
    safety_network: SafetyNetworkOut | None = None


class GrantIn(Strict):
    """A partner agency's access to this case, for a purpose, until a time, on recorded consent."""

    agency: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=10)
    audience: Audience = Field(default=Audience.partner, description="partner or court")
    purpose: str = Field(min_length=1, max_length=200)
    consent_reference: str | None = Field(default=None, min_length=1, max_length=200)
    expires_at: datetime


class GrantRevoke(Strict):
    reason: str = Field(min_length=1, max_length=500)


class GrantStatus(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


class GrantOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    agency: str
    scopes: list[str]
    audience: Audience
    purpose: str
    consent_reference: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_reason: str | None
    granted_by: str
    status: GrantStatus = Field(description="At the service's clock")
    version: int
    created_at: datetime


class CaseSummary(BaseModel):
    id: uuid.UUID
    external_system: str
    external_id: str
    case_type: CaseType
    status: CaseStatus
    county: str | None
    opened_on: date | None
    closed_on: date | None
    version: int
    updated_at: datetime


class CaseViewsIn(Strict):
    case_ids: list[BulkReadCases] = Field(min_length=1, max_length=50)


class CaseViewsOut(BaseModel):
    """One caseload page's cases in one call: each with the caller's access and, when allowed, the case
    and its safety network (in request order; a denied or missing case has `case: null`)."""

    items: list[CaseViewSlice]


class CaseAccessManyOut(BaseModel):
    """The caller's access to each case of a caseload page, in request order (a missing case is denied,
    exactly like one the caller may not see): the decisions alone, no case data."""

    items: list[AccessOut]


class SacwisRecord(BaseModel):
    """One record of a batch. Only `kind` and `external_id` are read before the record's own validation,
    so one malformed record is reported on its own and never fails the batch."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["case", "person"]
    external_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    data: dict[str, Any]


class SacwisBatchIn(Strict):
    system: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
    records: list[SacwisRecord] = Field(min_length=1, max_length=2000)


class RecordResult(BaseModel):
    index: int
    kind: str
    external_id: str
    status: Literal["created", "updated", "unchanged", "invalid", "conflict", "failed"]
    id: uuid.UUID | None = None
    errors: list[dict[str, str]] = Field(default_factory=list)


class SacwisBatchOut(BaseModel):
    counts: dict[str, int]
    results: list[RecordResult]


class ChangeOut(BaseModel):
    seq: int
    event_id: uuid.UUID
    subject: str
    case_id: uuid.UUID | None
    occurred_at: datetime
    data: dict[str, Any]


class ChangesPage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str  # always given: pass it back next time, even when this page was empty


class DuplicateOut(BaseModel):
    person: PersonOut
    score: float


class PersonMergeIn(Strict):
    survivor_id: SyncedPerson
    merged_id: SyncedPerson


class PersonMergeOut(BaseModel):
    id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    moved: dict[str, Any]
    merged_by: str
    merged_at: datetime
    reversed_by: str | None
    reversed_at: datetime | None


class CrosswalkIn(Strict):
    person_id: SyncedPerson


class CrosswalkOut(BaseModel):
    external_system: str
    external_id: str
    record_id: uuid.UUID | None  # the record holding this id as its own, if any
    person_id: uuid.UUID  # the live person it stands for now (the survivor of any merge)


class PrincipalIn(Strict):
    """Only `null` is accepted: ending a login. A login is bound by the person redeeming an invitation."""

    principal_subject: str | None = Field(default=None, description="null: end this person's login")

    @field_validator("principal_subject")
    @classmethod
    def _only_ending(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError(
                "only null (ending the login) is accepted here: a login is bound by the person "
                "redeeming an invitation (POST /v1/cases/{case_id}/people/{person_id}/login-invitations)"
            )
        return None


class LoginInvitationIn(Strict):
    valid_for_days: int = Field(default=7, ge=1, le=30)


class LoginInvitationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    person_id: uuid.UUID
    expires_at: datetime
    code: str | None = Field(default=None, description="shown once, when the invitation is made")


class LoginInvitationRedeemIn(Strict):
    code: str = Field(min_length=16, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")


class LoginRedeemedOut(BaseModel):
    case_id: uuid.UUID
    person_id: uuid.UUID
