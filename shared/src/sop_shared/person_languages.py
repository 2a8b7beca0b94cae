"""The languages people read, as the network service announces them: every event that names people in a case
(a case created or updated, a person created or updated, a network member added) carries `people`, one entry
per person with their `preferred_language`, whether they `needs_interpreter`, and the person record's
`version`. Another service keeps the newest entry per person in its own `person_language` table, so it can
ask "what does this signer read?" without calling or importing the network service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Uuid, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.db import UTCDateTime, utcnow
from sop_shared.events import Event
from sop_shared.service import EventConsumer

PEOPLE_KEY = "people"
# The network's events that carry `people` (the same subjects that announce people in cases).
PERSON_LANGUAGE_SUBJECTS = (
    "sop.network.case.created",
    "sop.network.case.updated",
    "sop.network.person.created",
    "sop.network.person.updated",
    "sop.network.network_member.added",
)


@dataclass(frozen=True)
class PersonLanguage:
    person_id: uuid.UUID
    preferred_language: str
    needs_interpreter: bool
    version: int

    def to_event(self) -> dict[str, Any]:
        return {
            "person_id": str(self.person_id),
            "preferred_language": self.preferred_language,
            "needs_interpreter": self.needs_interpreter,
            "version": self.version,
        }


def people_in(event: Event) -> list[PersonLanguage]:
    """The entries an event carries (none for an event written before events carried them)."""
    found = []
    for entry in event.data.get(PEOPLE_KEY) or []:
        try:
            found.append(
                PersonLanguage(
                    person_id=uuid.UUID(str(entry["person_id"])),
                    preferred_language=str(entry["preferred_language"]),
                    needs_interpreter=bool(entry.get("needs_interpreter", False)),
                    version=int(entry.get("version") or 0),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a malformed entry says nothing about anyone
    return found


def define_person_language_table(metadata: MetaData) -> Table:
    """What this service knows of the languages people read, learnt from the network's events."""
    return Table(
        "person_language",
        metadata,
        Column("person_id", Uuid, primary_key=True),
        Column("preferred_language", String(35), nullable=False),
        Column("needs_interpreter", Boolean, nullable=False),
        Column("person_version", Integer, nullable=False),  # the person record's version the entry is from
        Column("source_event_id", Uuid, nullable=True),
        Column("recorded_at", UTCDateTime, nullable=False),
    )


async def record_person_languages(session: AsyncSession, table: Table, event: Event) -> int:
    """Keep the newest entry per person: an entry from an older version of the person record (events can
    arrive out of order) changes nothing. Returns how many people were recorded or updated."""
    recorded = 0
    for entry in people_in(event):
        values = {
            "preferred_language": entry.preferred_language,
            "needs_interpreter": entry.needs_interpreter,
            "person_version": entry.version,
            "source_event_id": event.id,
            "recorded_at": utcnow(),
        }
        if await _newer_known(session, table, entry):
            continue
        try:
            async with session.begin_nested():
                if await _known_version(session, table, entry.person_id) is None:
                    await session.execute(insert(table).values(person_id=entry.person_id, **values))
                else:
                    await session.execute(update(table).where(table.c.person_id == entry.person_id).values(**values))
        except IntegrityError:  # another consumer recorded this person first: keep the newer of the two
            if await _newer_known(session, table, entry):
                continue
            await session.execute(update(table).where(table.c.person_id == entry.person_id).values(**values))
        recorded += 1
    return recorded


async def _known_version(session: AsyncSession, table: Table, person_id: uuid.UUID) -> int | None:
    version: int | None = (
        await session.execute(select(table.c.person_version).where(table.c.person_id == person_id))
    ).scalar_one_or_none()
    return version


async def _newer_known(session: AsyncSession, table: Table, entry: PersonLanguage) -> bool:
    known = await _known_version(session, table, entry.person_id)
    return known is not None and known > entry.version


async def person_language(session: AsyncSession, table: Table, person_id: uuid.UUID) -> PersonLanguage | None:
    row = (await session.execute(select(table).where(table.c.person_id == person_id))).mappings().first()
    if row is None:
        return None
    return PersonLanguage(
        person_id=row["person_id"],
        preferred_language=row["preferred_language"],
        needs_interpreter=row["needs_interpreter"],
        version=row["person_version"],
    )


def person_language_consumers(component: str, table: Table) -> list[EventConsumer]:
    """The consumers that keep `table` from the network's events, one per subject (for `build_service_app`)."""

    async def apply(app: FastAPI, session: AsyncSession, event: Event) -> None:
        await record_person_languages(session, table, event)

    return [
        EventConsumer(subject, f"{component}-person-language-{subject.replace('.', '-')}", apply)
        for subject in PERSON_LANGUAGE_SUBJECTS
    ]
