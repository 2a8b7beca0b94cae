"""A year of fictional practice history for `sop dev`, so the practice dashboards have something to draw: cases
SACWIS opened in each of the last four quarters in Ms. Okafor's unit (Pulaski-3, Ms. Rivera's and Mr. Lindqvist's)
and in two other units, with maps and safety networks recorded on more of Pulaski-3's cases as the year went on.
No names of families: cases with a map and a network member, enough of them (14 a quarter in the unit) that the
measures show, and one measure in the first quarter small enough to show as "fewer than 5".

For the outcome measures and the federal extract, Pulaski-3's cases also carry what SACWIS would send of their
history: a child (a made-up name and birth date), the report that opened the case and, for every third case, a
repeat report 40 days later; a removal for every other child, home again after six to eight weeks except in this
quarter; the cases of the first two quarters mostly closed a month after opening. So `outcomes(county: "Pulaski",
period: <this year>)` shows numbers: repeat reports, reunification (nothing is said of safety plans there: the
history has none, so that measure is a small cell).

Only `sop dev` seeds it (the test suite's demo family stays one case). Seeded through the gateway's REST façade as
SACWIS and the workers would; a demo that has the history already keeps its maps and networks as they are. All
fictional."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from sop_gateway.demo.practice import UNIT
from sop_gateway.demo.seeding import DemoSeed, check

PER_QUARTER = 14
# Of each quarter's 14 cases in the unit, oldest quarter first, how many have a map (3 of 14 in the first quarter: a
# small cell, shown as "fewer than 5").
WITH_MAP = (3, 7, 9, 14)
WITH_NETWORK = (5, 7, 8, 12)  # and a network member who has heard the danger statements
OTHER_UNITS = (("Benton-1", "Benton", "fsw.benton.demo"), ("Washington-2", "Washington", "fsw.washington.demo"))
WORKERS = ("fsw.rivera", "fsw.lindqvist")


def _quarter_starts(today: date, count: int = 4) -> list[date]:
    """The first day of each of the last `count` quarters, oldest first (this one last)."""
    index = today.year * 4 + (today.month - 1) // 3
    return [date(i // 4, (i % 4) * 3 + 1, 1) for i in range(index - count + 1, index + 1)]


def _sacwis_history(external_id: str, q: int, n: int, opened: date, today: date) -> dict[str, object]:
    """What SACWIS sends of a Pulaski-3 history case's children, reports and removals (nothing dated after today)."""
    child = f"{external_id}-C1"
    reports: list[dict[str, object]] = []
    received = opened - timedelta(days=1)
    if received <= today:
        disposed = opened + timedelta(days=30)
        reports.append(
            {
                "external_id": f"{external_id}-R1",
                "received_on": received.isoformat(),
                "investigation_started_on": opened.isoformat() if opened <= today else None,
                "disposition": "true" if n % 2 == 0 else "unsubstantiated",
                "disposition_on": disposed.isoformat() if disposed <= today else None,
            }
        )
    repeat = opened + timedelta(days=40)
    if n % 3 == 0 and repeat <= today:
        reports.append({"external_id": f"{external_id}-R2", "received_on": repeat.isoformat(), "disposition": None})
    removals: list[dict[str, object]] = []
    removed = opened + timedelta(days=7)
    if n % 2 == 0 and removed <= today:
        home = removed + timedelta(days=42 + 2 * n)
        ended = q < 3 and home <= today
        removals.append(
            {
                "external_id": f"{external_id}-RM1",
                "child": child,
                "removed_on": removed.isoformat(),
                "discharged_on": home.isoformat() if ended else None,
                "discharge_reason": "reunification" if ended else None,
            }
        )
    closed = opened + timedelta(days=30)
    closing = {"status": "closed", "closed_on": closed.isoformat()} if q < 2 and n < 10 and closed <= today else {}
    return {
        **closing,
        "members": [
            {
                "role": "child",
                "person": {
                    "external_id": child,
                    "first_name": "Demo",
                    "last_name": f"Child {q}-{n}",
                    "date_of_birth": date(2012 + n % 10, 1 + n % 12, 15).isoformat(),
                },
            }
        ],
        "reports": reports,
        "removals": removals,
    }


def _case(unit: str, county: str, worker: str, opened_on: date, supervisor: str | None) -> dict[str, object]:
    assignments = [{"staff_subject": worker, "role": "worker", "unit": unit}]
    if supervisor:
        assignments.append({"staff_subject": supervisor, "role": "supervisor", "unit": unit})
    return {
        "case_type": "in_home",
        "status": "open",
        "county": county,
        "opened_on": opened_on.isoformat(),
        "assignments": assignments,
    }


async def seed_practice_history(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    today = datetime.now(UTC).date()
    starts = _quarter_starts(today)
    records = []
    for q, start in enumerate(starts):
        for n in range(PER_QUARTER):
            opened = start + timedelta(days=3 + n * 5)
            worker = WORKERS[n % 2]
            external_id = f"DEMO-HIST-{UNIT}-{q}-{n}"
            records.append(
                {
                    "kind": "case",
                    "external_id": external_id,
                    "data": {
                        **_case(UNIT, "Pulaski", worker, opened, "sup.okafor"),
                        **_sacwis_history(external_id, q, n, opened, today),
                    },
                }
            )
            for unit, county, other in OTHER_UNITS:
                records.append(
                    {
                        "kind": "case",
                        "external_id": f"DEMO-HIST-{unit}-{q}-{n}",
                        "data": _case(unit, county, other, opened, None),
                    }
                )
    loaded = check(
        await client.post(
            "/api/network/v1/sacwis/batch",
            json={"system": "CHRIS", "records": records},
            headers=seed.headers("sacwis.sync"),
        ),
        "the practice history's cases",
    )
    if not loaded["counts"].get("created"):
        return  # seeded by an earlier demo: kept as it is
    ids = {r["external_id"]: r["id"] for r in loaded["results"]}
    for q in range(len(starts)):
        for n in range(PER_QUARTER):
            case_id = ids[f"DEMO-HIST-{UNIT}-{q}-{n}"]
            as_worker = seed.headers(WORKERS[n % 2])
            if n < WITH_MAP[q]:
                check(
                    await client.post(
                        f"/api/assessment/v1/cases/{case_id}/maps",
                        json={"context": "in_home", "title": "Family map", "change_note": "First home visit"},
                        headers=as_worker,
                    ),
                    "a history case's map",
                )
            if n < WITH_NETWORK[q]:
                check(
                    await client.post(
                        f"/api/network/v1/cases/{case_id}/network/members",
                        json={
                            "person": {"first_name": "Network", "last_name": f"Member {q}-{n}"},
                            "circle": "inner",
                            "roles": ["monitor"],
                            "seen_danger_statements_on": (starts[q] + timedelta(days=10 + n * 5)).isoformat(),
                        },
                        headers=as_worker,
                    ),
                    "a history case's network member",
                )
