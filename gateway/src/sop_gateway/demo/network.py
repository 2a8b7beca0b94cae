"""The demo family as SACWIS would send it: a mother, two children, their grandmother. All fictional."""

from __future__ import annotations

from typing import Any

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

DEMO_CASE = ("CHRIS", "DEMO-2026-0001")

DEMO_CASE_BODY: dict[str, Any] = {
    "case_type": "in_home", "status": "open", "county": "Pulaski", "opened_on": "2026-10-02",
    "members": [
        {"role": "caregiver", "relationship_to_children": "mother",
         "person": {"external_id": "DEMO-P-1", "first_name": "Maria", "last_name": "Lopez",
                    "date_of_birth": "1994-03-14", "preferred_language": "es", "needs_interpreter": True}},
        {"role": "child", "relationship_to_children": "daughter",
         "person": {"external_id": "DEMO-P-2", "first_name": "Sofia", "last_name": "Lopez",
                    "date_of_birth": "2019-06-01", "preferred_language": "es"}},
        {"role": "child", "relationship_to_children": "son",
         "person": {"external_id": "DEMO-P-3", "first_name": "Mateo", "last_name": "Lopez",
                    "date_of_birth": "2021-09-20", "preferred_language": "es"}},
        {"role": "network", "relationship_to_children": "grandmother",
         "person": {"external_id": "DEMO-P-4", "first_name": "Rosa", "last_name": "Delgado",
                    "date_of_birth": "1965-01-30", "preferred_language": "es"}},
    ],
    "assignments": [{"staff_subject": "fsw.rivera", "role": "worker"},
                    {"staff_subject": "sup.okafor", "role": "supervisor"}],
}


async def seed_network(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    system, external_id = DEMO_CASE
    case = check(await client.put(f"/api/network/v1/cases/by-external/{system}/{external_id}",
                                  json=DEMO_CASE_BODY, headers=seed.headers("sacwis.sync")), "the case")
    seed.case_id = case["id"]
