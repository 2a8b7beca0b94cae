"""The demo family for `sop dev`: fictional people, seeded through the gateway's own public API exactly as
SACWIS and a worker would, so the demo exercises the real code paths. Seeding twice changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from sop_gateway.settings import GatewaySettings
from sop_shared.dev_identity import mint_dev_token

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

DEMO_DANGER_STATEMENT: dict[str, Any] = {
    "kind": "danger", "language": "en",
    "who_is_worried": "Grandma Rosa and Ms. Rivera",
    "caregiver_behaviour": "Maria drinks until she falls asleep",
    "context_trigger": "when she is alone with the children at night",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "feared_impact_on_child": "could get hurt with no adult awake to help them",
    "threat_codes": ["T4"], "agrees": ["Grandma Rosa"], "disputes": [],
}

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


def _check(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"seeding the demo family failed at {what}: {response.status_code} {response.text}")
    return response.json()


async def seed_demo_family(app: FastAPI) -> uuid.UUID:
    """Create (or find) the demo family; returns its case id."""
    settings: GatewaySettings = app.state.settings
    if not settings.is_development:
        raise RuntimeError("the demo family is for development only")
    keys = settings.keys_dir()
    sacwis = {"Authorization": f"Bearer {mint_dev_token(keys, 'sacwis.sync')}"}
    worker = {"Authorization": f"Bearer {mint_dev_token(keys, 'fsw.rivera')}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        system, external_id = DEMO_CASE
        case = _check(await client.put(f"/api/network/v1/cases/by-external/{system}/{external_id}",
                                       json=DEMO_CASE_BODY, headers=sacwis), "the case")
        case_id = uuid.UUID(case["id"])
        statements = _check(await client.post(
            f"/api/assessment/v1/cases/{case_id}/statements", json=DEMO_DANGER_STATEMENT,
            headers={**worker, "Idempotency-Key": "demo-danger-statement-1"}), "the danger statement")
        plan = {**DEMO_SAFETY_PLAN, "danger_statement_ids": [statements["id"]]}
        _check(await client.post(f"/api/plans/v1/cases/{case_id}/safety-plans", json=plan,
                                 headers={**worker, "Idempotency-Key": "demo-safety-plan-1"}), "the safety plan")
    return case_id
