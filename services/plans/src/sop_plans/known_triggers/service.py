"""The known triggers of a case's children and caregivers, from the assessment service's trauma-history events
(`sop.assessment.trauma_history.recorded|updated`: whose, and the triggers' ids — never the words). Each event is
applied once per event id (`sop_shared.service.EventConsumer`) and by content too: the newest history version
wins, an older one arriving late changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.models import KnownTriggers
from sop_shared.events import Event
from sop_shared.service import EventConsumer

SUBJECTS = ("sop.assessment.trauma_history.recorded", "sop.assessment.trauma_history.updated")


async def apply_trauma_history(session: AsyncSession, event: Event) -> KnownTriggers | None:
    """Keep whose triggers these are and their ids, at the history's newest version (None: nothing to keep — an
    event from before triggers had ids, which the assessment's upgrade announces again with them)."""
    data = event.data
    if "trigger_ids" not in data:
        return None
    history_id = uuid.UUID(str(data["trauma_history_id"]))
    version = int(data.get("version") or 1)
    row = await session.get(KnownTriggers, history_id)
    if row is not None and row.history_version > version:
        return row  # a newer version is kept already
    values: dict[str, Any] = {
        "case_id": uuid.UUID(str(data["case_id"])),
        "person_id": uuid.UUID(str(data["person_id"])) if data.get("person_id") else None,
        "person_role": str(data.get("person_role") or "child"),
        "trigger_ids": [str(t) for t in data.get("trigger_ids") or []],
        "history_version": version,
    }
    if row is None:
        row = KnownTriggers(trauma_history_id=history_id, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    await session.flush()
    return row


async def _on_trauma_history(app: FastAPI, session: AsyncSession, event: Event) -> None:
    await apply_trauma_history(session, event)


CONSUMERS = tuple(
    EventConsumer(subject, f"plans-known-triggers-{subject.rsplit('.', 1)[-1]}", _on_trauma_history)
    for subject in SUBJECTS
)


async def known_triggers_of(
    session: AsyncSession, case_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[KnownTriggers]]:
    """The known triggers of each case's people (only those with any), in the order their histories were
    recorded."""
    ids = set(case_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(KnownTriggers).where(col(KnownTriggers.case_id).in_(ids)).order_by(col(KnownTriggers.trauma_history_id))
    )
    found: dict[uuid.UUID, list[KnownTriggers]] = {}
    for row in rows.scalars():
        if row.trigger_ids:
            found.setdefault(row.case_id, []).append(row)
    return found
