"""`sop.network.case.reporting_facts` as the network service announces it, made from a SACWIS case record (the
batch's `data`), for the practice service's outcome tests; the network's own test checks that it announces exactly
this. Fictional: the records the tests send are."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sop_shared.events import Event

SUBJECT = "sop.network.case.reporting_facts"


def person_id(external_id: str) -> uuid.UUID:
    """A stable platform id for a SACWIS person id (the practice tests have no network to hand them out)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"sacwis-person:{external_id}")


def reporting_facts(
    case_id: uuid.UUID,
    external_id: str,
    data: dict[str, Any],
    *,
    version: int = 1,
    person_ids: dict[str, uuid.UUID] | None = None,
    system: str = "CHRIS",
) -> dict[str, Any]:
    """The event's data for the case SACWIS sent as `data` (its people, assignments, reports and removals)."""
    ids = person_ids or {}

    def pid(ext: str) -> str:
        return str(ids.get(ext) or person_id(ext))

    children = sorted(
        (m["person"] for m in data.get("members", []) if m["role"] == "child"), key=lambda p: p["external_id"]
    )
    assignments = data.get("assignments", [])

    def first(role: str) -> str | None:
        return next((a["staff_subject"] for a in assignments if a["role"] == role), None)

    return {
        "case_id": str(case_id),
        "version": version,
        "external_system": system,
        "external_id": external_id,
        "county": data.get("county"),
        "status": data.get("status", "open"),
        "opened_on": data.get("opened_on"),
        "closed_on": data.get("closed_on"),
        "worker": first("worker"),
        "supervisor": first("supervisor"),
        "units": sorted({a["unit"] for a in assignments if a.get("unit")}),
        "children": [
            {
                "person_id": pid(p["external_id"]),
                "external_id": p["external_id"],
                "date_of_birth": p.get("date_of_birth"),
            }
            for p in children
        ],
        "reports": sorted(
            (
                {
                    "external_id": r["external_id"],
                    "received_on": r["received_on"],
                    "screened_in": r.get("screened_in", True),
                    "investigation_started_on": r.get("investigation_started_on"),
                    "disposition": r.get("disposition"),
                    "disposition_on": r.get("disposition_on"),
                    "children": r.get("children", []),
                }
                for r in data.get("reports", [])
            ),
            key=lambda r: r["external_id"],
        ),
        "removals": sorted(
            (
                {
                    "external_id": v["external_id"],
                    "child": v["child"],
                    "person_id": pid(v["child"]),
                    "removed_on": v["removed_on"],
                    "discharged_on": v.get("discharged_on"),
                    "discharge_reason": v.get("discharge_reason"),
                }
                for v in data.get("removals", [])
            ),
            key=lambda v: v["external_id"],
        ),
    }


def reporting_event(case_id: uuid.UUID, external_id: str, data: dict[str, Any], *, version: int = 1) -> Event:
    return Event(
        uuid.uuid4(),
        SUBJECT,
        datetime.now(UTC),
        reporting_facts(case_id, external_id, data, version=version),
        case_id,
    )


def announced(case_id: uuid.UUID, external_id: str, data: dict[str, Any], *, version: int = 1) -> list[Event]:
    """What the network announces with a case's creation or change: `case.created|updated` (as much of it as the
    practice service reads) and `case.reporting_facts`, in one transaction."""
    staff = sorted(
        (
            {"subject": a["staff_subject"], "role": a["role"], "unit": a.get("unit")}
            for a in data.get("assignments", [])
        ),
        key=lambda a: (a["role"], a["subject"]),
    )
    case = Event(
        uuid.uuid4(),
        f"sop.network.case.{'created' if version == 1 else 'updated'}",
        datetime.now(UTC),
        {
            "case_id": str(case_id),
            "external_system": "CHRIS",
            "external_id": external_id,
            "version": version,
            "staff": staff,
            "people": [],
            "county": data.get("county"),
            "status": data.get("status", "open"),
            "opened_on": data.get("opened_on"),
        },
        case_id,
    )
    return [case, reporting_event(case_id, external_id, data, version=version)]
