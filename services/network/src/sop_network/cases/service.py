"""Case operations: the SACWIS upsert and reading a case with its people."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.cases.history import sync_history
from sop_network.cases.reporting import reporting_changes
from sop_network.cases.rules import changed_fields, check_case_upsert
from sop_network.changes.service import Change, record_changes
from sop_network.models import (
    AssignmentRole,
    Case,
    CaseMember,
    ContactKind,
    ContactMethod,
    Person,
    PersonAlias,
    StaffAssignment,
)
from sop_network.schemas import (
    AssignmentIn,
    AssignmentOut,
    CaseCreate,
    CaseMemberAdd,
    CaseMemberOut,
    CaseOut,
    CasePatch,
    CaseUpsert,
    ContactMethodOut,
    PersonFields,
    PersonIn,
    PersonOut,
    PersonPatch,
)
from sop_shared.concurrency import check_version
from sop_shared.db import utcnow
from sop_shared.ids import new_id
from sop_shared.pagination import PageRequest
from sop_shared.person_languages import PEOPLE_KEY, PersonLanguage
from sop_shared.policy import Audience, SensitivityLabel, may_see
from sop_shared.problems import Conflict, InvalidInput, NotFound


class AmbiguousMatch(Conflict):
    """An external id that leads to more than one live person: refused, never guessed."""

    slug, title = "ambiguous-match", "This external id matches more than one record"


CASE_FIELDS = ("case_type", "status", "county", "opened_on", "closed_on")
PERSON_FIELDS = ("first_name", "last_name", "date_of_birth", "preferred_language", "needs_interpreter")


async def upsert_case_from_sacwis(
    session: AsyncSession,
    *,
    system: str,
    external_id: str,
    body: CaseUpsert,
    expected_version: int | None,
    case_id: uuid.UUID | None = None,
) -> tuple[Case, bool, bool]:
    """Create or bring up to date the case SACWIS knows as (system, external_id).

    Returns (case, created, changed). A repeat of the same payload changes nothing and emits nothing.
    """
    check_case_upsert(body)
    case = (
        await session.execute(
            select(Case).where(col(Case.external_system) == system, col(Case.external_id) == external_id)
        )
    ).scalar_one_or_none()
    created = case is None
    incoming = {f: getattr(body, f) for f in CASE_FIELDS}
    changes: dict[str, Any] = {}
    if case is None:
        case = Case(external_system=system, external_id=external_id, **incoming)
        if case_id is not None:
            case.id = case_id
        session.add(case)
        await session.flush()
    else:
        if expected_version is not None:
            check_version(case.version, expected_version)
        changes = changed_fields({f: getattr(case, f) for f in CASE_FIELDS}, incoming)
        for name, (_, new) in changes.items():
            setattr(case, name, new)
    linked: dict[str, uuid.UUID] = {}  # each member's SACWIS person id -> the person linked
    members_changed = await _sync_members(session, case, system, body, linked)
    assignments_changed = await _sync_assignments(session, case, body)
    history_changed = await sync_history(session, case.id, body, linked)
    if history_changed and not created:
        changes = {**changes, **{name: (None, None) for name in history_changed}}
    changed = created or bool(changes) or members_changed or assignments_changed
    if changed and not created:
        case.version += 1
        case.updated_at = utcnow()
    if changed:
        await announce_case(session, case, created=created, changes=changes)
    return case, created, changed


async def announce_case(
    session: AsyncSession, case: Case, *, created: bool, changes: Mapping[str, Any] | None = None
) -> None:
    """`sop.network.case.created|updated`: the case, who is in it and what each reads, and the staff on it; and
    with it `sop.network.case.reporting_facts` (`cases.reporting`), for the practice service's outcomes."""
    await session.flush()
    # a person with two roles in the case is one person
    rows = await session.execute(
        select(Person)
        .join(CaseMember, col(CaseMember.person_id) == col(Person.id))
        .where(col(CaseMember.case_id) == case.id)
        .order_by(col(CaseMember.id))
    )
    people = list({person.id: person for person in rows.scalars()}.values())
    staff = (
        await session.execute(
            select(StaffAssignment).where(
                col(StaffAssignment.case_id) == case.id, col(StaffAssignment.active).is_(True)
            )
        )
    ).scalars()
    announced = Change(
        f"sop.network.case.{'created' if created else 'updated'}",
        case_id=case.id,
        data={
            "case_id": str(case.id),
            "external_system": case.external_system,
            "external_id": case.external_id,
            "version": case.version,
            "changed": sorted(changes or ()) if not created else None,
            # who is in the case, so other services can hold references to them, and what each reads
            "person_ids": [str(p.id) for p in people],
            PEOPLE_KEY: [language_of(p) for p in people],
            # who is assigned (staff subjects only): the plans service addresses its practice alerts
            "staff": sorted(
                ({"subject": a.staff_subject, "role": str(a.role), "unit": a.unit} for a in staff),
                key=lambda a: (a["role"], a["subject"]),
            ),
            # where and since when the case is open: the practice service's fidelity measures count by them
            "county": case.county,
            "status": str(case.status),
            "opened_on": case.opened_on.isoformat() if case.opened_on else None,
        },
    )
    await record_changes(session, [announced, *await reporting_changes(session, [case.id])])


def language_of(person: Person) -> dict[str, Any]:
    """What the network's events say about the language a person reads (see `sop_shared.person_languages`)."""
    return PersonLanguage(person.id, person.preferred_language, person.needs_interpreter, person.version).to_event()


async def resolve_person(session: AsyncSession, system: str, external_id: str) -> tuple[Person | None, Person | None]:
    """The crosswalk: (the record holding this external id, the live person it stands for now).

    The live person is the record itself, or the survivor it was merged into. An id that is some record's
    own id and also another live person's alias is ambiguous: 409, never a guess."""
    own = (
        await session.execute(
            select(Person).where(col(Person.external_system) == system, col(Person.external_id) == external_id)
        )
    ).scalar_one_or_none()
    alias = (
        await session.execute(
            select(PersonAlias).where(
                col(PersonAlias.external_system) == system, col(PersonAlias.external_id) == external_id
            )
        )
    ).scalar_one_or_none()
    candidates: dict[uuid.UUID, Person] = {}
    for start in ([own] if own else []) + ([await session.get(Person, alias.person_id)] if alias else []):
        live = await _follow_merges(session, start)
        if live is not None:
            candidates[live.id] = live
    if len(candidates) > 1:
        raise AmbiguousMatch(
            f"{system} person {external_id} matches more than one person; resolve it first",
            candidates=sorted(str(i) for i in candidates),
        )
    return own, next(iter(candidates.values()), None)


async def _follow_merges(session: AsyncSession, person: Person | None) -> Person | None:
    seen: set[uuid.UUID] = set()
    while person is not None and person.merged_into_id is not None and person.id not in seen:
        seen.add(person.id)
        person = await session.get(Person, person.merged_into_id)
    return person


async def _upsert_person(session: AsyncSession, system: str, incoming: PersonIn) -> tuple[Person, bool]:
    """Bring the record SACWIS knows by this id up to date; return the live person to link (the survivor
    when that record has been merged) and whether anything changed."""
    person, live = await resolve_person(session, system, incoming.external_id)
    values = {f: getattr(incoming, f) for f in PERSON_FIELDS}
    if person is None:
        if live is not None:  # known only through the crosswalk (an alias): link to that person
            return live, False
        person = Person(external_system=system, external_id=incoming.external_id, **values)
        session.add(person)
        await session.flush()
        await _sync_contacts(session, person, incoming)
        return person, True
    changes = changed_fields({f: getattr(person, f) for f in PERSON_FIELDS}, values)
    # A merged-away record's contacts live on the survivor until the merge is reversed: leave them be.
    contacts_changed = person.merged_into_id is None and await _sync_contacts(session, person, incoming)
    if changes or contacts_changed:
        for name, (_, new) in changes.items():
            setattr(person, name, new)
        person.version += 1
        person.updated_at = utcnow()
    return (live or person), bool(changes) or contacts_changed


def contact_key(kind: str, value: str, dv_confidential: bool) -> tuple[str, str, bool]:
    return (str(kind), value, bool(dv_confidential))


async def _sync_contacts(session: AsyncSession, person: Person, incoming: PersonFields | PersonPatch) -> bool:
    if incoming.contact_methods is None:
        return False
    stored = list(
        (
            await session.execute(
                select(ContactMethod).where(col(ContactMethod.person_id) == person.id).order_by(col(ContactMethod.id))
            )
        ).scalars()
    )
    wanted = [contact_key(c.kind, c.value, c.dv_confidential) for c in incoming.contact_methods]
    if sorted(contact_key(c.kind, c.value, c.dv_confidential) for c in stored) == sorted(wanted):
        return False
    for row in stored:
        await session.delete(row)
    for kind, value, dv in wanted:
        session.add(ContactMethod(person_id=person.id, kind=ContactKind(kind), value=value, dv_confidential=dv))
    await session.flush()
    return True


async def _sync_members(
    session: AsyncSession, case: Case, system: str, body: CaseUpsert, linked: dict[str, uuid.UUID]
) -> bool:
    existing = {
        (m.person_id, m.role): m
        for m in (await session.execute(select(CaseMember).where(col(CaseMember.case_id) == case.id))).scalars()
    }
    changed = False
    present: set[tuple[uuid.UUID, str]] = set()
    for member_in in body.members:
        person, person_changed = await _upsert_person(session, system, member_in.person)
        linked[member_in.person.external_id] = person.id
        changed |= person_changed
        key = (person.id, member_in.role)
        present.add(key)
        member = existing.get(key)
        if member is None:
            session.add(
                CaseMember(
                    case_id=case.id,
                    person_id=person.id,
                    role=member_in.role,
                    relationship_to_children=member_in.relationship_to_children,
                )
            )
            changed = True
        elif member.relationship_to_children != member_in.relationship_to_children or not member.active:
            member.relationship_to_children = member_in.relationship_to_children
            member.active = True
            member.version += 1
            member.updated_at = utcnow()
            changed = True
    # Someone SACWIS no longer lists leaves the case, but the record of them having been in it stays.
    for key, member in existing.items():
        if key not in present and member.active:
            member.active = False
            member.version += 1
            member.updated_at = utcnow()
            changed = True
    return changed


async def _sync_assignments(session: AsyncSession, case: Case, body: CaseUpsert) -> bool:
    existing = {
        (a.staff_subject, a.role): a
        for a in (
            await session.execute(select(StaffAssignment).where(col(StaffAssignment.case_id) == case.id))
        ).scalars()
    }
    wanted = {(a.staff_subject, a.role): a for a in body.assignments}
    changed = False
    for key, incoming in wanted.items():
        assignment = existing.get(key)
        if assignment is None:
            session.add(
                StaffAssignment(
                    case_id=case.id, staff_subject=key[0], role=key[1], unit=incoming.unit, area=incoming.area
                )
            )
            changed = True
        elif not assignment.active or (assignment.unit, assignment.area) != (incoming.unit, incoming.area):
            assignment.active, assignment.updated_at = True, utcnow()
            assignment.unit, assignment.area = incoming.unit, incoming.area
            changed = True
    for key, assignment in existing.items():
        if key not in wanted and assignment.active:
            assignment.active, assignment.updated_at = False, utcnow()
            changed = True
    return changed


async def person_out(session: AsyncSession, person: Person, audiences: frozenset[Audience]) -> PersonOut:
    return (await persons_out(session, [person], audiences))[person.id]


async def persons_out(
    session: AsyncSession, persons: list[Person], audiences: frozenset[Audience]
) -> dict[uuid.UUID, PersonOut]:
    """People as the caller may see them: a DV-confidential address only for audiences the policy allows."""
    show_dv = any(may_see(SensitivityLabel.dv_confidential_address, a) for a in audiences)
    contacts: dict[uuid.UUID, list[ContactMethodOut]] = {}
    ids = list({p.id for p in persons})
    for start in range(0, len(ids), 1000):
        for c in (
            await session.execute(
                select(ContactMethod)
                .where(col(ContactMethod.person_id).in_(ids[start : start + 1000]))
                .order_by(col(ContactMethod.id))
            )
        ).scalars():
            if c.dv_confidential and c.kind == "address" and not show_dv:
                continue
            contacts.setdefault(c.person_id, []).append(
                ContactMethodOut(kind=c.kind, value=c.value, dv_confidential=c.dv_confidential)
            )
    show_login = bool(audiences & {Audience.staff, Audience.supervisor})
    out: dict[uuid.UUID, PersonOut] = {}
    for p in persons:
        item = PersonOut.model_validate(p, from_attributes=True)
        item.contact_methods = contacts.get(p.id, [])
        if not show_login:
            item.principal_subject = None  # someone's login identity is for staff to see
        out[p.id] = item
    return out


STAFF_VIEW = frozenset({Audience.staff})


async def read_case(
    session: AsyncSession, case_id: uuid.UUID, audiences: frozenset[Audience] = STAFF_VIEW
) -> CaseOut | None:
    return (await read_cases(session, [case_id], audiences)).get(case_id)


async def read_cases(
    session: AsyncSession, case_ids: list[uuid.UUID], audiences: frozenset[Audience] = STAFF_VIEW
) -> dict[uuid.UUID, CaseOut]:
    """Cases with their people and staff in three queries whatever the count (the caseload page's bulk read)."""
    if not case_ids:
        return {}
    await session.flush()
    cases = list((await session.execute(select(Case).where(col(Case.id).in_(case_ids)))).scalars())
    rows = (
        await session.execute(
            select(CaseMember, Person)
            .join(Person, col(Person.id) == col(CaseMember.person_id))
            .where(col(CaseMember.case_id).in_(case_ids))
            .order_by(col(CaseMember.id))
        )
    ).all()
    assignments = (
        await session.execute(
            select(StaffAssignment).where(col(StaffAssignment.case_id).in_(case_ids)).order_by(col(StaffAssignment.id))
        )
    ).scalars()
    members: dict[uuid.UUID, list[CaseMemberOut]] = {}
    for m, out in zip((m for m, _ in rows), await members_out(session, list(rows), audiences), strict=True):
        members.setdefault(m.case_id, []).append(out)
    staff: dict[uuid.UUID, list[AssignmentOut]] = {}
    for a in assignments:
        staff.setdefault(a.case_id, []).append(assignment_out(a))
    return {
        case.id: CaseOut(
            **{
                f: getattr(case, f)
                for f in ("id", "external_system", "external_id", "version", "created_at", "updated_at", *CASE_FIELDS)
            },
            members=members.get(case.id, []),
            assignments=staff.get(case.id, []),
        )
        for case in cases
    }


async def members_out(
    session: AsyncSession, rows: Sequence[Any], audiences: frozenset[Audience]
) -> list[CaseMemberOut]:
    """(member, person) rows as the caller's audiences may see the people."""
    people = await persons_out(session, [p for _, p in rows], audiences)
    return [
        CaseMemberOut(
            id=m.id,
            role=m.role,
            relationship_to_children=m.relationship_to_children,
            active=m.active,
            person=people[p.id],
        )
        for m, p in rows
    ]


def assignment_out(a: StaffAssignment) -> AssignmentOut:
    return AssignmentOut(staff_subject=a.staff_subject, role=a.role, active=a.active, unit=a.unit, area=a.area)


async def case_members(
    session: AsyncSession, case_id: uuid.UUID, page: PageRequest, audiences: frozenset[Audience]
) -> tuple[list[CaseMemberOut], str | None]:
    """The people in a case and their roles (those who left too: `active` false), a page at a time."""
    query = (
        select(CaseMember, Person)
        .join(Person, col(Person.id) == col(CaseMember.person_id))
        .where(col(CaseMember.case_id) == case_id)
    )
    rows, next_cursor = page.page(list((await session.execute(page.apply(query, col(CaseMember.id)))).all()), _first_id)
    return await members_out(session, rows, audiences), next_cursor


async def case_assignments(
    session: AsyncSession, case_id: uuid.UUID, page: PageRequest
) -> tuple[list[AssignmentOut], str | None]:
    """The staff assigned to a case (from SACWIS; those no longer on it too: `active` false), a page at a time."""
    query = select(StaffAssignment).where(col(StaffAssignment.case_id) == case_id)
    rows, next_cursor = page.page(list((await session.execute(page.apply(query, col(StaffAssignment.id)))).scalars()))
    return [assignment_out(a) for a in rows], next_cursor


def _first_id(row: Any) -> uuid.UUID:
    member_id: uuid.UUID = row[0].id
    return member_id


# A case the platform keeps itself, not SACWIS: its system is the platform and its external id its own id.
PLATFORM_SYSTEM = "SOP"


class KeptBySacwis(Conflict):
    slug, title = "kept-by-sacwis", "SACWIS keeps this case"


async def create_case(session: AsyncSession, body: CaseCreate, *, worker: str) -> Case:
    """A case opened on the platform outside SACWIS (no SACWIS case yet), with its creator as its worker; the
    same rules, the same record and the same event as a case from SACWIS."""
    case_id = new_id()
    upsert = CaseUpsert(
        **body.model_dump(),
        assignments=[AssignmentIn(staff_subject=worker, role=AssignmentRole.worker)],
    )
    case, _, _ = await upsert_case_from_sacwis(
        session, system=PLATFORM_SYSTEM, external_id=str(case_id), body=upsert, expected_version=None, case_id=case_id
    )
    return case


async def add_case_member(
    session: AsyncSession, case_id: uuid.UUID, body: CaseMemberAdd, *, expected_version: int
) -> CaseMember:
    """Record someone in a platform-kept case at the version read: a new platform-kept person with their role;
    the case takes a new version and is announced, as a change from SACWIS is. A SACWIS case: 409 (SACWIS
    lists its people)."""
    case = await session.get(Case, case_id)
    assert case is not None  # the caller was authorized on it
    if case.external_system != PLATFORM_SYSTEM:
        raise KeptBySacwis("SACWIS is the system of record for this case: add the person there")
    check_version(case.version, expected_version)
    person = await create_person(session, body.person)
    member = CaseMember(
        case_id=case.id, person_id=person.id, role=body.role, relationship_to_children=body.relationship_to_children
    )
    session.add(member)
    case.version += 1
    case.updated_at = utcnow()
    await announce_case(session, case, created=False, changes={"members": None})
    return member


async def update_case(session: AsyncSession, case_id: uuid.UUID, patch: CasePatch, *, expected_version: int) -> Case:
    """Change a platform-kept case's own fields (those the body names); a SACWIS case is changed in SACWIS (409)."""
    case = await session.get(Case, case_id)
    assert case is not None  # the caller was authorized on it
    if case.external_system != PLATFORM_SYSTEM:
        raise KeptBySacwis("SACWIS is the system of record for this case: change it there")
    check_version(case.version, expected_version)
    incoming = {f: getattr(patch, f) for f in patch.model_fields_set}
    required = [f for f in ("case_type", "status") if f in incoming and incoming[f] is None]
    if required:
        raise InvalidInput([{"field": f, "message": "may not be null"} for f in required])
    current = {f: getattr(case, f) for f in CASE_FIELDS}
    check_case_upsert(CaseUpsert(**(current | incoming)))
    changes = changed_fields(current, incoming)
    if changes:
        for name, (_, new) in changes.items():
            setattr(case, name, new)
        case.version += 1
        case.updated_at = utcnow()
        await announce_case(session, case, created=False, changes=changes)
    return case


# --- people outside a case: SACWIS's records, and the ones the platform keeps itself ---


class KeptBySacwisPerson(Conflict):
    slug, title = "kept-by-sacwis", "SACWIS keeps this person"


async def create_person(session: AsyncSession, body: PersonFields) -> Person:
    """A person the platform records itself (no SACWIS record yet)."""
    person = Person(**{f: getattr(body, f) for f in PERSON_FIELDS})
    session.add(person)
    await session.flush()
    await _sync_contacts(session, person, body)
    return person


async def upsert_person(
    session: AsyncSession, system: str, external_id: str, body: PersonFields
) -> tuple[Person, bool, bool]:
    """The person another system knows as (system, external_id), created or brought up to date as the SACWIS
    case upsert does it (a merged-away record answers with its survivor). Returns (person, created, changed)."""
    own, live = await resolve_person(session, system, external_id)
    person, changed = await _upsert_person(session, system, PersonIn(external_id=external_id, **body.model_dump()))
    created = own is None and live is None
    if changed and not created:
        await _cases_of_person_changed(session, person)
    return person, created, changed


async def update_person(
    session: AsyncSession, person_id: uuid.UUID, patch: PersonPatch, *, expected_version: int
) -> Person:
    """Change a platform-kept person's fields (those the body names); a SACWIS person is changed in SACWIS."""
    person = await session.get(Person, person_id)
    if person is None or person.merged_into_id is not None:
        raise NotFound("no such person")
    if person.external_system is not None:
        raise KeptBySacwisPerson("SACWIS is the system of record for this person: change them there")
    check_version(person.version, expected_version)
    incoming = {f: getattr(patch, f) for f in patch.model_fields_set if f in PERSON_FIELDS}
    required = [f for f in PERSON_FIELDS if f != "date_of_birth" and f in incoming and incoming[f] is None]
    if "contact_methods" in patch.model_fields_set and patch.contact_methods is None:
        required.append("contact_methods")
    if required:
        raise InvalidInput([{"field": f, "message": "may not be null"} for f in required])
    changes = changed_fields({f: getattr(person, f) for f in PERSON_FIELDS}, incoming)
    contacts_changed = await _sync_contacts(session, person, patch)
    if changes or contacts_changed:
        for name, (_, new) in changes.items():
            setattr(person, name, new)
        person.version += 1
        person.updated_at = utcnow()
        await _cases_of_person_changed(session, person)
    return person


async def _cases_of_person_changed(session: AsyncSession, person: Person) -> None:
    """A person's cases change with them (a new version, announced): other services learn what they read."""
    await session.flush()
    cases = (
        await session.execute(
            select(Case)
            .join(CaseMember, col(CaseMember.case_id) == col(Case.id))
            .where(col(CaseMember.person_id) == person.id)
            .distinct()
        )
    ).scalars()
    for case in cases:
        case.version += 1
        case.updated_at = utcnow()
        await announce_case(session, case, created=False, changes={"members": None})
