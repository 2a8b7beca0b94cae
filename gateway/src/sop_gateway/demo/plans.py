"""The demo family's safety plan, in force: written with Maria and Rosa, in English, explained to both of
them in Spanish by an interpreter on the phone and signed by both, approved by Ms. Okafor, activated by
Ms. Rivera, with a few check-ins from the first two weeks and a next step. All fictional.

Seeded through the gateway's REST façade as the worker and the supervisor would (plan routes are reached
under `/api/plans/v1/cases/{case_id}/safety-plans/{plan_id}/…`, the form the façade scopes to a case). Every
step looks at the plan first and does only what is not yet done, so seeding twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

DEMO_SAFETY_PLAN: dict[str, Any] = {
    "plan_type": "ongoing",
    "title": "Keeping Sofia and Mateo safe at night",
    "language": "en",
    "threat_codes": ["T4"],
    "participants": [{"name": "Maria Lopez", "role": "caregiver"}, {"name": "Rosa Delgado", "role": "network"}],
    "rules": [
        {
            "text": "When Maria has been drinking, Rosa takes Sofia and Mateo to her house for the night.",
            "threat_code": "T4",
            "responsible": [{"name": "Maria Lopez"}],
            "monitors": [{"name": "Rosa Delgado"}],
            "frequency": "Any evening Maria has had a drink",
            "how_verified": "Rosa texts Ms. Rivera the next morning",
        },
        {
            "text": "Rosa calls Maria every evening at 8 to check in.",
            "threat_code": "T4",
            "responsible": [{"name": "Rosa Delgado"}],
            "monitors": [{"name": "Rosa Delgado"}],
            "frequency": "Every evening",
            "how_verified": "Maria and Rosa tell Ms. Rivera at each visit",
        },
    ],
    "triggers": ["Maria does not answer Rosa's evening call"],
    "if_rule_broken": {
        "who_is_called": [{"name": "Rosa Delgado"}, {"name": "Ms. Rivera (FSW)"}],
        "what_happens": "Rosa picks the children up within the hour and calls Ms. Rivera.",
    },
    "backup_plan": "If Rosa cannot come, Maria calls Ms. Rivera's on-call line before the children's bedtime.",
    "worker_monitoring": {"contact_frequency": "weekly", "method": "home visit, one unannounced each month"},
}
# The plan was agreed at the kitchen table twelve days before it was entered; check-ins since then.
AGREED_DAYS_AGO = 12
# (days after the plan took effect, rule index, kept, who saw it, note)
DEMO_CHECK_INS: tuple[tuple[int, int, bool, str, str], ...] = (
    (2, 1, True, "Rosa Delgado", "Maria answered at 8 and was sober."),
    (5, 1, False, "Rosa Delgado", "Maria did not answer the 8 o'clock call."),
    (5, 0, True, "Rosa Delgado", "Rosa went over at 8:40 and took Sofia and Mateo to her house for the night."),
    (9, 1, True, "Rosa Delgado", "Every evening call answered this week."),
)
AFFIRMATION = {
    "Maria Lopez": "La intérprete Lucía Gómez me explicó este plan en español y estoy de acuerdo con él.",
    "Rosa Delgado": "La intérprete Lucía Gómez me explicó este plan en español y voy a hacer mi parte.",
}
# Maria and Rosa read Spanish and the plan is written in English: the interpreter who explained it to them
# is on the record of each signature (the plans service refuses a signature without her).
DEMO_INTERPRETER = {"name": "Lucía Gómez", "qualification": "certified_interpreter", "mode": "phone", "language": "es"}


async def seed_plans(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    worker, supervisor = seed.headers("fsw.rivera"), seed.headers("sup.okafor")
    base = f"/api/plans/v1/cases/{seed.case_id}"
    plan = await _find_or_create_plan(client, seed, base, worker)
    at = f"{base}/safety-plans/{plan['id']}"
    if plan["status"] == "draft":
        for participant in plan["participants"]:
            if not any(s["participant_id"] == participant["id"] for s in plan["signatures"]):
                check(
                    await client.post(
                        f"{at}/signatures",
                        headers=worker,
                        json={
                            "version_number": plan["current_version_number"],
                            "content_hash": plan["content_hash"],
                            "participant_id": participant["id"],
                            "signer_name": participant["name"],
                            "signer_role": participant["role"],
                            "method": "typed_name" if participant["role"] == "caregiver" else "click",
                            "typed_name": participant["name"] if participant["role"] == "caregiver" else None,
                            "affirmation": AFFIRMATION[participant["name"]],
                            "interpreter": DEMO_INTERPRETER,
                        },
                    ),
                    f"{participant['name']}'s signature",
                )
        plan = check(
            await client.post(
                f"{at}/submit",
                headers=worker,
                json={
                    "supervisor": "sup.okafor",
                    "note": "Signed at the kitchen table with Maria and Rosa; Lucía Gómez interpreted by phone.",
                },
            ),
            "submitting the safety plan",
        )
    if plan["status"] == "pending_approval":
        plan = check(
            await client.post(
                f"{at}/approve",
                headers=supervisor,
                json={
                    "version_number": plan["current_version_number"],
                    "content_hash": plan["content_hash"],
                    "decision": "approved",
                    "comment": "Specific and in the family's words. Approved.",
                },
            ),
            "approving the safety plan",
        )
    if plan["status"] == "approved":
        plan = check(await client.post(f"{at}/activate", headers=worker), "activating the safety plan")
    if plan["status"] == "active" and not plan["recent_check_ins"]:
        effective = datetime.fromisoformat(plan["effective_from"])
        for days, rule, kept, who, note in DEMO_CHECK_INS:
            check(
                await client.post(
                    f"{at}/check-ins",
                    headers=worker,
                    json={
                        "rule_id": plan["rules"][rule]["id"],
                        "occurred_at": (effective + timedelta(days=days)).isoformat(),
                        "reported_by": {"name": who},
                        "kept": kept,
                        "note": note,
                    },
                ),
                "a check-in",
            )
    seed.ids["safety_plan"] = plan["id"]
    await _seed_next_step(client, seed, base, worker, plan["id"])


async def _find_or_create_plan(
    client: httpx.AsyncClient, seed: DemoSeed, base: str, worker: dict[str, str]
) -> dict[str, Any]:
    listed = check(await client.get(f"{base}/safety-plans", headers=worker), "the safety plans")
    plans: list[dict[str, Any]] = listed["items"]
    for plan in plans:
        if plan["title"] == DEMO_SAFETY_PLAN["title"]:
            return plan
    agreed = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=AGREED_DAYS_AGO)
    people = seed.ids.get("people", {})
    body = {
        **DEMO_SAFETY_PLAN,
        "participants": [{**p, "person_id": people.get(p["name"])} for p in DEMO_SAFETY_PLAN["participants"]],
        # each rule names the people who carry it out and watch it by their records too (a member's own view
        # shows the rules they help with, and a member checks in only on the rules they watch)
        "rules": [
            {
                **rule,
                **{
                    refs: [{**ref, "person_id": people.get(ref["name"])} for ref in rule[refs]]
                    for refs in ("responsible", "monitors")
                },
            }
            for rule in DEMO_SAFETY_PLAN["rules"]
        ],
        "danger_statement_ids": [seed.ids["danger_statement"]],
        "effective_from": agreed.isoformat(),
    }
    if seed.ids.get("safety_assessment"):
        body["safety_assessment_id"] = seed.ids["safety_assessment"]
    return check(
        await client.post(
            f"{base}/safety-plans", json=body, headers={**worker, "Idempotency-Key": "demo-ongoing-safety-plan"}
        ),
        "the safety plan",
    )


async def _seed_next_step(
    client: httpx.AsyncClient, seed: DemoSeed, base: str, worker: dict[str, str], plan_id: str
) -> None:
    steps = check(await client.get(f"{base}/next-steps", headers=worker), "the next steps")
    if steps["items"]:
        return
    due = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    body = {
        "action": "Ms. Rivera and Maria find a Spanish-speaking AA meeting close to Maria's work.",
        "owner": {"name": "Ms. Rivera"},
        "owner_kind": "agency",
        "due_on": due,
        "safety_plan_id": plan_id,
    }
    if seed.ids.get("safety_goal"):
        body["goal_id"] = seed.ids["safety_goal"]
    check(
        await client.post(f"{base}/next-steps", json=body, headers={**worker, "Idempotency-Key": "demo-next-step-1"}),
        "a next step",
    )
