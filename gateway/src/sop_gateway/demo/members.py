"""The demo family's own logins: Maria Lopez (the mother) and Rosa Delgado (the grandmother, in the safety
network) sign in through the development member portal (`sop token maria.lopez`, `sop token rosa.delgado`).
Each login is bound the way a real one is: the worker invites the person, and the person redeems the code
signed in as themselves (docs/identity.md). Seeding twice changes nothing: a bound person is left alone."""

from __future__ import annotations

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

# person on the demo case (first and last name) -> the demo user (sop_shared.dev_identity) who logs in as them
DEMO_MEMBER_LOGINS: dict[str, str] = {"Maria Lopez": "maria.lopez", "Rosa Delgado": "rosa.delgado"}


async def seed_member_logins(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    worker = seed.headers("fsw.rivera")
    case = check(await client.get(f"/api/network/v1/cases/{seed.case_id}", headers=worker), "the case")
    people = {f"{m['person']['first_name']} {m['person']['last_name']}": m["person"] for m in case["members"]}
    for name, user in DEMO_MEMBER_LOGINS.items():
        person = people[name]
        if person.get("principal_subject"):
            continue
        invitation = check(
            await client.post(
                f"/api/network/v1/cases/{seed.case_id}/people/{person['id']}/login-invitations",
                json={"valid_for_days": 1},
                headers=worker,
            ),
            f"the login invitation for {name}",
        )
        check(
            await client.post(
                "/api/network/v1/login-invitations/redeem",
                json={"code": invitation["code"]},
                headers=seed.headers(user),
            ),
            f"{name} redeeming her login invitation",
        )
