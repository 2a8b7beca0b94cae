"""The practice side of the demo (issue 15): MidSOUTH's coach Ms. Tran and trainer Avery Moss, the SOP/SDM
training coordinator Jordan Ellis and the practice lead Robin Park; Ms. Rivera and Mr. Lindqvist (Pulaski
unit 3) under Ms. Okafor; Ms. Tran coaching the unit; training records loaded as the state's learning system
would, once, dated from the day the demo was first seeded: Ms. Rivera through SOP foundations, mapping and
her SDM certification, Mr. Lindqvist new and enrolled in the next foundations session.

Seeded through the gateway's REST façade. Registrations carry Idempotency-Keys and the caseload is looked up
first, so seeding twice changes nothing. All fictional."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

UNIT = "Pulaski-3"
DEMO_PRACTITIONERS: tuple[dict[str, Any], ...] = (
    {"subject": "coord.ellis", "name": "Jordan Ellis", "agency": "MidSOUTH", "roles": ["training_coordinator"]},
    {"subject": "coach.tran", "name": "Linh Tran", "agency": "MidSOUTH", "roles": ["coach"]},
    {"subject": "trainer.moss", "name": "Avery Moss", "agency": "MidSOUTH", "roles": ["trainer"]},
    {"subject": "lead.park", "name": "Robin Park", "agency": "DCFS", "roles": ["practice_lead"]},
    {
        "subject": "sup.okafor",
        "name": "Grace Okafor",
        "agency": "DCFS",
        "roles": ["supervisor"],
        "unit": UNIT,
        "county": "Pulaski",
        "started_on_days_ago": 900,
    },
    {
        "subject": "fsw.rivera",
        "name": "Dana Rivera",
        "agency": "DCFS",
        "roles": ["worker"],
        "unit": UNIT,
        "county": "Pulaski",
        "supervisor_subject": "sup.okafor",
        "started_on_days_ago": 400,
    },
    {
        "subject": "fsw.lindqvist",
        "name": "Sam Lindqvist",
        "agency": "DCFS",
        "roles": ["worker"],
        "unit": UNIT,
        "county": "Pulaski",
        "supervisor_subject": "sup.okafor",
        "started_on_days_ago": 30,
    },
)
# (external id, course, days ago, roster: (subject, attended, completed))
DEMO_SESSIONS: tuple[tuple[str, str, int, tuple[tuple[str, bool | None, bool], ...]], ...] = (
    ("LMS-DEMO-101", "SOP-101", 380, (("fsw.rivera", True, True), ("sup.okafor", True, True))),
    ("LMS-DEMO-201", "SOP-201", 340, (("fsw.rivera", True, True),)),
    ("LMS-DEMO-301", "SDM-301", 320, (("fsw.rivera", True, True), ("sup.okafor", True, True))),
    ("LMS-DEMO-101B", "SOP-101", -14, (("fsw.lindqvist", None, False),)),
)


def _start(days_ago: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days_ago)).isoformat()


async def seed_practice(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    coordinator = seed.headers("coord.ellis")
    registered_now = False
    for person in DEMO_PRACTITIONERS:
        body = {k: v for k, v in person.items() if k != "started_on_days_ago"}
        if "started_on_days_ago" in person:
            body["started_on"] = _start(person["started_on_days_ago"])
        headers = {**coordinator, "Idempotency-Key": f"demo-practitioner-{person['subject']}"}
        answer = await client.post("/api/practice/v1/people", json=body, headers=headers)
        if answer.status_code != 409:  # registered by an earlier demo: kept as it is
            check(answer, f"registering {person['subject']}")
            registered_now = registered_now or answer.headers.get("idempotent-replayed") != "true"
    caseload = check(await client.get("/api/practice/v1/coaches/coach.tran/caseload", headers=coordinator), "caseload")
    if UNIT not in {entry["unit"] for entry in caseload["entries"]}:
        check(
            await client.post("/api/practice/v1/coaches/coach.tran/caseload", json={"unit": UNIT}, headers=coordinator),
            "Ms. Tran's caseload",
        )
    await seed_coaching(client, seed)
    if not registered_now:
        return  # the demo's training was loaded with its people, dated from that day: not again
    today = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    sessions = [
        {
            "external_id": external_id,
            "course_code": course,
            "starts_at": (today - timedelta(days=days_ago)).isoformat(),
            "ends_at": (today - timedelta(days=days_ago) + timedelta(hours=6)).isoformat(),
            "location": "MidSOUTH, Little Rock",
            "trainer_subject": "trainer.moss",
            "roster": [{"subject": s, "attended": attended, "completed": done} for s, attended, done in roster],
        }
        for external_id, course, days_ago, roster in DEMO_SESSIONS
    ]
    check(
        await client.post(
            "/api/practice/v1/training-rosters/batch",
            json={"source": "state-lms-demo", "sessions": sessions},
            headers=seed.headers("lms.sync"),
        ),
        "the training rosters",
    )


# What Ms. Rivera brought to coaching from a consultation with Ms. Okafor (fictional; the coach sees it without the
# names and ids unless Ms. Okafor allows them).
DEMO_SNAPSHOT = {
    "question": "My danger statement says who is worried but not what could happen to the children. How do I say it?",
    "danger_statement": "The worker is worried that Mom and her partner fight when they drink.",
    "case_id": "demo",
    "family": [{"name": "Maria Lopez", "role": "mother"}, {"role": "child", "age": 7}],
}


async def seed_coaching(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    """A coaching referral through to a session: Ms. Okafor refers Ms. Rivera, Mr. Ellis routes it to Ms. Tran,
    who observes Ms. Rivera's mapping meeting, rates it against the practice profile and sets a goal. Once: a
    demo that has Ms. Okafor's referral already keeps it as it is."""
    made = check(
        await client.get("/api/practice/v1/coaching-referrals", headers=seed.headers("sup.okafor")), "referrals"
    )
    if made["items"]:
        return
    referral = check(
        await client.post(
            "/api/practice/v1/coaching-referrals",
            json={
                "worker_subject": "fsw.rivera",
                "topic": "Harm and danger statements",
                "reason": "Her danger statements leave out what could happen to the children.",
                "consultation_snapshot": DEMO_SNAPSHOT,
            },
            headers={**seed.headers("sup.okafor"), "Idempotency-Key": "demo-coaching-referral-rivera"},
        ),
        "the coaching referral",
    )
    url = f"/api/practice/v1/coaching-referrals/{referral['id']}"
    assigned = check(
        await client.post(
            f"{url}/assign",
            json={"coach_subject": "coach.tran"},
            headers={**seed.headers("coord.ellis"), "If-Match": f'"{referral["version"]}"'},
        ),
        "routing the referral to Ms. Tran",
    )
    held_on = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    session = check(
        await client.post(
            f"{url}/sessions",
            json={
                "kind": "observation_mapping_meeting",
                "held_on": held_on,
                "notes": "Observed the mapping meeting with the family and two network members.",
                "ratings": [
                    {"behaviour": "P2", "rating": 3},
                    {"behaviour": "M3", "rating": 3, "note": "Scaled with Grandma Rosa and asked what moves it one up"},
                    {"behaviour": "S1", "rating": 2, "note": "Said who is worried, not what could happen"},
                ],
            },
            headers=seed.headers("coach.tran"),
        ),
        "the coaching session",
    )
    check(
        await client.post(
            f"{url}/goals",
            json={
                "text": "Write each danger statement with what could happen to the children if nothing changes.",
                "behaviour": "S1",
                "session_id": session["id"],
                "follow_up_on": (datetime.now(UTC).date() + timedelta(days=14)).isoformat(),
            },
            headers=seed.headers("coach.tran"),
        ),
        "the coaching goal",
    )
    assert assigned["status"] == "assigned"
