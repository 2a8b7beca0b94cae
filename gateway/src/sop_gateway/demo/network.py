"""The demo family as SACWIS would send it: a mother, two children, their grandmother — and the safety
network the worker built with them: grandmother Rosa and Pastor Greene, with their roles and commitments,
and the first network meeting. All fictional.

Seeded through the gateway's REST façade (`/api/network/v1/…`) as SACWIS and as Ms. Rivera would; each step
looks first and adds only what is missing, so seeding twice changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

DEMO_CASE = ("CHRIS", "DEMO-2026-0001")

DEMO_CASE_BODY: dict[str, Any] = {
    "case_type": "in_home",
    "status": "open",
    "county": "Pulaski",
    "opened_on": "2026-10-02",
    "members": [
        {
            "role": "caregiver",
            "relationship_to_children": "mother",
            "person": {
                "external_id": "DEMO-P-1",
                "first_name": "Maria",
                "last_name": "Lopez",
                "date_of_birth": "1994-03-14",
                "preferred_language": "es",
                "needs_interpreter": True,
            },
        },
        {
            "role": "child",
            "relationship_to_children": "daughter",
            "person": {
                "external_id": "DEMO-P-2",
                "first_name": "Sofia",
                "last_name": "Lopez",
                "date_of_birth": "2019-06-01",
                "preferred_language": "es",
            },
        },
        {
            "role": "child",
            "relationship_to_children": "son",
            "person": {
                "external_id": "DEMO-P-3",
                "first_name": "Mateo",
                "last_name": "Lopez",
                "date_of_birth": "2021-09-20",
                "preferred_language": "es",
            },
        },
        {
            "role": "network",
            "relationship_to_children": "grandmother",
            "person": {
                "external_id": "DEMO-P-4",
                "first_name": "Rosa",
                "last_name": "Delgado",
                "date_of_birth": "1965-01-30",
                "preferred_language": "es",
            },
        },
    ],
    "assignments": [
        {"staff_subject": "fsw.rivera", "role": "worker"},
        {"staff_subject": "sup.okafor", "role": "supervisor"},
    ],
}


# (SACWIS external id of a case member, or None for someone SACWIS does not know) -> the network member.
DEMO_SAFETY_NETWORK: tuple[tuple[str | None, dict[str, Any]], ...] = (
    (
        "DEMO-P-4",
        {
            "circle": "inner",
            "roles": ["safety person at night", "after-school care"],
            "commitments": [
                {"text": "Calls Maria every evening at 8 to check in.", "schedule": "every evening, 20:00"},
                {
                    "text": "Takes Sofia and Mateo to her house for the night if Maria has been drinking.",
                    "schedule": "any evening it is needed",
                },
            ],
            "availability": "Evenings and weekends; lives ten minutes away",
            "background_check": "cleared",
            "background_checked_on": "2026-10-05",
            "agreed_plan_version": 1,
            "active_from": "2026-10-06",
            "seen_danger_statements_on": "2026-10-04",
        },
    ),
    (
        None,
        {
            "person": {"first_name": "Samuel", "last_name": "Greene", "preferred_language": "en"},
            "circle": "outer",
            "roles": ["Pastor at Maria's church", "backup when Rosa cannot come"],
            "commitments": [
                {
                    "text": "Visits on Sunday afternoons and asks Sofia how the week went.",
                    "schedule": "Sundays after service",
                }
            ],
            "availability": "Sundays; weekday evenings by phone",
            "background_check": "pending",
            "agreed_plan_version": 1,
            "active_from": "2026-10-06",
            "seen_danger_statements_on": "2026-10-04",
        },
    ),
)
DEMO_MEETING: dict[str, Any] = {
    "held_on": "2026-10-04",
    "decisions": [
        "Rosa is the safety person at night",
        "Pastor Greene is the backup when Rosa cannot come",
        "The network meets again in two weeks",
    ],
    "next_meeting_on": "2026-10-18",
}


async def seed_network(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    system, external_id = DEMO_CASE
    case = check(
        await client.put(
            f"/api/network/v1/cases/by-external/{system}/{external_id}",
            json=DEMO_CASE_BODY,
            headers=seed.headers("sacwis.sync"),
        ),
        "the case",
    )
    seed.case_id = case["id"]
    # the people the safety plan names (their person records say which language each reads)
    seed.ids["people"] = {
        f"{m['person']['first_name']} {m['person']['last_name']}": m["person"]["id"] for m in case["members"]
    }
    await seed_safety_network(client, seed, case)


async def seed_safety_network(client: httpx.AsyncClient, seed: DemoSeed, case: dict[str, Any]) -> None:
    worker = seed.headers("fsw.rivera")
    base = f"/api/network/v1/cases/{seed.case_id}/network"
    network = check(await client.get(base, headers=worker), "the safety network")
    present = {(m["person"]["first_name"], m["person"]["last_name"]) for m in network["members"]}
    people = {m["person"]["external_id"]: m["person"] for m in case["members"]}
    member_ids = [m["id"] for m in network["members"]]
    for sacwis_id, member in DEMO_SAFETY_NETWORK:
        body = {k: v for k, v in member.items() if k != "commitments"}
        if sacwis_id is not None:
            person = people[sacwis_id]
            body["person_id"] = person["id"]
        else:
            person = body["person"]
        if (person["first_name"], person["last_name"]) in present:
            continue
        created = check(
            await client.post(f"{base}/members", json=body, headers=worker),
            f"the network member {person['first_name']} {person['last_name']}",
        )
        member_ids.append(created["id"])
        # What the member agreed to, recorded by the worker with them (confirmed, so shared, in the same act).
        for commitment in member.get("commitments", []):
            check(
                await client.post(f"{base}/members/{created['id']}/commitments", json=commitment, headers=worker),
                f"a commitment of {person['first_name']} {person['last_name']}",
            )
    if not network["meetings"]:
        check(
            await client.post(
                f"{base}/meetings", json={**DEMO_MEETING, "attendee_member_ids": member_ids}, headers=worker
            ),
            "the first network meeting",
        )
