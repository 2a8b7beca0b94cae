"""Persons across cases: likely duplicates, the reversible merge, the external-id crosswalk, and the login
identity (principal subject) a family or network member uses."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TypedDict, cast

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.cases.reporting import announce_cases_of_children
from sop_network.cases.service import AmbiguousMatch, resolve_person
from sop_network.changes.service import record_change
from sop_network.models import (
    CaseMember,
    ContactMethod,
    LoginInvitation,
    NetworkMember,
    Person,
    PersonAlias,
    PersonMerge,
)
from sop_network.persons.rules import suggest_duplicates
from sop_shared.problems import Conflict, InvalidInput, NotFound


class MergeNotPossible(Conflict):
    slug, title = "merge-not-possible", "These records cannot be merged as asked"


class AlreadyReversed(Conflict):
    slug, title = "merge-already-reversed", "This merge was already reversed"


class MovedMembership(TypedDict):
    id: str
    moved: bool  # False: the survivor already had this membership, so the merged record's row was made inactive
    was_active: bool


class MergeMoves(TypedDict):
    """What a merge moved (`PersonMerge.moved`), so that `reverse_merge` can put it back."""

    case_members: list[MovedMembership]
    network_members: list[str]
    contacts: list[str]
    principal_subject: str | None


async def likely_duplicates(session: AsyncSession, person_id: uuid.UUID) -> list[tuple[Person, float]]:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("no such person")
    conditions = [func.lower(Person.last_name) == person.last_name.lower()]
    if person.date_of_birth is not None:
        conditions.append(col(Person.date_of_birth) == person.date_of_birth)
    candidates = (
        await session.execute(
            select(Person)
            .where(col(Person.id) != person.id, col(Person.merged_into_id).is_(None), or_(*conditions))
            .limit(500)
        )
    ).scalars()
    return suggest_duplicates(person, list(candidates))


async def merge_persons(
    session: AsyncSession, survivor_id: uuid.UUID, merged_id: uuid.UUID, *, actor: str, now: datetime
) -> PersonMerge:
    """Move everything of `merged` onto `survivor`, recording exactly what moved so it can be reversed.
    A membership the survivor already has in the same case and role is not duplicated: the merged
    record's row is made inactive (and reactivated on reversal)."""
    if survivor_id == merged_id:
        raise InvalidInput.field("merged_id", "a person cannot be merged into themself")
    survivor, merged = await session.get(Person, survivor_id), await session.get(Person, merged_id)
    errors = [
        {"field": f, "message": "no such person"}
        for f, p in (("survivor_id", survivor), ("merged_id", merged))
        if p is None
    ]
    if errors:
        raise InvalidInput(errors)
    assert survivor is not None and merged is not None
    if survivor.merged_into_id or merged.merged_into_id:
        raise MergeNotPossible("one of these records is already merged into another; reverse that first")
    moved: MergeMoves = {"case_members": [], "network_members": [], "contacts": [], "principal_subject": None}
    survivor_roles = {
        (m.case_id, str(m.role))
        for m in (await session.execute(select(CaseMember).where(col(CaseMember.person_id) == survivor.id))).scalars()
    }
    for m in (await session.execute(select(CaseMember).where(col(CaseMember.person_id) == merged.id))).scalars():
        if (m.case_id, str(m.role)) in survivor_roles:
            moved["case_members"].append({"id": str(m.id), "moved": False, "was_active": m.active})
            m.active = False
        else:
            moved["case_members"].append({"id": str(m.id), "moved": True, "was_active": m.active})
            m.person_id = survivor.id
        m.version += 1
        m.updated_at = now
    survivor_networks = {
        n.case_id
        for n in (
            await session.execute(select(NetworkMember).where(col(NetworkMember.person_id) == survivor.id))
        ).scalars()
    }
    for n in (await session.execute(select(NetworkMember).where(col(NetworkMember.person_id) == merged.id))).scalars():
        if n.case_id not in survivor_networks:
            moved["network_members"].append(str(n.id))
            n.person_id = survivor.id
    for c in (await session.execute(select(ContactMethod).where(col(ContactMethod.person_id) == merged.id))).scalars():
        moved["contacts"].append(str(c.id))
        c.person_id = survivor.id
    if merged.principal_subject and not survivor.principal_subject:
        moved["principal_subject"] = merged.principal_subject
        survivor.principal_subject, merged.principal_subject = merged.principal_subject, None
    merged.merged_into_id = survivor.id
    for p in (survivor, merged):
        p.version += 1
        p.updated_at = now
    record = PersonMerge(
        survivor_id=survivor.id, merged_id=merged.id, moved=dict(moved), merged_by=actor, merged_at=now
    )
    session.add(record)
    await session.flush()
    await record_change(
        session,
        subject="sop.network.person.merged",
        data={"merge_id": str(record.id), "survivor_id": str(survivor.id), "merged_id": str(merged.id)},
    )
    await announce_cases_of_children(session, [survivor.id, merged.id])
    return record


async def reverse_merge(session: AsyncSession, merge_id: uuid.UUID, *, actor: str, now: datetime) -> PersonMerge:
    """Put back exactly what the merge moved. Versions move forward (never reused), content is restored."""
    record = await session.get(PersonMerge, merge_id)
    if record is None:
        raise NotFound("no such merge")
    if record.reversed_at is not None:
        raise AlreadyReversed(f"reversed at {record.reversed_at.isoformat()} by {record.reversed_by}")
    survivor, merged = await session.get(Person, record.survivor_id), await session.get(Person, record.merged_id)
    assert survivor is not None and merged is not None
    if merged.merged_into_id != survivor.id:
        raise MergeNotPossible("the merged record has changed since; it is no longer merged into the survivor")
    moved = cast(MergeMoves, record.moved)  # written by merge_persons
    for entry in moved["case_members"]:
        member = await session.get(CaseMember, uuid.UUID(entry["id"]))
        if member is None:
            continue
        member.person_id = merged.id
        member.active = entry["was_active"]
        member.version += 1
        member.updated_at = now
    for raw in moved["network_members"]:
        network_member = await session.get(NetworkMember, uuid.UUID(raw))
        if network_member is not None:
            network_member.person_id = merged.id
    for raw in moved["contacts"]:
        contact = await session.get(ContactMethod, uuid.UUID(raw))
        if contact is not None:
            contact.person_id = merged.id
    if principal_subject := moved.get("principal_subject"):
        merged.principal_subject, survivor.principal_subject = principal_subject, None
    merged.merged_into_id = None
    for p in (survivor, merged):
        p.version += 1
        p.updated_at = now
    record.reversed_at, record.reversed_by = now, actor
    await session.flush()
    await record_change(
        session,
        subject="sop.network.person.unmerged",
        data={"merge_id": str(record.id), "survivor_id": str(survivor.id), "merged_id": str(merged.id)},
    )
    await announce_cases_of_children(session, [survivor.id, merged.id])
    return record


async def crosswalk_lookup(session: AsyncSession, system: str, external_id: str) -> tuple[Person | None, Person]:
    record, live = await resolve_person(session, system, external_id)
    if live is None:
        raise NotFound("no person has this external id")
    return record, live


async def crosswalk_link(session: AsyncSession, system: str, external_id: str, person_id: uuid.UUID) -> Person:
    """Record that (system, external_id) also names `person_id`. Refused (409) when the id already names
    someone else: the crosswalk never holds two answers for one id."""
    person = await session.get(Person, person_id)
    if person is None or person.merged_into_id is not None:
        raise InvalidInput.field("person_id", "no such person")
    record, live = await resolve_person(session, system, external_id)
    if live is not None and live.id != person.id:
        raise AmbiguousMatch(f"{system} {external_id} already names another person", candidates=[str(live.id)])
    existing = (
        await session.execute(
            select(PersonAlias).where(
                col(PersonAlias.external_system) == system, col(PersonAlias.external_id) == external_id
            )
        )
    ).scalar_one_or_none()
    if existing is None and record is None:
        session.add(PersonAlias(external_system=system, external_id=external_id, person_id=person.id))
        await session.flush()
        await record_change(
            session,
            subject="sop.network.person.crosswalk_linked",
            data={"person_id": str(person.id), "external_system": system, "external_id": external_id},
        )
    return person


async def _person_in_case(session: AsyncSession, case_id: uuid.UUID, person_id: uuid.UUID) -> Person:
    person = await session.get(Person, person_id)
    in_case = (
        await session.execute(
            select(col(CaseMember.id)).where(col(CaseMember.case_id) == case_id, col(CaseMember.person_id) == person_id)
        )
    ).first() or (
        await session.execute(
            select(col(NetworkMember.id)).where(
                col(NetworkMember.case_id) == case_id, col(NetworkMember.person_id) == person_id
            )
        )
    ).first()
    if person is None or not in_case:
        raise NotFound("no such person in this case")
    return person


async def clear_principal(session: AsyncSession, case_id: uuid.UUID, person_id: uuid.UUID, *, now: datetime) -> Person:
    """End the login a family or network member of this case uses: access stops at once. Binding a login is
    not done here: the person redeems an invitation (`redeem_login_invitation`)."""
    person = await _person_in_case(session, case_id, person_id)
    if person.principal_subject is not None:
        person.principal_subject = None
        person.version += 1
        person.updated_at = now
        await session.flush()
        await record_change(
            session,
            subject="sop.network.person.principal_set",
            case_id=case_id,
            data={"case_id": str(case_id), "person_id": str(person.id), "has_login": False},
        )
    return person


def invitation_code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class NoSuchInvitation(NotFound):
    """Every reason a code cannot be redeemed answers alike: unknown, used, expired, or a login that already
    belongs to someone — so a code tells nobody whether a login or a person exists elsewhere."""

    def __init__(self) -> None:
        super().__init__("no such invitation, or it can no longer be used")


async def invite_to_login(
    session: AsyncSession, case_id: uuid.UUID, person_id: uuid.UUID, *, by: str, now: datetime, valid_for: timedelta
) -> tuple[LoginInvitation, str]:
    """A one-time code the worker hands to a caregiver or network member of this case (the code is returned
    once; only its hash is kept). A person who already has a login needs it ended first, on the record."""
    person = await _person_in_case(session, case_id, person_id)
    if person.principal_subject is not None:
        raise InvalidInput.field("person_id", "this person already has a login; end it before inviting again")
    code = secrets.token_urlsafe(24)
    invitation = LoginInvitation(
        case_id=case_id,
        person_id=person.id,
        code_hash=invitation_code_hash(code),
        created_by=by,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invitation)
    await session.flush()
    await record_change(
        session,
        subject="sop.network.person.login_invited",
        case_id=case_id,
        data={"case_id": str(case_id), "person_id": str(person.id), "invitation_id": str(invitation.id)},
    )
    return invitation, code


async def redeem_login_invitation(
    session: AsyncSession, code: str, *, subject: str, now: datetime
) -> tuple[LoginInvitation, Person]:
    """Bind the redeeming caller's own login to the invited person, once."""
    invitation = (
        await session.execute(
            select(LoginInvitation)
            .where(col(LoginInvitation.code_hash) == invitation_code_hash(code))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if invitation is None or invitation.redeemed_at is not None or invitation.expires_at <= now:
        raise NoSuchInvitation()
    person = await session.get(Person, invitation.person_id)
    taken = (await session.execute(select(col(Person.id)).where(col(Person.principal_subject) == subject))).first()
    if person is None or person.principal_subject is not None or taken is not None:
        raise NoSuchInvitation()
    invitation.redeemed_at, invitation.redeemed_by = now, subject
    person.principal_subject = subject
    person.version += 1
    person.updated_at = now
    await session.flush()
    await record_change(
        session,
        subject="sop.network.person.principal_set",
        case_id=invitation.case_id,
        data={"case_id": str(invitation.case_id), "person_id": str(person.id), "has_login": True},
    )
    return invitation, person
