"""A year of fictional practice history for `sop dev`, so the practice dashboards have something to draw: cases
SACWIS opened in each of the last four quarters in Ms. Okafor's unit (Pulaski-3, Ms. Rivera's and Mr. Lindqvist's)
and in two other units, with maps and safety networks recorded on more of Pulaski-3's cases as the year went on.
No names of families, no children: cases with a map and a network member, enough of them (14 a quarter in the unit)
that the measures show, and one measure in the first quarter small enough to show as "fewer than 5".

Only `sop dev` seeds it (the test suite's demo family stays one case). Seeded through the gateway's REST façade as
SACWIS and the workers would; a demo that has the history already keeps it as it is. All fictional."""

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
    starts = _quarter_starts(datetime.now(UTC).date())
    records = []
    for q, start in enumerate(starts):
        for n in range(PER_QUARTER):
            opened = start + timedelta(days=3 + n * 5)
            worker = WORKERS[n % 2]
            records.append(
                {
                    "kind": "case",
                    "external_id": f"DEMO-HIST-{UNIT}-{q}-{n}",
                    "data": _case(UNIT, "Pulaski", worker, opened, "sup.okafor"),
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
