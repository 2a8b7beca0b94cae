"""The demo family's safety plan. All fictional."""

from __future__ import annotations

from typing import Any

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

DEMO_SAFETY_PLAN: dict[str, Any] = {
    "plan_type": "ongoing", "title": "Keeping Sofia and Mateo safe at night",
    "threat_codes": ["T4"],
    "rules": [
        {"text": "When Maria has been drinking, Rosa takes Sofia and Mateo to her house for the night.",
         "threat_code": "T4", "responsible": [{"name": "Maria Lopez"}], "monitors": [{"name": "Rosa Delgado"}],
         "frequency": "Any evening Maria has had a drink",
         "how_verified": "Rosa texts Ms. Rivera the next morning"},
        {"text": "Rosa calls Maria every evening at 8 to check in.",
         "threat_code": "T4", "responsible": [{"name": "Rosa Delgado"}], "monitors": [{"name": "Rosa Delgado"}],
         "frequency": "Every evening", "how_verified": "Maria and Rosa tell Ms. Rivera at each visit"},
    ],
    "triggers": ["Maria does not answer Rosa's evening call"],
    "if_rule_broken": {"who_is_called": [{"name": "Rosa Delgado"}, {"name": "Ms. Rivera (FSW)"}],
                       "what_happens": "Rosa picks the children up within the hour and calls Ms. Rivera."},
    "worker_monitoring": {"contact_frequency": "weekly", "method": "home visit"},
}


async def seed_plans(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    body = {**DEMO_SAFETY_PLAN, "danger_statement_ids": [seed.ids["danger_statement"]]}
    plan = check(await client.post(f"/api/plans/v1/cases/{seed.case_id}/safety-plans", json=body,
                                   headers={**seed.headers("fsw.rivera"), "Idempotency-Key": "demo-safety-plan-1"}),
                 "the safety plan")
    seed.ids["safety_plan"] = plan["id"]
