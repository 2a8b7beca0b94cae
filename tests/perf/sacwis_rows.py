"""Fictional SACWIS case records and the rows the network service stores for them, shared by the benchmarks:
`make bench` (tests/perf/__main__.py) loads them through the batch endpoint and by plain COPY, `make bench-views
--scale-cases N` (tests/perf/case_views.py) COPYs them into the network database as background cases. Every name
and date here is made up."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sop_shared.ids import new_id

FIRST = [
    "Maria",
    "Sofia",
    "Mateo",
    "Rosa",
    "James",
    "Aaliyah",
    "Ethan",
    "Destiny",
    "Noah",
    "Jasmine",
    "Liam",
    "Kayla",
    "Elijah",
    "Brianna",
    "Mason",
    "Tamika",
    "Carlos",
    "Hannah",
    "Tyler",
    "Grace",
]
LAST = [
    "Lopez",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Davis",
    "Miller",
    "Wilson",
    "Moore",
    "Taylor",
    "Anderson",
    "Thomas",
    "Jackson",
    "White",
    "Harris",
    "Martin",
    "Thompson",
    "Robinson",
    "Greene",
]
COUNTIES = [
    "Pulaski",
    "Benton",
    "Washington",
    "Sebastian",
    "Faulkner",
    "Saline",
    "Craighead",
    "Garland",
    "Jefferson",
    "White",
    "Lonoke",
    "Pope",
    "Crittenden",
    "Miller",
    "Union",
]
CASES_PER_WORKER = 25
WORKERS_PER_SUPERVISOR = 6


def synthetic_cases(
    n_cases: int, persons_per_case: int, seed: int = 7, *, first: int = 0, prefix: str = ""
) -> list[dict[str, Any]]:
    """Fictional families: 1-2 caregivers, the rest children; a worker and a supervisor (unit, area). Numbered
    from `first`, their external ids (`<prefix>C0000001`, persons `<prefix>P0000001-0`) after it; the workers
    (`fsw.00000`, 25 cases each) follow the numbers."""
    rng = random.Random(seed)
    records = []
    for i in range(first, first + n_cases):
        last = rng.choice(LAST)
        worker = i // CASES_PER_WORKER
        unit = worker // WORKERS_PER_SUPERVISOR
        caregivers = 1 + (rng.random() < 0.4)
        members = []
        for j in range(persons_per_case):
            child = j >= caregivers
            year = rng.randint(2009, 2025) if child else rng.randint(1970, 2002)
            members.append(
                {
                    "role": "child" if child else "caregiver",
                    "relationship_to_children": "child" if child else rng.choice(["mother", "father", "grandparent"]),
                    "person": {
                        "external_id": f"{prefix}P{i:07d}-{j}",
                        "first_name": rng.choice(FIRST),
                        "last_name": last,
                        "date_of_birth": date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
                        "preferred_language": "es" if rng.random() < 0.12 else "en",
                    },
                }
            )
        status = "closed" if rng.random() < 0.3 else "open"
        opened = date(2020, 1, 1) + timedelta(days=rng.randint(0, 2000))
        records.append(
            {
                "kind": "case",
                "external_id": f"{prefix}C{i:07d}",
                "data": {
                    "case_type": rng.choice(["investigation", "in_home", "out_of_home", "differential_response"]),
                    "status": status,
                    "county": rng.choice(COUNTIES),
                    "opened_on": opened.isoformat(),
                    "closed_on": (opened + timedelta(days=200)).isoformat() if status == "closed" else None,
                    "members": members,
                    "assignments": [
                        {
                            "staff_subject": f"fsw.{worker:05d}",
                            "role": "worker",
                            "unit": f"U-{unit:04d}",
                            "area": f"A-{unit % 10}",
                        },
                        {
                            "staff_subject": f"sup.{unit:04d}",
                            "role": "supervisor",
                            "unit": f"U-{unit:04d}",
                            "area": f"A-{unit % 10}",
                        },
                    ],
                },
            }
        )
    return records


def copy_rows(records: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """The same rows the batch endpoint writes (cases, persons, members, assignments), as COPY tuples."""
    now = datetime.now(UTC)
    rows: dict[str, list[tuple[Any, ...]]] = {"case": [], "person": [], "case_member": [], "staff_assignment": []}
    for r in records:
        d = r["data"]
        cid = new_id()
        rows["case"].append(
            (
                cid,
                "CHRIS",
                r["external_id"],
                d["county"],
                d["case_type"],
                d["status"],
                date.fromisoformat(d["opened_on"]),
                date.fromisoformat(d["closed_on"]) if d["closed_on"] else None,
                1,
                now,
                now,
            )
        )
        for m in d["members"]:
            p = m["person"]
            pid = new_id()
            rows["person"].append(
                (
                    pid,
                    "CHRIS",
                    p["external_id"],
                    p["first_name"],
                    p["last_name"],
                    date.fromisoformat(p["date_of_birth"]),
                    p["preferred_language"],
                    False,
                    None,
                    None,
                    1,
                    now,
                    now,
                )
            )
            rows["case_member"].append(
                (new_id(), cid, pid, m["role"], m["relationship_to_children"], True, 1, now, now)
            )
        for a in d["assignments"]:
            rows["staff_assignment"].append(
                (new_id(), cid, a["staff_subject"], a["role"], a["unit"], a["area"], True, now, now)
            )
    return rows


COPY_COLUMNS = {
    "case": [
        "id",
        "external_system",
        "external_id",
        "county",
        "case_type",
        "status",
        "opened_on",
        "closed_on",
        "version",
        "created_at",
        "updated_at",
    ],
    "person": [
        "id",
        "external_system",
        "external_id",
        "first_name",
        "last_name",
        "date_of_birth",
        "preferred_language",
        "needs_interpreter",
        "principal_subject",
        "merged_into_id",
        "version",
        "created_at",
        "updated_at",
    ],
    "case_member": [
        "id",
        "case_id",
        "person_id",
        "role",
        "relationship_to_children",
        "active",
        "version",
        "created_at",
        "updated_at",
    ],
    "staff_assignment": [
        "id",
        "case_id",
        "staff_subject",
        "role",
        "unit",
        "area",
        "active",
        "created_at",
        "updated_at",
    ],
}


BACKGROUND_PREFIX = "BG-"  # the background cases' external ids: apart from every other seeding's


async def copy_background_cases(dsn: str, up_to: int, *, chunk: int = 20_000, persons_per_case: int = 4) -> int:
    """COPY fictional cases (with their persons, members and assignments, on other workers' caseloads) into the
    network database at `dsn` until it holds `up_to` cases, then ANALYZE what grew (as autovacuum would after a
    load): the scale the case view and the caseload page are measured at. Returns how many were added. Nothing
    goes through the service: no audit record, no event (the other services never hear of these cases)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        present = await conn.fetchval('SELECT count(*) FROM "case"')
        numbered = await conn.fetchval('SELECT count(*) FROM "case" WHERE external_id LIKE $1', BACKGROUND_PREFIX + "%")
        added = 0
        while present + added < up_to:
            n = min(chunk, up_to - present - added)
            rows = copy_rows(
                synthetic_cases(
                    n, persons_per_case, seed=numbered + added, first=numbered + added, prefix=BACKGROUND_PREFIX
                )
            )
            async with conn.transaction():
                for table, columns in COPY_COLUMNS.items():
                    await conn.copy_records_to_table(table, records=rows[table], columns=columns)
            added += n
        if added:
            for table in COPY_COLUMNS:
                await conn.execute(f'ANALYZE "{table}"')
        return added
    finally:
        await conn.close()
