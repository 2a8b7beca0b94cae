"""`sop.network.case.reporting_facts`: what the practice service's outcome measures and federal extract need of a
case, announced in the transaction that changes the case (with every `case.created|updated`).

One event carries the case's whole current facts, at the case's version: a consumer replaces what it holds when the
version is not older, so applying it twice, or an older one late, changes nothing. Ids (the platform's UUIDs, and the
ids SACWIS gave the case, its children, reports and removals, which the federal files and their data-quality list
name), dates, codes, the county and the staff's subjects and units: never a name or any words."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.changes.service import Change, record_changes
from sop_network.models import Case, CaseMember, CaseRemoval, CaseReport, MemberRole, Person, StaffAssignment

REPORTING_FACTS = "sop.network.case.reporting_facts"
CHUNK = 500


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _chunks(ids: Sequence[uuid.UUID]) -> Iterable[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


async def reporting_facts(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Each case's reporting facts as the event carries them (the cases' rows as the session sees them now)."""
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for ids in _chunks(list(case_ids)):
        found.update(await _facts(session, ids))
    return found


async def _facts(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    cases = (await session.execute(select(Case).where(col(Case.id).in_(case_ids)))).scalars().all()
    children = await session.execute(
        select(col(CaseMember.case_id), col(Person.id), col(Person.external_id), col(Person.date_of_birth))
        .join(Person, col(Person.id) == col(CaseMember.person_id))
        .where(col(CaseMember.case_id).in_(case_ids), col(CaseMember.role) == MemberRole.child)
    )
    reports = (
        await session.execute(
            select(CaseReport).where(col(CaseReport.case_id).in_(case_ids), col(CaseReport.active).is_(True))
        )
    ).scalars()
    removals = (
        await session.execute(
            select(CaseRemoval).where(col(CaseRemoval.case_id).in_(case_ids), col(CaseRemoval.active).is_(True))
        )
    ).scalars()
    assignments = (
        await session.execute(
            select(StaffAssignment)
            .where(col(StaffAssignment.case_id).in_(case_ids))
            .order_by(col(StaffAssignment.created_at), col(StaffAssignment.id))
        )
    ).scalars()
    return facts_of(
        cases, [(r[0], r[1], r[2], r[3]) for r in children], list(reports), list(removals), list(assignments)
    )


def facts_of(
    cases: Iterable[Any],
    children_rows: Iterable[tuple[uuid.UUID, uuid.UUID, str | None, date | None]],
    report_rows: Iterable[Any],
    removal_rows: Iterable[Any],
    assignment_rows: Iterable[Any],
    field: Callable[[Any, str], Any] = getattr,
) -> dict[uuid.UUID, dict[str, Any]]:
    """The reporting facts of these cases from their rows (stored rows, or the rows a bulk write is about to
    store; `field(row, name)` reads a column: `getattr` of model objects, `operator.getitem` of dicts): the
    cases' child members as (case id, person id, person external id, date of birth); their reports, removals
    and staff assignments, active or not."""
    children: dict[uuid.UUID, dict[str, dict[str, Any]]] = {}
    by_person: dict[uuid.UUID, str] = {}
    for case_id, person_id, external_id, born in children_rows:
        child_id = external_id or str(person_id)
        children.setdefault(case_id, {})[child_id] = {
            "person_id": str(person_id),
            "external_id": child_id,
            "date_of_birth": _iso(born),
        }
        by_person[person_id] = child_id
    reports: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for r in report_rows:
        if not field(r, "active"):
            continue
        reports.setdefault(field(r, "case_id"), []).append(
            {
                "external_id": field(r, "external_id"),
                "received_on": _iso(field(r, "received_on")),
                "screened_in": field(r, "screened_in"),
                "investigation_started_on": _iso(field(r, "investigation_started_on")),
                "disposition": field(r, "disposition"),
                "disposition_on": _iso(field(r, "disposition_on")),
                "children": list(field(r, "children")),
            }
        )
    removals: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for v in removal_rows:
        if not field(v, "active"):
            continue
        linked = field(v, "person_id")
        removals.setdefault(field(v, "case_id"), []).append(
            {
                "external_id": field(v, "external_id"),
                # the child as linked (a merged record's survivor keeps the id SACWIS sent)
                "child": by_person.get(linked, field(v, "child")) if linked else field(v, "child"),
                "person_id": str(linked) if linked else None,
                "removed_on": _iso(field(v, "removed_on")),
                "discharged_on": _iso(field(v, "discharged_on")),
                "discharge_reason": field(v, "discharge_reason"),
            }
        )
    staff: dict[tuple[uuid.UUID, str], str] = {}
    units: dict[uuid.UUID, set[str]] = {}
    # the first assigned is named (stored rows come in this order already)
    for a in sorted(assignment_rows, key=lambda a: (field(a, "created_at"), field(a, "id"))):
        if field(a, "unit"):  # a unit's cases: its staff on them, now or before
            units.setdefault(field(a, "case_id"), set()).add(field(a, "unit"))
        if field(a, "active"):
            staff.setdefault((field(a, "case_id"), str(field(a, "role"))), field(a, "staff_subject"))
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for c in cases:
        case_id = field(c, "id")
        found[case_id] = {
            "case_id": str(case_id),
            "version": field(c, "version"),
            "external_system": field(c, "external_system"),
            "external_id": field(c, "external_id"),
            "county": field(c, "county"),
            "status": str(field(c, "status")),
            "opened_on": _iso(field(c, "opened_on")),
            "closed_on": _iso(field(c, "closed_on")),
            "worker": staff.get((case_id, "worker")),
            "supervisor": staff.get((case_id, "supervisor")),
            "units": sorted(units.get(case_id, ())),
            "children": [children[case_id][k] for k in sorted(children.get(case_id, {}))],
            "reports": sorted(reports.get(case_id, []), key=lambda r: r["external_id"]),
            "removals": sorted(removals.get(case_id, []), key=lambda r: r["external_id"]),
        }
    return found


async def reporting_changes(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> list[Change]:
    """The `case.reporting_facts` changes of these cases, to record with the change that made them."""
    await session.flush()
    return facts_changes(await reporting_facts(session, case_ids), case_ids)


def facts_changes(found: dict[uuid.UUID, dict[str, Any]], case_ids: Sequence[uuid.UUID]) -> list[Change]:
    """The `case.reporting_facts` changes of these cases' facts (`facts_of`), in the cases' order."""
    return [Change(REPORTING_FACTS, found[case_id], case_id=case_id) for case_id in case_ids if case_id in found]


async def announce_cases_of_children(session: AsyncSession, person_ids: Sequence[uuid.UUID]) -> None:
    """Announce again the reporting facts of the cases where these people are children (a birth date changed
    without the case changing, a merge or its reversal moved a child): at the case's version, which a consumer
    takes as it takes a newer one."""
    await session.flush()
    rows = await session.execute(
        select(col(CaseMember.case_id))
        .where(col(CaseMember.person_id).in_(person_ids), col(CaseMember.role) == MemberRole.child)
        .union(select(col(CaseRemoval.case_id)).where(col(CaseRemoval.person_id).in_(person_ids)))
    )
    case_ids = sorted({r[0] for r in rows})
    if case_ids:
        await record_changes(session, await reporting_changes(session, case_ids))
