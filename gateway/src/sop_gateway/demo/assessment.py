"""The demo family's map: what the worker and the family wrote together, and how they scaled safety on two
visits. Seeded through the gateway's REST façade as Ms. Rivera would; every step is idempotent
(Idempotency-Keys for creates; the map is saved and completed only when it is not already). All fictional."""

from __future__ import annotations

from typing import Any

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

DEMO_DANGER_STATEMENT: dict[str, Any] = {
    "kind": "danger",
    "language": "en",
    "who_is_worried": "Grandma Rosa and Ms. Rivera",
    "caregiver_behaviour": "Maria drinks until she falls asleep",
    "context_trigger": "when she is alone with the children at night",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "feared_impact_on_child": "could get hurt with no adult awake to help them",
    "threat_codes": ["T4"],
    "agrees": ["Grandma Rosa"],
    "disputes": [],
}

# Maria reads Spanish best: her danger statement in Spanish, translated by the (fictional) county interpreter and
# checked by a bilingual supervisor — never machine-translated.
DEMO_DANGER_STATEMENT_ES: dict[str, Any] = {
    "language": "es",
    "translated_by": "Lucía Gómez (interpreter)",
    "verified": True,
    "verified_by": "Ana Ruiz",
    "verifier_qualification": "bilingual_staff",
    "text": "La abuela Rosa y la Sra. Rivera están preocupadas porque Maria bebe hasta quedarse dormida cuando "
    "está sola con los niños por la noche. Si nada cambia, Sofia y Mateo podrían lastimarse sin ningún "
    "adulto despierto que los ayude.",
}

DEMO_SAFETY_GOAL: dict[str, Any] = {
    "language": "en",
    "duration": "P3M",
    "owner": "family",
    "caregiver_will_be_doing": "Maria will make sure a sober adult is awake with Sofia and Mateo every night",
    "child_will_experience": "Sofia and Mateo will go to sleep knowing an adult is there to help them",
    "others_will_see": "Rosa and Ms. Rivera will see Maria call Rosa on any evening she has been drinking",
}

# Two visits: the first home visit, and a month later once Rosa had started staying over.
DEMO_OCCASIONS: tuple[tuple[str, str, tuple[tuple[str, str, int, str, str], ...]], ...] = (
    (
        "2026-10-20",
        "first home visit",
        (
            (
                "Maria Lopez",
                "caregiver",
                4,
                "I love my kids and I never let them get hurt",
                "Rosa coming over on the nights I work late",
            ),
            (
                "Rosa Delgado",
                "network",
                3,
                "Maria was asleep when I came by with dinner",
                "Maria calling me before she starts drinking",
            ),
            (
                "Dana Rivera",
                "worker",
                2,
                "Nobody awake with the children on two nights we know of",
                "A plan with Rosa that everyone knows about",
            ),
        ),
    ),
    (
        "2026-11-17",
        "family meeting",
        (
            (
                "Maria Lopez",
                "caregiver",
                7,
                "Rosa stays over when I work late and I call her",
                "Going to the meetings at church",
            ),
            (
                "Rosa Delgado",
                "network",
                6,
                "Maria called me three times this month",
                "Maria asking for help on weekends too",
            ),
            (
                "Dana Rivera",
                "worker",
                5,
                "The plan has worked for four weeks; Rosa checks every evening",
                "Two more months with the plan holding",
            ),
        ),
    ),
)

DEMO_MAP_V1: dict[str, Any] = {
    "context": "in_home",
    "title": "The Lopez family's map",
    "change_note": "Written with Maria and Rosa at the first home visit",
    "participants": [
        {"name": "Maria Lopez", "role": "mother"},
        {"name": "Rosa Delgado", "role": "grandmother"},
        {"name": "Dana Rivera", "role": "family service worker"},
    ],
    "complicating_factors": [
        {
            "text": "Maria works late shifts and is alone with the children most evenings",
            "source": {"name": "Maria Lopez"},
            "agrees": ["Rosa Delgado"],
        },
    ],
    "strengths": [
        {
            "text": "Maria walks Sofia to school every morning and Sofia is doing well there",
            "source": {"name": "Sofia's teacher"},
            "agrees": ["Maria Lopez", "Rosa Delgado"],
        },
        {"text": "Rosa lives two streets away and loves the children", "source": {"name": "Rosa Delgado"}},
    ],
    "existing_safety": [
        {
            "text": "Rosa took Sofia and Mateo to her house the night she found Maria asleep",
            "source": {"name": "Rosa Delgado"},
            "by_whom": "Rosa Delgado",
            "when": "12 October 2026",
            "how_often": "once",
            "agrees": ["Maria Lopez"],
        },
    ],
    "next_steps": [
        {"text": "Meet with Maria and Rosa to write a safety plan", "owner": "Dana Rivera", "due_on": "2026-10-27"},
    ],
    "gray_areas": [
        {
            "text": "Whether Maria's brother drinks with her when he visits",
            "source": {"name": "Rosa Delgado"},
            "disputes": ["Maria Lopez"],
        },
    ],
}

DEMO_MAP_V2_CHANGES: dict[str, Any] = {
    "change_note": "Family meeting a month later: Rosa now stays over on late-shift nights",
    "existing_safety_added": {
        "text": "Rosa stayed over every night Maria worked late since the plan started",
        "source": {"name": "Rosa Delgado"},
        "by_whom": "Rosa Delgado",
        "when": "since 28 October 2026",
        "how_often": "two or three nights a week",
        "agrees": ["Maria Lopez", "Dana Rivera"],
    },
    "next_step_done": "Meet with Maria and Rosa to write a safety plan",
    "next_step_added": {
        "text": "Review the safety plan with Maria, Rosa and Ms. Okafor",
        "owner": "Dana Rivera",
        "due_on": "2026-12-15",
    },
}

# The demo's words were read with Maria and Grandma Rosa before the worker shared them.
SHARED_AT_THE_MEETING = {"reason": "Read with Maria and Grandma Rosa at the family meeting; these are their words"}

CATEGORIES = ("participants", "complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas")


async def seed_assessment(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    case = f"/api/assessment/v1/cases/{seed.case_id}"
    worker = seed.headers("fsw.rivera")

    def key(name: str) -> dict[str, str]:
        return {**worker, "Idempotency-Key": f"demo-{name}"}

    async def share(url: str, what: str) -> None:
        """The worker marks it ready to share with the family (read first: the share needs its version)."""
        record = check(await client.get(url, headers=worker), f"reading {what}")
        version = record.get("current_version", record.get("version"))
        check(
            await client.post(
                f"{url}/share", json=SHARED_AT_THE_MEETING, headers={**worker, "If-Match": f'"{version}"'}
            ),
            f"sharing {what}",
        )

    statement = check(
        await client.post(f"{case}/statements", json=DEMO_DANGER_STATEMENT, headers=key("danger-statement-1")),
        "the danger statement",
    )
    seed.ids["danger_statement"] = statement["id"]
    await share(f"{case}/statements/{statement['id']}", "the danger statement")
    check(
        await client.post(
            f"{case}/statements/{statement['id']}/translations",
            json=DEMO_DANGER_STATEMENT_ES,
            headers=key("danger-statement-1-es"),
        ),
        "the danger statement in Spanish",
    )

    goal = check(
        await client.post(
            f"{case}/safety-goals",
            json={**DEMO_SAFETY_GOAL, "danger_statement_id": statement["id"]},
            headers=key("safety-goal-1"),
        ),
        "the safety goal",
    )
    seed.ids["safety_goal"] = goal["id"]
    await share(f"{case}/safety-goals/{goal['id']}", "the safety goal")

    for on, occasion, ratings in DEMO_OCCASIONS:
        for name, role, score, rationale, one_up in ratings:
            check(
                await client.post(
                    f"{case}/scale-ratings",
                    headers=key(f"rating-{on}-{role}"),
                    json={
                        "statement_id": statement["id"],
                        "occasion_on": on,
                        "occasion": occasion,
                        "rater_name": name,
                        "rater_role": role,
                        "score": score,
                        "rationale": rationale,
                        "one_step_up": one_up,
                        "mode": "verbal",
                    },
                ),
                f"the safety-scale rating of {name} on {on}",
            )

    the_map = check(await client.post(f"{case}/maps", json=DEMO_MAP_V1, headers=key("map-1")), "the map")
    seed.ids["map"] = the_map["id"]
    map_url = f"{case}/maps/{the_map['id']}"
    current = check(await client.get(map_url, headers=worker), "reading the map")
    if current["current_version"] == 1:
        current = check(
            await client.put(map_url, json=_second_version(current), headers={**worker, "If-Match": '"1"'}),
            "the map's second version",
        )
    if current["status"] != "complete":
        check(
            await client.post(f"{map_url}/complete", headers={**worker, "If-Match": f'"{current["current_version"]}"'}),
            "completing the map",
        )
    await share(map_url, "the map")


def _second_version(current: dict[str, Any]) -> dict[str, Any]:
    """Version 2 as the worker saves it: version 1's items (with their ids) plus what the meeting added."""
    content = current["content"]
    body: dict[str, Any] = {name: list(content[name]) for name in CATEGORIES}
    body["existing_safety"].append(DEMO_MAP_V2_CHANGES["existing_safety_added"])
    body["next_steps"] = [
        {**step, "status": "done"} if step["text"] == DEMO_MAP_V2_CHANGES["next_step_done"] else step
        for step in body["next_steps"]
    ] + [DEMO_MAP_V2_CHANGES["next_step_added"]]
    body["change_note"] = DEMO_MAP_V2_CHANGES["change_note"]
    return body
