"""The gateway's case-view slice in one statement: the facts the access decision needs, the case with its people
and staff, and its safety network (members, meetings, commitments and their translations), read together
(`WideUnion`, SQLAlchemy Core: no ORM identity map, no per-row model validation), decided by the policy table,
and shown for the audiences the decision allows, as plain dicts (the JSON of `CaseViewSlice`).

The answer is the one `decide_for` + `read_case` + `read_safety_network` + `member_access_out` give (they stay,
for the service's other routes, and `tests/network/test_case_view_reads.py` compares the two for every
audience)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from sop_network.access.service import FAMILY_ROLES, MemberLogin
from sop_network.commitments.service import commitments_out
from sop_network.models import (
    Case,
    CaseMember,
    ContactMethod,
    NetworkCommitment,
    NetworkMeeting,
    NetworkMember,
    NetworkSharingChoice,
    PartnerGrant,
    Person,
    StaffAssignment,
    Translation,
)
from sop_network.safety_network.service import MEMBER_FIELDS, widest
from sop_shared.auth import Principal
from sop_shared.policy import (
    DEFAULT_SHARING,
    AccessDecision,
    ActorType,
    Audience,
    CaseAccessFacts,
    NetworkSharing,
    Section,
    SensitivityLabel,
    decide_case_access,
    may_see,
)
from sop_shared.policy import PartnerGrant as GrantFact
from sop_shared.policy import StaffAssignment as AssignmentFact
from sop_shared.sharing import shown_to_reader
from sop_shared.wide_union import Record, WideUnion, read_as, sorted_by, table_of

_CASES: BindParameter[list[uuid.UUID]] = bindparam("case_ids", expanding=True)
case_t, sharing_t, person_t = table_of(Case), table_of(NetworkSharingChoice), table_of(Person)
member_t, network_t = table_of(CaseMember), table_of(NetworkMember)
contact_t, assignment_t, grant_t = table_of(ContactMethod), table_of(StaffAssignment), table_of(PartnerGrant)
meeting_t, commitment_t, translation_t = table_of(NetworkMeeting), table_of(NetworkCommitment), table_of(Translation)


def _person_columns() -> list[Any]:
    return [c.label(f"p_{c.key}") for c in person_t.c]


_people_of_cases = union(
    select(member_t.c.person_id).where(member_t.c.case_id.in_(_CASES)),
    select(network_t.c.person_id).where(network_t.c.case_id.in_(_CASES)),
)

VIEW = WideUnion(
    {
        "case": select(
            *case_t.c,
            sharing_t.c.sections.label("sharing_sections"),
            sharing_t.c.statement_ids.label("sharing_statement_ids"),
        )
        .select_from(case_t.outerjoin(sharing_t, sharing_t.c.case_id == case_t.c.id))
        .where(case_t.c.id.in_(_CASES)),
        "assignment": select(*assignment_t.c).where(assignment_t.c.case_id.in_(_CASES)),
        "grant": select(*grant_t.c).where(grant_t.c.case_id.in_(_CASES)),
        "member": select(*member_t.c, *_person_columns())
        .select_from(member_t.join(person_t, person_t.c.id == member_t.c.person_id))
        .where(member_t.c.case_id.in_(_CASES)),
        "network": select(*network_t.c, *_person_columns())
        .select_from(network_t.join(person_t, person_t.c.id == network_t.c.person_id))
        .where(network_t.c.case_id.in_(_CASES)),
        "contact": select(*contact_t.c).where(contact_t.c.person_id.in_(_people_of_cases)),
        "meeting": select(*meeting_t.c).where(meeting_t.c.case_id.in_(_CASES)),
        "commitment": select(*commitment_t.c).where(commitment_t.c.case_id.in_(_CASES)),
        "translation": select(*translation_t.c).where(
            translation_t.c.case_id.in_(_CASES), translation_t.c.record_kind == "network_commitment"
        ),
    }
)


@dataclass
class CaseRows:
    """One case's rows as the view statement read them, each kind in the order the old reads gave."""

    case: dict[str, Any] | None
    assignments: list[dict[str, Any]]
    grants: list[dict[str, Any]]
    members: list[dict[str, Any]]
    network: list[dict[str, Any]]
    contacts: dict[uuid.UUID, list[dict[str, Any]]]
    meetings: list[dict[str, Any]]
    commitments: list[dict[str, Any]]
    translations: list[dict[str, Any]]


async def read_case_rows(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CaseRows]:
    """Everything the slice of these cases shows or is decided on, in one statement."""
    found = await VIEW.read(session, {"case_ids": list(case_ids)})
    rows = {case_id: CaseRows(None, [], [], [], [], {}, [], [], []) for case_id in case_ids}
    for case in found["case"]:
        rows[case["id"]].case = case
    for kind, order in (
        ("assignment", ("id",)),
        ("grant", ("id",)),
        ("member", ("id",)),
        ("network", ("id",)),
        ("meeting", ("held_on", "id")),
        ("commitment", ("proposed_at", "id")),
        ("translation", ("id",)),
    ):
        for row in sorted_by(found[kind], *order):
            getattr(rows[row["case_id"]], f"{kind}s" if kind != "network" else kind).append(row)
    contacts: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for c in sorted_by(found["contact"], "id"):
        contacts.setdefault(c["person_id"], []).append(c)
    for case_rows in rows.values():
        case_rows.contacts = contacts
    return rows


# --- the decision -------------------------------------------------------------------------------------------


def member_logins(rows: CaseRows, today: date, subject: str) -> dict[str, MemberLogin]:
    """`_member_subjects` (access/service.py) for one case and one login, over the rows read: an active
    caregiver or parent (family), else an active network member within their dates (network); a merged-away
    record speaks for no one; family wins for a person in both."""
    logins: dict[str, MemberLogin] = {}
    for m in rows.network:
        if (
            m["p_principal_subject"] == subject
            and m["p_merged_into_id"] is None
            and (m["active_from"] is None or m["active_from"] <= today)
            and (m["active_to"] is None or m["active_to"] >= today)
        ):
            logins[subject] = MemberLogin("network", m["person_id"])
    for m in rows.members:
        if (
            m["p_principal_subject"] == subject
            and m["p_merged_into_id"] is None
            and m["active"]
            and m["role"] in FAMILY_ROLES
        ):
            logins[subject] = MemberLogin("family", m["person_id"])
    return logins


def sharing_of_row(case: dict[str, Any]) -> NetworkSharing:
    if case["sharing_sections"] is None:
        return DEFAULT_SHARING
    return NetworkSharing(
        sections=frozenset(Section(s) for s in case["sharing_sections"]),
        statement_ids=frozenset(uuid.UUID(i) for i in case["sharing_statement_ids"]),
    )


def decide_on_rows(principal: Principal, case_id: uuid.UUID, rows: CaseRows, now: datetime) -> AccessDecision:
    """`decide_many`'s facts, gathered from the rows read, and the policy table's decision on them."""
    logins = (
        member_logins(rows, now.date(), principal.subject)
        if principal.actor_type in (ActorType.family, ActorType.network)
        else {}
    )
    facts = CaseAccessFacts(
        case_id=case_id,
        exists=rows.case is not None,
        assignments=tuple(AssignmentFact(a["staff_subject"], a["role"].value, a["active"]) for a in rows.assignments)
        if rows.case
        else (),
        grants=tuple(
            GrantFact(
                g["agency"],
                frozenset(g["scopes"]),
                g["expires_at"],
                g["revoked_at"],
                audience=g["audience"],
                purpose=g["purpose"],
                grant_id=g["id"],
            )
            for g in rows.grants
        )
        if rows.case
        else (),
        member_subjects={s: m.kind for s, m in logins.items()},
        member_people={s: m.person_id for s, m in logins.items()},
        network_sharing=sharing_of_row(rows.case) if rows.case else DEFAULT_SHARING,
    )
    return decide_case_access(
        actor_type=principal.actor_type,
        subject=principal.subject,
        roles=principal.roles,
        agency=principal.agency,
        token_scopes=principal.scopes,
        facts=facts,
        now=now,
    )


# --- the answer, as the JSON of CaseViewSlice -----------------------------------------------------------------


def access_dict(
    case_id: uuid.UUID, principal: Principal, decision: AccessDecision, language: str | None = None
) -> dict[str, Any]:
    """`access_out` (access/api.py) as a dict."""
    sharing = decision.network_sharing
    return {
        "case_id": case_id,
        "subject": principal.subject,
        "allowed": decision.allowed,
        "relationships": [r.value for r in decision.relationships],
        "scopes": sorted(s.value for s in decision.scopes),
        "audiences": sorted(a.value for a in decision.audiences),
        "person_id": decision.person_id,
        "language": language,
        "network_sees": {"sections": sorted(sharing.sections), "statement_ids": sorted(sharing.statement_ids)}
        if decision.allowed and sharing
        else None,
    }


PERSON_KEYS = (
    "id",
    "external_system",
    "external_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "preferred_language",
    "needs_interpreter",
    "version",
    "merged_into_id",
)


class People:
    """`persons_out` (cases/service.py) over the rows read: a DV-confidential address only for audiences the
    policy allows, someone's login identity for staff only."""

    def __init__(self, rows: CaseRows, audiences: frozenset[Audience]) -> None:
        self.contacts = rows.contacts
        self.show_dv = any(may_see(SensitivityLabel.dv_confidential_address, a) for a in audiences)
        self.show_login = bool(audiences & {Audience.staff, Audience.supervisor})

    def of(self, row: dict[str, Any]) -> dict[str, Any]:
        person = {k: row[f"p_{k}"] for k in PERSON_KEYS}
        person["principal_subject"] = row["p_principal_subject"] if self.show_login else None
        person["contact_methods"] = [
            {"kind": c["kind"], "value": c["value"], "dv_confidential": c["dv_confidential"]}
            for c in self.contacts.get(row["person_id"], ())
            if self.show_dv or not (c["dv_confidential"] and c["kind"] == "address")
        ]
        return person


CASE_KEYS = ("id", "external_system", "external_id", "case_type", "status", "county", "opened_on", "closed_on")
CASE_TIMES = ("version", "created_at", "updated_at")
MEETING_KEYS = ("id", "case_id", "held_on", "attendee_member_ids", "decisions", "next_meeting_on", "recorded_by")


def case_dict(rows: CaseRows, people: People) -> dict[str, Any]:
    """`read_case` (cases/service.py) as a dict."""
    assert rows.case is not None
    return {
        **{k: rows.case[k] for k in (*CASE_KEYS, *CASE_TIMES)},
        "members": [
            {
                "id": m["id"],
                "role": m["role"],
                "relationship_to_children": m["relationship_to_children"],
                "active": m["active"],
                "person": people.of(m),
            }
            for m in rows.members
        ],
        "assignments": [
            {k: a[k] for k in ("staff_subject", "role", "active", "unit", "area")} for a in rows.assignments
        ],
    }


def safety_network_dict(
    rows: CaseRows, people: People, audiences: frozenset[Audience], reader_person_id: uuid.UUID | None
) -> dict[str, Any]:
    """`read_safety_network` (safety_network/service.py) as a dict: the commitments as `commitments_shown`
    shows them, for the case and per member."""
    audience = widest(audiences)
    commitments = [
        c
        for c in (read_as(NetworkCommitment, row) for row in rows.commitments)
        if shown_to_reader(c, audience, reader_person_id)
    ]
    shown_ids = {c.id for c in commitments}
    translations: dict[uuid.UUID, list[Any]] = {}
    for t in rows.translations:
        if t["record_id"] in shown_ids:
            translations.setdefault(t["record_id"], []).append(Record(t))
    out = commitments_out(commitments, audience, translations)
    by_member: dict[uuid.UUID, list[Any]] = {}
    for c in out:
        by_member.setdefault(c.member_id, []).append(c)
    return {
        "members": [
            {
                **{k: m[k] for k in ("id", "case_id", *MEMBER_FIELDS, "version", "created_at", "updated_at")},
                "person": people.of(m),
                "commitments": by_member.get(m["id"], []),
            }
            for m in rows.network
        ],
        "meetings": [{**{k: m[k] for k in MEETING_KEYS}, "created_at": m["created_at"]} for m in rows.meetings],
        "commitments": out,
    }


def language_of_person(rows: CaseRows, person_id: uuid.UUID | None) -> str | None:
    """`member_access_out`'s language: the preferred language of the person the member is on this case."""
    if person_id is None:
        return None
    for m in _people_rows(rows):
        if m["person_id"] == person_id:
            return str(m["p_preferred_language"])
    return None


def _people_rows(rows: CaseRows) -> Iterable[dict[str, Any]]:
    yield from rows.members
    yield from rows.network


def slice_dict(
    principal: Principal,
    case_id: uuid.UUID,
    rows: CaseRows,
    decision: AccessDecision,
    *,
    with_language: bool = True,
) -> dict[str, Any]:
    """The slice (`CaseViewSlice`) of one case for this caller: the access, and the case and its safety network
    only when allowed."""
    allowed = decision.allowed and rows.case is not None
    people = People(rows, decision.audiences)
    return {
        "access": access_dict(
            case_id, principal, decision, language_of_person(rows, decision.person_id) if with_language else None
        ),
        "case": case_dict(rows, people) if allowed else None,
        "safety_network": safety_network_dict(rows, people, decision.audiences, decision.person_id)
        if allowed
        else None,
    }
