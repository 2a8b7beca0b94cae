"""Case operations: the SACWIS upsert and reading a case with its people."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sop_network.cases.rules import changed_fields, check_case_upsert
from sop_network.models import Case, CaseMember, Person, StaffAssignment, platform
from sop_network.schemas import (
    AssignmentOut,
    CaseMemberOut,
    CaseOut,
    CaseUpsert,
    PersonIn,
    PersonOut,
)
from sop_shared.concurrency import check_version
from sop_shared.db import utcnow
from sop_shared.outbox import emit

CASE_FIELDS = ("case_type", "status", "county", "opened_on", "closed_on")
PERSON_FIELDS = ("first_name", "last_name", "date_of_birth", "preferred_language", "needs_interpreter")


async def upsert_case_from_sacwis(
    session: AsyncSession, *, system: str, external_id: str, body: CaseUpsert, expected_version: int | None,
) -> tuple[Case, bool, bool]:
    """Create or bring up to date the case SACWIS knows as (system, external_id).

    Returns (case, created, changed). A repeat of the same payload changes nothing and emits nothing.
    """
    check_case_upsert(body)
    case = (await session.execute(select(Case).where(
        Case.external_system == system, Case.external_id == external_id))).scalar_one_or_none()
    created = case is None
    incoming = {f: getattr(body, f) for f in CASE_FIELDS}
    changes: dict[str, Any] = {}
    if case is None:
        case = Case(external_system=system, external_id=external_id, **incoming)
        session.add(case)
        await session.flush()
    else:
        if expected_version is not None:
            check_version(case.version, expected_version)
        changes = changed_fields({f: getattr(case, f) for f in CASE_FIELDS}, incoming)
        for name, (_, new) in changes.items():
            setattr(case, name, new)
    members_changed = await _sync_members(session, case, system, body)
    assignments_changed = await _sync_assignments(session, case, body)
    changed = created or bool(changes) or members_changed or assignments_changed
    if changed and not created:
        case.version += 1
        case.updated_at = utcnow()
    if changed:
        await session.flush()
        await emit(session, platform, subject=f"sop.network.case.{'created' if created else 'updated'}",
                   case_id=case.id, data={
                       "case_id": str(case.id), "external_system": system, "external_id": external_id,
                       "version": case.version, "changed": sorted(changes) if not created else None,
                   })
    return case, created, changed


async def _upsert_person(session: AsyncSession, system: str, incoming: PersonIn) -> tuple[Person, bool]:
    person = (await session.execute(select(Person).where(
        Person.external_system == system, Person.external_id == incoming.external_id))).scalar_one_or_none()
    values = {f: getattr(incoming, f) for f in PERSON_FIELDS}
    if person is None:
        person = Person(external_system=system, external_id=incoming.external_id, **values)
        session.add(person)
        await session.flush()
        return person, True
    changes = changed_fields({f: getattr(person, f) for f in PERSON_FIELDS}, values)
    if changes:
        for name, (_, new) in changes.items():
            setattr(person, name, new)
        person.version += 1
        person.updated_at = utcnow()
    return person, bool(changes)


async def _sync_members(session: AsyncSession, case: Case, system: str, body: CaseUpsert) -> bool:
    existing = {(m.person_id, m.role): m for m in (await session.execute(
        select(CaseMember).where(CaseMember.case_id == case.id))).scalars()}
    changed = False
    present: set[tuple[uuid.UUID, str]] = set()
    for member_in in body.members:
        person, person_changed = await _upsert_person(session, system, member_in.person)
        changed |= person_changed
        key = (person.id, member_in.role)
        present.add(key)
        member = existing.get(key)
        if member is None:
            session.add(CaseMember(case_id=case.id, person_id=person.id, role=member_in.role,
                                   relationship_to_children=member_in.relationship_to_children))
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
    existing = {(a.staff_subject, a.role): a for a in (await session.execute(
        select(StaffAssignment).where(StaffAssignment.case_id == case.id))).scalars()}
    wanted = {(a.staff_subject, a.role) for a in body.assignments}
    changed = False
    for key in wanted:
        assignment = existing.get(key)
        if assignment is None:
            session.add(StaffAssignment(case_id=case.id, staff_subject=key[0], role=key[1]))
            changed = True
        elif not assignment.active:
            assignment.active, assignment.updated_at = True, utcnow()
            changed = True
    for key, assignment in existing.items():
        if key not in wanted and assignment.active:
            assignment.active, assignment.updated_at = False, utcnow()
            changed = True
    return changed


async def read_case(session: AsyncSession, case_id: uuid.UUID) -> CaseOut | None:
    case = await session.get(Case, case_id)
    if case is None:
        return None
    await session.flush()
    rows = (await session.execute(
        select(CaseMember, Person).join(Person, Person.id == CaseMember.person_id)
        .where(CaseMember.case_id == case_id).order_by(CaseMember.id))).all()
    assignments = (await session.execute(
        select(StaffAssignment).where(StaffAssignment.case_id == case_id).order_by(StaffAssignment.id))).scalars()
    return CaseOut(
        **{f: getattr(case, f) for f in ("id", "external_system", "external_id", "version", "created_at",
                                         "updated_at", *CASE_FIELDS)},
        members=[CaseMemberOut(id=m.id, role=m.role, relationship_to_children=m.relationship_to_children,
                               active=m.active, person=PersonOut.model_validate(p, from_attributes=True))
                 for m, p in rows],
        assignments=[AssignmentOut(staff_subject=a.staff_subject, role=a.role, active=a.active)
                     for a in assignments],
    )
