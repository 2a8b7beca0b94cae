"""The practitioner registry and coaches' caseloads: reads and writes, each write with its event (outbox)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_practice.models import CaseloadEntry, PracticeRole, Practitioner, platform
from sop_practice.people.rules import check_caseload_entry, check_practitioner
from sop_practice.schemas import (
    CaseloadEntryIn,
    CaseloadEntryOut,
    CaseloadOut,
    PractitionerIn,
    PractitionerOut,
    PractitionerUpdate,
)
from sop_shared.concurrency import check_version
from sop_shared.outbox import emit
from sop_shared.problems import Conflict, NotFound


class AlreadyRegistered(Conflict):
    slug, title = "already-registered", "This person is already registered with the practice service"


class AlreadyOnCaseload(Conflict):
    slug, title = "already-on-caseload", "This worker or unit is already on the coach's caseload"


class CaseloadEntryEnded(Conflict):
    slug, title = "caseload-entry-ended", "This caseload entry has already ended"


def practitioner_out(person: Practitioner) -> PractitionerOut:
    return PractitionerOut.model_validate(person, from_attributes=True)


def entry_out(entry: CaseloadEntry) -> CaseloadEntryOut:
    return CaseloadEntryOut.model_validate(entry, from_attributes=True)


def _event_data(person: Practitioner) -> dict[str, Any]:
    return {"subject": person.subject, "roles": list(person.roles), "unit": person.unit, "county": person.county}


async def _caseload_event(session: AsyncSession, event: str, entry: CaseloadEntry) -> None:
    data = {"entry_id": str(entry.id), "coach": entry.coach_subject, "worker": entry.worker_subject, "unit": entry.unit}
    await emit(session, platform, subject=f"sop.practice.caseload.{event}", data=data)


async def find_person(session: AsyncSession, subject: str) -> Practitioner | None:
    return (await session.execute(select(Practitioner).where(col(Practitioner.subject) == subject))).scalar()


async def get_person(session: AsyncSession, subject: str) -> Practitioner:
    person = await find_person(session, subject)
    if person is None:
        raise NotFound("no such practitioner")
    return person


async def register(session: AsyncSession, body: PractitionerIn) -> Practitioner:
    check_practitioner(body, subject=body.subject)
    if await find_person(session, body.subject) is not None:
        raise AlreadyRegistered(f"{body.subject} is registered; change them with PATCH /v1/people/{body.subject}")
    person = Practitioner(**body.model_dump(exclude={"roles"}), roles=[r.value for r in body.roles])
    session.add(person)
    await session.flush()
    await emit(session, platform, subject="sop.practice.practitioner.registered", data=_event_data(person))
    return person


async def update_person(
    session: AsyncSession, subject: str, body: PractitionerUpdate, *, expected_version: int, now: datetime
) -> Practitioner:
    person = await get_person(session, subject)
    check_version(person.version, expected_version)
    check_practitioner(body, subject=subject)
    changes = body.model_dump(exclude_unset=True)
    if "roles" in changes:
        changes["roles"] = [PracticeRole(r).value for r in changes["roles"]]
    for name, value in changes.items():
        setattr(person, name, value)
    person.version += 1
    person.updated_at = now
    await session.flush()
    data = {**_event_data(person), "changed": sorted(changes), "active": person.active}
    await emit(session, platform, subject="sop.practice.practitioner.updated", data=data)
    return person


async def list_people(session: AsyncSession, *, role: PracticeRole | None, unit: str | None) -> list[Practitioner]:
    query = select(Practitioner).order_by(col(Practitioner.subject))
    if unit is not None:
        query = query.where(col(Practitioner.unit) == unit)
    people = list((await session.execute(query)).scalars())
    return [p for p in people if role is None or role.value in p.roles]  # roles is a JSON list


async def assign_to_caseload(
    session: AsyncSession, coach_subject: str, body: CaseloadEntryIn, *, actor: str, today: date
) -> CaseloadEntry:
    coach = await find_person(session, coach_subject)
    worker = await find_person(session, body.worker_subject) if body.worker_subject is not None else None
    check_caseload_entry(body, coach=coach, worker=worker, today=today)
    same = (
        col(CaseloadEntry.worker_subject) == body.worker_subject
        if body.worker_subject is not None
        else col(CaseloadEntry.unit) == body.unit
    )
    open_entry = await session.execute(
        select(col(CaseloadEntry.id)).where(
            col(CaseloadEntry.coach_subject) == coach_subject, col(CaseloadEntry.ended_on).is_(None), same
        )
    )
    if open_entry.first() is not None:
        raise AlreadyOnCaseload(f"already on {coach_subject}'s caseload")
    entry = CaseloadEntry(
        coach_subject=coach_subject,
        worker_subject=body.worker_subject,
        unit=body.unit,
        started_on=body.started_on or today,
        assigned_by=actor,
    )
    session.add(entry)
    await session.flush()
    await _caseload_event(session, "assigned", entry)
    return entry


async def end_caseload_entry(
    session: AsyncSession, coach_subject: str, entry_id: uuid.UUID, *, reason: str, expected_version: int, today: date
) -> CaseloadEntry:
    entry = await session.get(CaseloadEntry, entry_id)
    if entry is None or entry.coach_subject != coach_subject:
        raise NotFound("no such caseload entry")
    check_version(entry.version, expected_version)
    if entry.ended_on is not None:
        raise CaseloadEntryEnded(f"ended on {entry.ended_on.isoformat()}")
    entry.ended_on, entry.end_reason = today, reason
    entry.version += 1
    await session.flush()
    await _caseload_event(session, "ended", entry)
    return entry


async def caseload(session: AsyncSession, coach_subject: str) -> CaseloadOut:
    entries = list(
        (
            await session.execute(
                select(CaseloadEntry)
                .where(col(CaseloadEntry.coach_subject) == coach_subject, col(CaseloadEntry.ended_on).is_(None))
                .order_by(col(CaseloadEntry.id))
            )
        ).scalars()
    )
    named = [e.worker_subject for e in entries if e.worker_subject is not None]
    units = [e.unit for e in entries if e.unit is not None]
    workers: list[Practitioner] = []
    if named or units:
        query = (
            select(Practitioner)
            .where(
                or_(col(Practitioner.subject).in_(named), col(Practitioner.unit).in_(units)),
                col(Practitioner.active).is_(True),
            )
            .order_by(col(Practitioner.subject))
        )
        found = (await session.execute(query)).scalars()
        workers = [p for p in found if p.subject in named or PracticeRole.worker.value in p.roles]
    return CaseloadOut(
        coach_subject=coach_subject,
        entries=[entry_out(e) for e in entries],
        workers=[practitioner_out(p) for p in workers],
    )
