"""The case boundary in the plans service (issue 10, finding 2): a plan's danger statements, a next step's
goal and plan, a check-in's rule, a signature's participant are all resolved within the request's case;
another family's id is refused exactly as a random one is — on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sop_plans.component import component
from sop_shared.clock import FixedClock
from sop_shared.ids import new_id
from sop_shared.testing import InternalTokens, RunningService, run_component


@pytest.fixture
async def plans(database_url: str, tokens: InternalTokens, tmp_path: Path, clock: FixedClock) -> Any:
    # A short wait for events not yet heard of keeps the refusals of unknown statements and goals quick here.
    async with run_component(
        component,
        database_url=database_url,
        tokens=tokens,
        data_dir=tmp_path,
        expiry_sweep_seconds=0,
        case_ref_grace_seconds=0.2,
    ) as svc:
        svc.app.state.clock = clock
        yield svc


def same_problem(first: Any, second: Any) -> bool:
    def strip(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in {"request_id", "instance"}}

    return first.status_code == second.status_code == 422 and strip(first.json()) == strip(second.json())


@pytest.fixture
async def two_cases(
    plans: RunningService, tokens: InternalTokens, lopez_records_in: Any, lopez_ongoing_plan: dict[str, Any]
) -> dict[str, Any]:
    """Case A holds the Lopez records and plan; case B is another family on the same worker's caseload."""
    a, b = new_id(), new_id()
    await lopez_records_in(a)
    worker_a, worker_b = tokens.headers("plans", case_id=a), tokens.headers("plans", case_id=b)
    plan_a = (await plans.client.post(f"/v1/cases/{a}/safety-plans", json=lopez_ongoing_plan, headers=worker_a)).json()
    return {"a": a, "b": b, "worker_a": worker_a, "worker_b": worker_b, "plan_a": plan_a}


def without_lopez_links(plan: dict[str, Any]) -> dict[str, Any]:
    """The Lopez plan as another family's: nobody named by a person id, no danger statement linked."""
    plan = copy.deepcopy(plan)
    plan["danger_statement_ids"] = []
    plan["participants"] = [{k: v for k, v in p.items() if k != "person_id"} for p in plan["participants"]]
    for rule in plan["rules"]:
        for who in ("responsible", "monitors"):
            rule[who] = [{"name": p["name"]} for p in rule[who]]
    plan["if_rule_broken"]["who_is_called"] = [{"name": p["name"]} for p in plan["if_rule_broken"]["who_is_called"]]
    return plan


async def test_a_plan_cannot_link_another_familys_danger_statement_or_people(
    plans: RunningService,
    two_cases: dict[str, Any],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    url = f"/v1/cases/{two_cases['b']}/safety-plans"
    foreign = await plans.client.post(url, json=lopez_ongoing_plan, headers=two_cases["worker_b"])
    # the same plan with every Lopez id (statement, people) swapped for a random one
    text = json.dumps(lopez_ongoing_plan)
    for lopez_id in set(re.findall(r"01937a2e-[0-9a-f-]{27}", text)):
        text = text.replace(lopez_id, str(new_id()))
    random = await plans.client.post(url, json=json.loads(text), headers=two_cases["worker_b"])
    assert same_problem(foreign, random), foreign.text
    assert "danger_statement_ids.0" in {e["field"] for e in foreign.json()["errors"]}
    assert (await plans.client.get(url, headers=two_cases["worker_b"])).json()["items"] == []
    own = await plans.client.post(url, json=without_lopez_links(lopez_ongoing_plan), headers=two_cases["worker_b"])
    assert own.status_code == 201, own.text


async def test_a_next_step_cannot_serve_another_familys_goal_or_plan(
    plans: RunningService,
    two_cases: dict[str, Any],
) -> None:
    url = f"/v1/cases/{two_cases['b']}/next-steps"
    step = {
        "action": "Rosa and Maria write down the evening call times together.",
        "owner": {"name": "Rosa"},
        "owner_kind": "network",
        "due_on": "2026-11-10",
    }
    for field, foreign_id in (
        ("safety_plan_id", two_cases["plan_a"]["id"]),
        ("goal_id", "01937a2e-5c00-7000-8000-00000000e001"),
    ):
        foreign = await plans.client.post(url, json={**step, field: foreign_id}, headers=two_cases["worker_b"])
        random = await plans.client.post(url, json={**step, field: str(new_id())}, headers=two_cases["worker_b"])
        assert same_problem(foreign, random), (field, foreign.text)
        assert foreign.json()["errors"] == [{"field": field, "message": foreign.json()["errors"][0]["message"]}]
    assert (await plans.client.get(url, headers=two_cases["worker_b"])).json()["items"] == []


async def test_a_check_in_and_a_signature_cannot_name_another_familys_rule_or_participant(
    plans: RunningService,
    two_cases: dict[str, Any],
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    plan_b = (
        await plans.client.post(
            f"/v1/cases/{two_cases['b']}/safety-plans",
            json=without_lopez_links(lopez_ongoing_plan),
            headers=two_cases["worker_b"],
        )
    ).json()
    plan_a = two_cases["plan_a"]
    signature = {
        "version_number": plan_b["current_version_number"],
        "content_hash": plan_b["content_hash"],
        "signer_name": "Dana Baker",
        "signer_role": "caregiver",
        "method": "typed_name",
        "typed_name": "Dana Baker",
        "affirmation": "I have read this plan and I agree to it.",
    }
    url = f"/v1/safety-plans/{plan_b['id']}/signatures"
    foreign = await plans.client.post(
        url, json={**signature, "participant_id": plan_a["participants"][0]["id"]}, headers=two_cases["worker_b"]
    )
    random = await plans.client.post(
        url, json={**signature, "participant_id": str(new_id())}, headers=two_cases["worker_b"]
    )
    assert same_problem(foreign, random), foreign.text
    check_in = {"reported_by": {"name": "Rosa"}, "kept": True}
    url = f"/v1/safety-plans/{plan_b['id']}/check-ins"
    foreign = await plans.client.post(
        url, json={**check_in, "rule_id": plan_a["rules"][0]["id"]}, headers=two_cases["worker_b"]
    )
    random = await plans.client.post(url, json={**check_in, "rule_id": str(new_id())}, headers=two_cases["worker_b"])
    assert same_problem(foreign, random), foreign.text
    assert foreign.json()["errors"] == [{"field": "rule_id", "message": "no such safety plan rule in this case"}]
