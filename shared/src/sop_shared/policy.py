"""The one policy table: who may do what on a case, and who may see which sensitive labels.

Deny by default. Services, the gateway and the network service's access decision all read from here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ActorType(StrEnum):
    staff = "staff"
    partner = "partner"
    integration = "integration"
    family = "family"
    network = "network"


class Audience(StrEnum):
    staff = "staff"
    supervisor = "supervisor"
    family = "family"
    network = "network"
    partner = "partner"
    court = "court"


class SensitivityLabel(StrEnum):
    reporter_identity = "reporter_identity"
    substance_use_part2 = "substance_use_part2"
    dv_confidential_address = "dv_confidential_address"
    child_voice = "child_voice"
    education_record = "education_record"
    sdm_detail = "sdm_detail"  # SDM item scores, override reasons, worker notes: internal to the agency and court
    trauma_history = "trauma_history"  # a person's trauma history and known triggers: restricted like Part 2


class Scope(StrEnum):
    case_read = "case:read"
    case_write = "case:write"
    cases_sync = "cases:sync"
    approvals_decide = "approvals:decide"
    approvals_request = "approvals:request"  # services putting items on the supervisor's approval queue
    audit_read = "audit:read"
    training_sync = "training:sync"  # the state's learning system or SACWIS loading training rosters in batch
    # A family or network member acting as themselves on their own case (sign, rate, check in, respond,
    # propose a commitment): never a staff scope, and always bound to the person id the access decision names.
    case_participate = "case:participate"


class StaffRole(StrEnum):
    worker = "worker"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"
    # MidSOUTH and the practice side of SOP (issue 15): people who train and coach, not case staff.
    coach = "coach"
    trainer = "trainer"
    training_coordinator = "training_coordinator"
    practice_lead = "practice_lead"


# What each role may do at all; whether it may do it on *this* case is decide_case_access's answer.
ROLE_SCOPES: dict[str, frozenset[Scope]] = {
    StaffRole.worker: frozenset({Scope.case_read, Scope.case_write}),
    StaffRole.supervisor: frozenset({Scope.case_read, Scope.case_write, Scope.approvals_decide, Scope.audit_read}),
    StaffRole.auditor: frozenset({Scope.case_read, Scope.audit_read}),
    StaffRole.admin: frozenset(),
    # No case scope at all: a coach, trainer, coordinator or practice lead reads no case through the case access
    # decision, even if someone assigned them to one. What a coach sees of a case is only what a worker brings
    # to coaching (COACH_CASE_VIEW below), in the practice service.
    StaffRole.coach: frozenset(),
    StaffRole.trainer: frozenset(),
    StaffRole.training_coordinator: frozenset(),
    StaffRole.practice_lead: frozenset(),
}

ACTOR_SCOPE_CEILING: dict[ActorType, frozenset[Scope]] = {
    ActorType.staff: frozenset(Scope),
    ActorType.integration: frozenset({Scope.cases_sync, Scope.case_read, Scope.training_sync}),
    ActorType.partner: frozenset({Scope.case_read}),
    ActorType.family: frozenset({Scope.case_read, Scope.case_participate}),
    ActorType.network: frozenset({Scope.case_read, Scope.case_participate}),
}

# Staff roles never take part as a member: their scopes are what ROLE_SCOPES say, capped here.
MEMBER_ACTORS: frozenset[ActorType] = frozenset({ActorType.family, ActorType.network})

# Which audiences may see each sensitive label. A label absent for an audience is hidden (deny by default).
# "consent" means: only with the consent recorded for that record (e.g. the child's consent to share).
LABEL_VISIBILITY: dict[SensitivityLabel, dict[Audience, str]] = {
    SensitivityLabel.reporter_identity: {Audience.staff: "always", Audience.supervisor: "always"},
    SensitivityLabel.substance_use_part2: {
        Audience.staff: "consent",
        Audience.supervisor: "consent",
        Audience.court: "consent",
    },
    # A child's or a caregiver's trauma history and triggers (issue 14): as Part 2 data, only with a recorded consent.
    SensitivityLabel.trauma_history: {
        Audience.staff: "consent",
        Audience.supervisor: "consent",
        Audience.court: "consent",
    },
    SensitivityLabel.dv_confidential_address: {Audience.staff: "always", Audience.supervisor: "always"},
    SensitivityLabel.child_voice: {
        Audience.staff: "always",
        Audience.supervisor: "always",
        Audience.family: "consent",
        Audience.network: "consent",
        Audience.partner: "consent",
        Audience.court: "consent",
    },
    SensitivityLabel.sdm_detail: {Audience.staff: "always", Audience.supervisor: "always", Audience.court: "always"},
    SensitivityLabel.education_record: {
        Audience.staff: "always",
        Audience.supervisor: "always",
        Audience.court: "always",
        Audience.partner: "consent",
    },
}


class Ground(StrEnum):
    """What lets an audience beyond the agency see a child-voice record."""

    consent = "consent"  # the record's consent names the audience (the child's, for the child's own words)
    judged_safe = "judged_safe"  # the worker recorded their judgement that sharing with this audience is safe
    author = "author"  # the reader wrote or approved it (a caregiver, for the adults' explanation)


# Who beyond the agency (which sees every record: `LABEL_VISIBILITY[child_voice]`) sees a child-voice record, by
# its kind: every ground listed must hold (issue 14). The child's consent governs the child's own words (Three
# Houses, Safety House); sharing a child's Three Houses with the caregivers also needs the worker's recorded
# judgement that it is safe. Words and Pictures is the adults' explanation to the child: the caregivers who wrote
# or approved it see it, and the network, partners and the court when it is shared with them. A kind or audience
# absent here sees nothing (deny by default).
CHILD_VOICE_GROUNDS: dict[str, dict[Audience, frozenset[Ground]]] = {
    "three_houses": {
        Audience.family: frozenset({Ground.consent, Ground.judged_safe}),
        Audience.network: frozenset({Ground.consent}),
        Audience.partner: frozenset({Ground.consent}),
        Audience.court: frozenset({Ground.consent}),
    },
    "safety_house": {
        a: frozenset({Ground.consent}) for a in (Audience.family, Audience.network, Audience.partner, Audience.court)
    },
    "words_and_pictures": {
        Audience.family: frozenset({Ground.author}),
        Audience.network: frozenset({Ground.consent}),
        Audience.partner: frozenset({Ground.consent}),
        Audience.court: frozenset({Ground.consent}),
    },
}


def may_see_child_voice(kind: str, audience: Audience, grounds: Iterable[Ground]) -> bool:
    """Whether `audience` sees a child-voice record of `kind` that has `grounds` for this audience."""
    if may_see(SensitivityLabel.child_voice, audience):
        return True
    needed = CHILD_VOICE_GROUNDS.get(kind, {}).get(audience)
    return needed is not None and needed <= set(grounds)


class Section(StrEnum):
    """Parts of the case a shared audience may be kept from, whatever the records' own labels say."""

    sdm_levels = "sdm_levels"  # the SDM safety decision and risk level (the agency's tools, not the family's)
    every_rater = "every_rater"  # each professional's and the worker's own safety-scale score
    every_rule = "every_rule"  # the plan's rules that this reader neither carries out nor watches
    harm_statements = "harm_statements"  # what happened in the past (the danger statements are the network's)
    # The agency's supervision records: consultations (with what they discussed, as it stood then), the approval
    # queue, coaching referrals. Staff on the case and their supervisors read them; a coach sees a consultation
    # only as a worker brings it to coaching (COACH_CASE_VIEW, in the practice service); nobody else.
    supervision = "supervision"


# What the safety network sees is the family's decision; by default the network sees the danger statements,
# the safety goal and the rules they help with — not the harm statements, not SDM levels, not every rater's
# score (issue 14). An audience absent here sees the section.
SECTION_HIDDEN_FROM: dict[Section, frozenset[Audience]] = {
    Section.sdm_levels: frozenset({Audience.network}),
    Section.every_rater: frozenset({Audience.network}),
    Section.every_rule: frozenset({Audience.network}),
    Section.harm_statements: frozenset({Audience.network}),
    # Not the family's, their network's, a partner's or the court's, whatever a grant says: no grant scope names
    # supervision records, and the family may not open them (FAMILY_MAY_SHOW).
    Section.supervision: frozenset({Audience.family, Audience.network, Audience.partner, Audience.court}),
}

# Which hidden sections the family (or the worker recording the family's decision) may open, and to whom: their
# own network, every section the default keeps from it that is about the family's case — not the agency's
# supervision records. Nothing here opens a section to anyone else.
FAMILY_MAY_SHOW: dict[Section, frozenset[Audience]] = {
    section: frozenset({Audience.network}) for section in Section if section != Section.supervision
}


def family_may_open(section: Section) -> bool:
    """Whether the family may open `section` to their network (the sections their choice can name)."""
    hidden = Audience.network in SECTION_HIDDEN_FROM.get(section, frozenset())
    return hidden and Audience.network in FAMILY_MAY_SHOW.get(section, frozenset())


# The raters whose own scores an audience kept from `every_rater` still sees: the family and the network.
MEMBER_RATER_ROLES: frozenset[str] = frozenset({"caregiver", "network"})


@dataclass(frozen=True)
class NetworkSharing:
    """The family's decision of what their network sees beyond the default, on one case: whole sections, and
    single statements (a harm statement they want their network to know). Kept by the network service, carried
    by the case access decision and, from the gateway, by the internal token scoped to the case."""

    sections: frozenset[Section] = frozenset()
    statement_ids: frozenset[uuid.UUID] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.sections or self.statement_ids)


DEFAULT_SHARING = NetworkSharing()


def may_see_section(section: Section, audience: Audience, shown: NetworkSharing = DEFAULT_SHARING) -> bool:
    """Whether `audience` sees `section`: unless the table hides it from them, or when the family opened it to
    them (`shown`, the case's `NetworkSharing`)."""
    if audience not in SECTION_HIDDEN_FROM.get(section, frozenset()):
        return True
    return section in shown.sections and audience in FAMILY_MAY_SHOW.get(section, frozenset())


def may_see_statement(
    kind: str, statement_id: uuid.UUID, audience: Audience, shown: NetworkSharing = DEFAULT_SHARING
) -> bool:
    """Whether `audience` sees a statement at all (its labels and sharing decide the rest): a harm statement only
    with the harm statements' section, or when the family chose that one statement for them."""
    if kind != "harm" or may_see_section(Section.harm_statements, audience, shown):
        return True
    return statement_id in shown.statement_ids and audience in FAMILY_MAY_SHOW[Section.harm_statements]


# Who may read words the worker has not yet marked ready to share (drafts), and withdrawn ones: the agency only.
# Everyone else (the family, their network, partners, the court) reads only what was shared and is still in
# force. See `sop_shared.sharing`.
DRAFT_AUDIENCES: frozenset[Audience] = frozenset({Audience.staff, Audience.supervisor})


def may_see_unshared(audience: Audience) -> bool:
    """Whether `audience` may read drafts (words not yet ready to share) and withdrawn records."""
    return audience in DRAFT_AUDIENCES


class PracticeAction(StrEnum):
    """What the practice service (coaching and training, issue 15) lets someone do; not case scopes."""

    manage_people = "people:manage"  # register practitioners; put workers and units on a coach's caseload
    read_people = "people:read"  # the practitioner registry and every coach's caseload
    manage_training = "training:manage"  # courses, sessions, rosters
    record_attendance = "attendance:record"  # attendance and completions (a trainer: the sessions they lead)
    read_all_training = "training:read-all"  # anyone's training record, any unit's due and overdue list
    load_rosters = "rosters:load"  # batch roster loads
    route_coaching = "coaching:route"  # every coaching referral; route each to a coach's queue
    read_all_fidelity = "fidelity:read-all"  # the fidelity measures of any unit, county, worker or the state
    # the state-wide rates beside a scope one may read (a dashboard's state average): rates only, never counts, so
    # the state less one's own unit never gives another unit's numbers
    read_state_average = "fidelity:state-average"
    rebuild_fidelity = "fidelity:rebuild"  # rebuild the fidelity read model from the event streams


# Who may do what in the practice service, by staff role. The rest follows from relationships the practice
# service holds: a worker reads their own training record, a supervisor their unit's, a coach their caseload's.
PRACTICE_ROLE_ACTIONS: dict[str, frozenset[PracticeAction]] = {
    StaffRole.training_coordinator: frozenset(PracticeAction),
    StaffRole.practice_lead: frozenset(
        {
            PracticeAction.read_people,
            PracticeAction.read_all_training,
            PracticeAction.read_all_fidelity,
            PracticeAction.read_state_average,
            PracticeAction.rebuild_fidelity,
        }
    ),
    StaffRole.trainer: frozenset({PracticeAction.record_attendance}),
    StaffRole.coach: frozenset({PracticeAction.read_state_average}),
    StaffRole.supervisor: frozenset({PracticeAction.read_state_average}),
    StaffRole.worker: frozenset(),
}
# The fidelity measures (counts and rates, never a case): a supervisor reads their own unit's and its workers', a
# coach their caseload's, who holds `fidelity:read-all` any. A count of fewer than this many is never shown: a
# cell that small could point at one family.
SMALL_CELL_MIN = 5


class ReportingAction(StrEnum):
    """Outcomes and federal reporting (issue 15, part 5), in the network service that holds the SACWIS history."""

    read_outcomes = "reporting:outcomes"  # outcome measures (counts and rates, small cells hidden) of any scope
    extract = "reporting:extract"  # produce and download the NCANDS/AFCARS extract (child-level records)


# Who may read the outcome measures and produce the federal extract, by staff role. The extract holds a record
# per child (dates of birth, removal and discharge): only those who answer for the state's federal reporting.
REPORTING_ROLE_ACTIONS: dict[str, frozenset[ReportingAction]] = {
    StaffRole.practice_lead: frozenset(ReportingAction),
    StaffRole.admin: frozenset(ReportingAction),
    StaffRole.auditor: frozenset(ReportingAction),
    StaffRole.training_coordinator: frozenset({ReportingAction.read_outcomes}),
}


def reporting_actions(actor_type: ActorType, roles: Iterable[str]) -> frozenset[ReportingAction]:
    """What a principal may do with outcomes and federal reporting: staff only, by role."""
    if actor_type != ActorType.staff:
        return frozenset()
    return frozenset(action for role in roles for action in REPORTING_ROLE_ACTIONS.get(role, frozenset()))


# An integration with this scope may load rosters in batch (and nothing else in the practice service).
PRACTICE_SCOPE_ACTIONS: dict[Scope, frozenset[PracticeAction]] = {
    Scope.training_sync: frozenset({PracticeAction.load_rosters}),
}


def practice_actions(actor_type: ActorType, roles: Iterable[str], scopes: Iterable[str]) -> frozenset[PracticeAction]:
    """What a principal may do in the practice service from its roles (staff) or its scopes (integrations)."""
    actions: set[PracticeAction] = set()
    if actor_type == ActorType.staff:
        for role in roles:
            actions |= PRACTICE_ROLE_ACTIONS.get(role, frozenset())
    elif actor_type == ActorType.integration:
        for scope in scopes_for(actor_type, (), scopes):
            actions |= PRACTICE_SCOPE_ACTIONS.get(scope, frozenset())
    return frozenset(actions)


# What a coach may see of a case: only what a worker brings to coaching (a consultation's snapshot, never the
# case itself), and by default without the details that identify the family. The worker's supervisor may allow
# the identifying details for one consultation ("identified"). Any other record of the case: nothing.
COACH_CASE_VIEW: dict[str, str] = {"consultation_snapshot": "deidentified"}
# Identifying details: removed from what a coach sees (at any depth of the snapshot) unless the supervisor allowed.
IDENTIFYING_FIELDS: frozenset[str] = frozenset(
    {
        "first_name",
        "last_name",
        "name",
        "full_name",
        # the names a consultation's snapshot carries under other keys (who rated, who answered, who interpreted)
        "rater_name",
        "responder_name",
        "person_name",
        "interpreter_name",
        "child_name_for_house",
        "date_of_birth",
        "address",
        "street",
        "phone",
        "email",
        "external_id",
        "case_external_id",
        "case_id",
        "person_id",
        "ssn",
        "medicaid_id",
        "school",
        "principal_subject",
    }
)


def coach_may_see(source: str) -> bool:
    """Whether a coach may see this kind of case record at all (deny by default)."""
    return source in COACH_CASE_VIEW


def coach_view(value: object, *, identified: bool = False) -> object:
    """What a coach sees of a snapshot: every identifying field removed, at any depth, unless the worker's
    supervisor allowed the identifying details (`identified`)."""
    if identified:
        return value
    if isinstance(value, dict):
        return {k: coach_view(v) for k, v in value.items() if k not in IDENTIFYING_FIELDS}
    if isinstance(value, list):
        return [coach_view(v) for v in value]
    return value


# The widest audience each actor may ask for.
AUDIENCES_FOR_ACTOR: dict[ActorType, frozenset[Audience]] = {
    ActorType.staff: frozenset({Audience.staff, Audience.family, Audience.network, Audience.partner, Audience.court}),
    ActorType.integration: frozenset({Audience.staff}),
    ActorType.partner: frozenset({Audience.partner, Audience.court}),
    ActorType.family: frozenset({Audience.family}),
    ActorType.network: frozenset({Audience.network}),
}


# The audience a caller speaks for when it names none (a family member's call never defaults to the staff view).
DEFAULT_AUDIENCE: dict[ActorType, Audience] = {
    ActorType.staff: Audience.staff,
    ActorType.integration: Audience.staff,
    ActorType.family: Audience.family,
    ActorType.network: Audience.network,
    ActorType.partner: Audience.partner,
}


def scopes_for(actor_type: ActorType, roles: Iterable[str], granted: Iterable[str] = ()) -> frozenset[Scope]:
    """Scopes a principal holds: from its roles (staff) or its grant (others), capped by actor type."""
    scopes: set[Scope] = set()
    for role in roles:
        scopes |= ROLE_SCOPES.get(role, frozenset())
    for raw in granted:
        try:
            scopes.add(Scope(raw))
        except ValueError:
            continue
    return frozenset(scopes & ACTOR_SCOPE_CEILING[actor_type])


def may_see(label: SensitivityLabel, audience: Audience, *, consented: bool = False) -> bool:
    rule = LABEL_VISIBILITY.get(label, {}).get(audience)
    return rule == "always" or (rule == "consent" and consented)


def audiences_allowed(actor_type: ActorType, roles: Iterable[str]) -> frozenset[Audience]:
    allowed = set(AUDIENCES_FOR_ACTOR[actor_type])
    if actor_type == ActorType.staff and StaffRole.supervisor in set(roles):
        allowed.add(Audience.supervisor)
    return frozenset(allowed)


class CaseRelationship(StrEnum):
    assigned_worker = "assigned_worker"
    assigned_supervisor = "assigned_supervisor"
    partner_grant = "partner_grant"
    family_member = "family_member"
    network_member = "network_member"
    integration = "integration"


@dataclass(frozen=True)
class StaffAssignment:
    staff_subject: str
    role: str  # worker | supervisor
    active: bool = True


@dataclass(frozen=True)
class PartnerGrant:
    """A partner agency's grant on one case. Live while not revoked and before `expires_at` (exclusive).
    `audience` is the widest audience the partner may be shown (None: the partner audience); a grant naming
    an audience partners may never have (e.g. staff) grants nothing."""

    agency: str
    scopes: frozenset[str]
    expires_at: datetime | None
    revoked_at: datetime | None = None
    audience: str | None = None
    purpose: str | None = None
    grant_id: uuid.UUID | None = None

    def live(self, now: datetime) -> bool:
        # A revocation counts the moment it is recorded, whatever its timestamp says.
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class CaseAccessFacts:
    """What the network service knows about one case, gathered before deciding."""

    case_id: uuid.UUID
    exists: bool
    assignments: tuple[StaffAssignment, ...] = ()
    grants: tuple[PartnerGrant, ...] = ()
    # principal subject -> family|network: a person of this case (caregiver/parent) or an active member of its
    # safety network, matched on the person's `principal_subject` (the identity they log in with).
    member_subjects: dict[str, str] = field(default_factory=dict)
    # principal subject -> the person record that login is bound to (the member acts only as that person)
    member_people: dict[str, uuid.UUID] = field(default_factory=dict)
    # what the family chose their network sees beyond the default on this case
    network_sharing: NetworkSharing = DEFAULT_SHARING


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    relationships: tuple[CaseRelationship, ...] = ()
    scopes: frozenset[Scope] = frozenset()
    audiences: frozenset[Audience] = frozenset()  # the audiences this caller may be shown on this case
    purposes: tuple[str, ...] = ()  # purposes of the partner grants relied on
    grant_ids: tuple[uuid.UUID, ...] = ()
    person_id: uuid.UUID | None = None  # a family or network member: the person they are on this case
    network_sharing: NetworkSharing = DEFAULT_SHARING  # what the family chose their network sees here

    @classmethod
    def deny(cls) -> AccessDecision:
        return cls(False)


def decide_case_access(
    *,
    actor_type: ActorType,
    subject: str,
    roles: Iterable[str],
    agency: str | None,
    token_scopes: Iterable[str],
    facts: CaseAccessFacts,
    now: datetime,
) -> AccessDecision:
    """Deny by default; allow only through a relationship this table names. A missing case is a denial."""
    if not facts.exists:
        return AccessDecision.deny()
    roles = set(roles)
    relationships: list[CaseRelationship] = []
    scopes: set[Scope] = set()
    audiences: set[Audience] = set()
    purposes: list[str] = []
    grant_ids: list[uuid.UUID] = []
    person_id: uuid.UUID | None = None
    if actor_type == ActorType.staff:
        for assignment in facts.assignments:
            if not assignment.active or assignment.staff_subject != subject:
                continue
            if assignment.role == "worker":
                relationships.append(CaseRelationship.assigned_worker)
            elif assignment.role == "supervisor":
                relationships.append(CaseRelationship.assigned_supervisor)
        if relationships:
            scopes |= scopes_for(actor_type, roles)
            audiences |= audiences_allowed(actor_type, roles)
    elif actor_type == ActorType.integration:
        held = scopes_for(actor_type, (), token_scopes)
        if Scope.cases_sync in held:
            relationships.append(CaseRelationship.integration)
            scopes |= held
            audiences |= AUDIENCES_FOR_ACTOR[actor_type]
    elif actor_type == ActorType.partner and agency:
        for grant in facts.grants:
            if not grant.live(now) or grant.agency != agency:
                continue
            audience = _grant_audience(grant)
            if audience is None:
                continue  # a grant naming an audience partners may never have grants nothing
            relationships.append(CaseRelationship.partner_grant)
            scopes |= scopes_for(actor_type, (), grant.scopes)
            audiences.add(audience)
            if grant.purpose:
                purposes.append(grant.purpose)
            if grant.grant_id is not None:
                grant_ids.append(grant.grant_id)
        relationships = relationships[:1]  # one relationship, however many grants support it
    elif actor_type in (ActorType.family, ActorType.network):
        kind = facts.member_subjects.get(subject)
        if kind == actor_type.value:
            relationships.append(
                CaseRelationship.family_member if kind == "family" else CaseRelationship.network_member
            )
            scopes |= scopes_for(actor_type, (), [Scope.case_read, Scope.case_participate])
            audiences |= AUDIENCES_FOR_ACTOR[actor_type]
            person_id = facts.member_people.get(subject)
    if not relationships or not scopes:
        return AccessDecision.deny()
    return AccessDecision(
        True,
        tuple(relationships),
        frozenset(scopes),
        frozenset(audiences),
        tuple(purposes),
        tuple(grant_ids),
        person_id,
        facts.network_sharing,
    )


def _grant_audience(grant: PartnerGrant) -> Audience | None:
    try:
        audience = Audience(grant.audience) if grant.audience else Audience.partner
    except ValueError:
        return None
    return audience if audience in AUDIENCES_FOR_ACTOR[ActorType.partner] else None
