"""A practice rule across real processes (issue 14): the assessment service decides "conditionally safe", the
plans service learns it from NATS JetStream (and the case's worker and supervisor from the network service's
case event) and, with no immediate or ongoing plan in force within the configured time, alerts them.

This module runs its own system: the plans policy here allows a few seconds, not a day."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import DistributedSystem

WITHIN_HOURS = 0.002  # 7.2 seconds

CASE_BODY: dict[str, Any] = {
    "case_type": "in_home",
    "status": "open",
    "county": "Sebastian",
    "opened_on": "2026-11-20",
    "members": [
        {
            "role": "caregiver",
            "relationship_to_children": "grandmother",
            "person": {
                "external_id": "E2E-PR-1",
                "first_name": "Ana",
                "last_name": "Castro",
                "preferred_language": "en",
            },
        },
        {
            "role": "child",
            "relationship_to_children": "son",
            "person": {
                "external_id": "E2E-PR-2",
                "first_name": "Nico",
                "last_name": "Castro",
                "date_of_birth": "2019-05-01",
                "preferred_language": "en",
            },
        },
    ],
    "assignments": [
        {"staff_subject": "fsw.rivera", "role": "worker"},
        {"staff_subject": "sup.okafor", "role": "supervisor"},
    ],
}

SAFETY_ASSESSMENT: dict[str, Any] = {
    "instrument_key": "safety_assessment",
    "instrument_version": "illustrative-1",
    "anchors": {"first_contact": "2026-11-23T15:00:00Z"},
    "answers": {
        **{f"T{i}": i == 4 for i in range(1, 12)},
        "V1": False,
        "V2": False,
        "V3": False,
        "interventions": ["I2"],
    },
    "children": [{"name": "Nico"}],
}


@pytest.fixture(scope="module")
def practice_system(
    postgres_admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory, own_system: Any
) -> Iterator[DistributedSystem]:
    base = tmp_path_factory.mktemp("e2e-practice")
    policy = json.loads(resources.files("sop_plans").joinpath("config/plan_rules.json").read_text(encoding="utf-8"))
    for rule_set in policy["rule_sets"]:
        rule_set["conditionally_safe_plan_within_hours"] = WITHIN_HOURS
    policy_file = Path(base) / "plan_rules.json"
    policy_file.write_text(json.dumps(policy), encoding="utf-8")
    with own_system(postgres_admin_url, nats_url, base, {"SOP_PLANS_POLICY_FILE": str(policy_file)}) as system:
        yield system


def bearer(system: DistributedSystem, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {system.token(user)}"}


async def test_conditionally_safe_without_a_plan_reaches_plans_over_nats_and_alerts_worker_and_supervisor(
    practice_system: DistributedSystem,
) -> None:
    system = practice_system
    worker, supervisor = bearer(system, "fsw.rivera"), bearer(system, "sup.okafor")
    async with httpx.AsyncClient(base_url=system.gateway, timeout=15) as client:
        upsert = await client.put(
            "/api/network/v1/cases/by-external/CHRIS/E2E-PRACTICE-1",
            json=CASE_BODY,
            headers=bearer(system, "sacwis.sync"),
        )
        assert upsert.status_code == 201, upsert.text
        case_id = upsert.json()["id"]
        assessments = f"/api/assessment/v1/cases/{case_id}/sdm-assessments"
        draft = await client.post(assessments, json=SAFETY_ASSESSMENT, headers=worker)
        assert draft.status_code == 201, draft.text
        done = await client.post(f"{assessments}/{draft.json()['id']}/complete", headers=worker)
        assert done.status_code == 200, done.text
        assert done.json()["results"]["decisions"]["safety_decision"]["final"] == "conditionally_safe"
        decided = time.monotonic()

        alerts_path = f"/api/plans/v1/cases/{case_id}/alerts"
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            response = await client.get(alerts_path, headers=worker)
            assert response.status_code == 200, response.text
            found = [a for a in response.json()["items"] if a["kind"] == "conditionally_safe_without_plan"]
            if found and found[0]["supervisor"] is not None:
                break
            await asyncio.sleep(0.5)
        [alert] = found
        assert time.monotonic() - decided >= WITHIN_HOURS * 3600 - 1  # not before the configured time
        assert (alert["owner"], alert["supervisor"], alert["sdm_assessment_id"]) == (
            "fsw.rivera",
            "sup.okafor",
            draft.json()["id"],
        )
        # the supervisor sees it in the case's alerts too
        as_supervisor = await client.get(alerts_path, headers=supervisor)
        assert as_supervisor.status_code == 200, as_supervisor.text
        assert "conditionally_safe_without_plan" in [a["kind"] for a in as_supervisor.json()["items"]]
