"""A case's SACWIS history beyond the case itself: its reports and its children's removals (optional in a batch).

`None` in a batch record: SACWIS said nothing, keep what is stored. A list: the records by external id; a new one is
added, a changed one updated (its version goes up), one no longer listed stays, inactive, like a case member."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.models import CaseRemoval, CaseReport
from sop_network.schemas import CaseUpsert, RemovalIn, ReportIn
from sop_shared.db import utcnow
from sop_shared.ids import new_id

REPORT_FIELDS = ("received_on", "screened_in", "investigation_started_on", "disposition", "disposition_on", "children")
REMOVAL_FIELDS = ("child", "removed_on", "discharged_on", "discharge_reason")


def _values(record: ReportIn | RemovalIn, fields: Sequence[str]) -> dict[str, Any]:
    values = {f: getattr(record, f) for f in fields}
    for name in ("disposition", "discharge_reason"):
        if name in values and values[name] is not None:
            values[name] = str(values[name])
    return values


def _stored(row: CaseReport | CaseRemoval, fields: Sequence[str]) -> dict[str, Any]:
    return {f: getattr(row, f) for f in fields}


def report_rows(case_id: uuid.UUID, body: CaseUpsert, now: datetime) -> list[dict[str, Any]]:
    """The rows a new case's reports insert (the batch's bulk path)."""
    return [
        {"id": new_id(), "case_id": case_id, "external_id": r.external_id, **_values(r, REPORT_FIELDS)}
        | {"active": True, "version": 1, "created_at": now, "updated_at": now}
        for r in body.reports or []
    ]


def removal_rows(
    case_id: uuid.UUID, body: CaseUpsert, person_ids: Mapping[str, uuid.UUID], now: datetime
) -> list[dict[str, Any]]:
    """The rows a new case's removals insert, each linked to the child's person record."""
    return [
        {"id": new_id(), "case_id": case_id, "external_id": r.external_id, **_values(r, REMOVAL_FIELDS)}
        | {"person_id": person_ids.get(r.child), "active": True, "version": 1, "created_at": now, "updated_at": now}
        for r in body.removals or []
    ]


def history_unchanged(body: CaseUpsert, reports: Sequence[CaseReport], removals: Sequence[CaseRemoval]) -> bool:
    """Whether the record's reports and removals are what is stored (None: nothing said, unchanged)."""
    for records, rows, fields in ((body.reports, reports, REPORT_FIELDS), (body.removals, removals, REMOVAL_FIELDS)):
        if records is None:
            continue
        active = {row.external_id: _stored(row, fields) for row in rows if row.active}
        if active != {r.external_id: _values(r, fields) for r in records}:
            return False
    return True


async def sync_history(
    session: AsyncSession, case_id: uuid.UUID, body: CaseUpsert, person_ids: Mapping[str, uuid.UUID]
) -> list[str]:
    """Bring the case's reports and removals to what the record says; the names of what changed."""
    changed: list[str] = []
    if body.reports is not None and await _sync(session, CaseReport, case_id, body.reports, REPORT_FIELDS, {}):
        changed.append("reports")
    if body.removals is not None and await _sync(
        session, CaseRemoval, case_id, body.removals, REMOVAL_FIELDS, person_ids
    ):
        changed.append("removals")
    return changed


async def _sync(
    session: AsyncSession,
    model: type[CaseReport] | type[CaseRemoval],
    case_id: uuid.UUID,
    records: Sequence[ReportIn | RemovalIn],
    fields: Sequence[str],
    person_ids: Mapping[str, uuid.UUID],
) -> bool:
    found = await session.execute(select(model).where(col(model.case_id) == case_id))
    rows = cast(Sequence[CaseReport | CaseRemoval], found.scalars().all())
    existing = {row.external_id: row for row in rows}
    changed = False
    now = utcnow()
    for record in records:
        values = _values(record, fields)
        if isinstance(record, RemovalIn):
            values["person_id"] = person_ids.get(record.child)
        row = existing.get(record.external_id)
        if row is None:
            session.add(model(case_id=case_id, external_id=record.external_id, **values))
            changed = True
        elif not row.active or _stored(row, fields) != {f: values[f] for f in fields}:
            for name, value in values.items():
                setattr(row, name, value)
            row.active = True
            row.version += 1
            row.updated_at = now
            changed = True
    listed = {r.external_id for r in records}
    for external_id, row in existing.items():
        if external_id not in listed and row.active:
            row.active = False
            row.version += 1
            row.updated_at = now
            changed = True
    return changed
