"""The demo family's map: what the worker and the family wrote together. All fictional."""

from __future__ import annotations

from typing import Any

import httpx

from sop_gateway.demo.seeding import DemoSeed, check

DEMO_DANGER_STATEMENT: dict[str, Any] = {
    "kind": "danger", "language": "en",
    "who_is_worried": "Grandma Rosa and Ms. Rivera",
    "caregiver_behaviour": "Maria drinks until she falls asleep",
    "context_trigger": "when she is alone with the children at night",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "feared_impact_on_child": "could get hurt with no adult awake to help them",
    "threat_codes": ["T4"], "agrees": ["Grandma Rosa"], "disputes": [],
}


async def seed_assessment(client: httpx.AsyncClient, seed: DemoSeed) -> None:
    statement = check(await client.post(
        f"/api/assessment/v1/cases/{seed.case_id}/statements", json=DEMO_DANGER_STATEMENT,
        headers={**seed.headers("fsw.rivera"), "Idempotency-Key": "demo-danger-statement-1"}),
        "the danger statement")
    seed.ids["danger_statement"] = statement["id"]
