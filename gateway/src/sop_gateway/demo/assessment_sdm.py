"""The demo family's SDM assessments and Sofia's Three Houses, as the worker and the supervisor would make
them through the gateway. The safety assessment finds Maria's drinking at night a present danger, controlled
by Grandma Rosa staying over (conditionally safe: a safety plan is required); the risk assessment scores
moderate and Ms. Rivera raises it one level, which Ms. Okafor approves. All fictional.

Idempotent: each record is looked up first and created with an Idempotency-Key; each step (complete,
override, approve) runs only if the record has not reached it yet."""

from __future__ import annotations

from typing import Any

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

VERSION = "illustrative-1"

DEMO_SAFETY_ANSWERS: dict[str, Any] = {
    **{f"T{n}": False for n in range(1, 12)},
    "T4": True,
    "V1": False,
    "V2": False,
    "V3": False,
    "protective_capacities": ["PC1", "PC2"],
    "interventions": ["I2"],
    "narrative": "Maria drinks in the evening until she falls asleep. Grandma Rosa has agreed to stay every night.",
}
DEMO_SAFETY_CHILDREN = [{"name": "Sofia", "answers": {"V1": False}}, {"name": "Mateo", "answers": {"V1": True}}]

DEMO_RISK_ANSWERS: dict[str, Any] = {
    **{f"N{n}": "a" for n in range(1, 10)},
    **{f"A{n}": "a" for n in range(1, 9)},
    "N1": "b",
    "N8": "c",
    "threats_remain": True,
}
DEMO_RISK_OVERRIDE = {
    "kind": "discretionary",
    "to_level": "high",
    "reasons": "Maria's drinking has gone on for months and she has no one else at night.",
}

DEMO_THREE_HOUSES: dict[str, Any] = {
    "kind": "three_houses",
    "child": {"name": "Sofia"},
    "language": "en",
    "consent": {"shared_with": ["family"], "note": "Sofia said her mom and Grandma Rosa can see her houses."},
    "sharing_judgement": {
        "safe": True,
        "reason": "Maria already knows these worries and wants to hear them; nothing here puts Sofia at risk.",
    },
    "content": {
        "session_date": "2026-11-20",
        "parent_consent": "not_needed",
        "houses": [
            {
                "house": "worries",
                "entries": [{"words": "when mommy sleeps and I can't wake her up", "read_back": True}],
            },
            {"house": "good_things", "entries": [{"words": "Grandma Rosa makes pancakes", "read_back": True}]},
            {"house": "dreams", "entries": [{"words": "mommy stays awake and we watch movies", "read_back": True}]},
        ],
    },
}


async def _assessment(
    client: httpx.AsyncClient, seed: DemoSeed, key: str, body: dict[str, Any], idempotency_key: str
) -> dict[str, Any]:
    base = f"/api/assessment/v1/cases/{seed.case_id}/sdm-assessments"
    listed = check(
        await client.get(base, params={"instrument_key": key}, headers=seed.headers("fsw.rivera")), f"the {key} list"
    )
    if listed["items"]:
        newest: dict[str, Any] = listed["items"][-1]
        return newest
    return check(
        await client.post(
            base,
            json={"instrument_key": key, "instrument_version": VERSION, **body},
            headers={**seed.headers("fsw.rivera"), "Idempotency-Key": idempotency_key},
        ),
        f"the {key} draft",
    )


async def _complete(client: httpx.AsyncClient, seed: DemoSeed, assessment: dict[str, Any]) -> dict[str, Any]:
    if assessment["status"] != "draft":
        return assessment
    url = f"/api/assessment/v1/cases/{seed.case_id}/sdm-assessments/{assessment['id']}/complete"
    return check(
        await client.post(url, headers=seed.headers("fsw.rivera")),
        f"completing the {assessment['instrument']['key']}",
    )


async def seed_assessment_sdm(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    safety = await _assessment(
        client,
        seed,
        "safety_assessment",
        {
            "answers": DEMO_SAFETY_ANSWERS,
            "children": DEMO_SAFETY_CHILDREN,
            "anchors": {"first_contact": "2026-11-19T16:00:00+00:00"},
        },
        "demo-safety-assessment-1",
    )
    safety = await _complete(client, seed, safety)
    seed.ids["safety_assessment"] = safety["id"]

    risk = await _assessment(
        client,
        seed,
        "risk_assessment",
        {"answers": DEMO_RISK_ANSWERS, "anchors": {"report_received": "2026-11-18T14:00:00+00:00"}},
        "demo-risk-assessment-1",
    )
    risk = await _complete(client, seed, risk)
    url = f"/api/assessment/v1/cases/{seed.case_id}/sdm-assessments/{risk['id']}"
    if risk["status"] == "completed" and risk["override"] is None:
        risk = check(
            await client.post(f"{url}/override", json=DEMO_RISK_OVERRIDE, headers=seed.headers("fsw.rivera")),
            "the risk override",
        )
    if risk["status"] == "pending_approval":
        risk = check(
            await client.post(
                f"{url}/approve",
                headers=seed.headers("sup.okafor"),
                json={"decision": "approve", "comment": "Agreed: nobody else is awake at night yet."},
            ),
            "approving the override",
        )
    seed.ids["risk_assessment"] = risk["id"]

    voices = f"/api/assessment/v1/cases/{seed.case_id}/child-voice"
    listed = check(
        await client.get(voices, params={"kind": "three_houses"}, headers=seed.headers("fsw.rivera")),
        "the child-voice list",
    )
    if listed["items"]:
        seed.ids["three_houses"] = listed["items"][0]["id"]
        return
    houses = check(
        await client.post(
            voices,
            json=DEMO_THREE_HOUSES,
            headers={**seed.headers("fsw.rivera"), "Idempotency-Key": "demo-three-houses-1"},
        ),
        "Sofia's three houses",
    )
    seed.ids["three_houses"] = houses["id"]
