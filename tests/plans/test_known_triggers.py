"""A plan says how it avoids the known triggers of the case's children and caregivers (issue 14). Plans learns
which people have known triggers — ids and counts only, never the words — from the assessment service's
trauma-history events; a plan version's `trigger_plan` says, per trigger id, how the plan avoids it; a known
trigger it leaves out is a warning the worker and the supervisor see (on the plan and on the approval item), never
a block. The family reads the words once the plan is shared with them; the network does not, by default. The rules
as plain functions, the API on SQLite and PostgreSQL, and the event from the assessment service itself."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from sop_assessment.component import component as assessment_component
from sop_plans.component import component as plans_component
from sop_plans.known_triggers.rules import trigger_plan_errors, unaddressed_trigger_warnings
from sop_plans.models import KnownTriggers
from sop_plans.schemas import PlanContent
from sop_shared.clock import FixedClock
from sop_shared.db import utcnow
from sop_shared.events import Event, InProcessBus
from sop_shared.ids import new_id
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService, run_component

if TYPE_CHECKING:
    from conftest import PlanFlow

SOFIA_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a002")
ALONE_AT_NIGHT, LOCKED_DOOR, SHOUTING = (new_id() for _ in range(3))


def _content(*answered: uuid.UUID) -> PlanContent:
    return PlanContent.model_validate(
        {
            "title": "Sofia is safe at night",
            "language": "en",
            "effective_from": "2026-11-03T09:00:00Z",
            "expires_at": "2026-12-03T09:00:00Z",
            "safety_assessment_id": None,
            "danger_statement_ids": [],
            "threat_codes": [],
            "participants": [],
            "rules": [],
            "triggers": [],
            "if_rule_broken": None,
            "backup_plan": None,
            "worker_monitoring": None,
            "trigger_plan": [{"trigger_id": str(t), "how_avoided": "Rosa stays until Sofia sleeps."} for t in answered],
        }
    )


# --- the rules -----------------------------------------------------------------------------------------------


def test_each_person_whose_known_triggers_the_plan_leaves_out_is_one_warning_naming_the_ids_only() -> None:
    sofia = SimpleNamespace(person_role="child", trigger_ids=[str(ALONE_AT_NIGHT), str(LOCKED_DOOR)])
    maria = SimpleNamespace(person_role="caregiver", trigger_ids=[str(SHOUTING)])
    [warning] = unaddressed_trigger_warnings(_content(ALONE_AT_NIGHT, SHOUTING), [sofia, maria])
    assert (warning.code, warning.field) == ("known_trigger_not_addressed", "trigger_plan")
    assert "1 known trigger of a child" in warning.message and str(LOCKED_DOOR) in warning.message
    assert str(ALONE_AT_NIGHT) not in warning.message
    assert unaddressed_trigger_warnings(_content(ALONE_AT_NIGHT, LOCKED_DOOR, SHOUTING), [sofia, maria]) == []
    assert len(unaddressed_trigger_warnings(_content(), [sofia, maria])) == 2
    assert unaddressed_trigger_warnings(_content(), []) == []  # no known triggers: nothing to ask


def test_a_trigger_is_answered_once_in_a_version() -> None:
    assert trigger_plan_errors([ALONE_AT_NIGHT, LOCKED_DOOR]) == []
    assert trigger_plan_errors([ALONE_AT_NIGHT, LOCKED_DOOR, ALONE_AT_NIGHT]) == [
        {"field": "trigger_plan.2.trigger_id", "message": "this trigger is answered already"}
    ]


def test_a_version_without_a_trigger_plan_is_hashed_as_before() -> None:
    from sop_plans.safety_plans.rules import stored_form

    assert "trigger_plan" not in stored_form(_content())
    assert stored_form(_content(ALONE_AT_NIGHT))["trigger_plan"][0]["trigger_id"] == str(ALONE_AT_NIGHT)


# --- the consumer and the API (SQLite and PostgreSQL) ------------------------------------------------------------


def trauma_event(case_id: uuid.UUID, what: str, version: int, *trigger_ids: uuid.UUID, history: uuid.UUID) -> Event:
    """What the assessment service announces when the worker records or changes a trauma history."""
    return Event(
        id=new_id(),
        subject=f"sop.assessment.trauma_history.{what}",
        occurred_at=utcnow(),
        case_id=case_id,
        data={
            "trauma_history_id": str(history),
            "case_id": str(case_id),
            "person_role": "child",
            "person_id": str(SOFIA_ID),
            "consented_audiences": ["staff", "supervisor"],
            "version": version,
            "trigger_ids": [str(t) for t in trigger_ids],
            "trigger_count": len(trigger_ids),
        },
    )


@pytest.mark.sqlite_smoke
async def test_a_plan_that_leaves_out_a_known_trigger_carries_a_warning_and_the_family_reads_how_it_avoids_them(
    flow: PlanFlow, plans: RunningService, tokens: InternalTokens, lopez_ongoing_plan: dict[str, Any]
) -> None:
    history = new_id()
    recorded = trauma_event(flow.case_id, "recorded", 1, ALONE_AT_NIGHT, history=history)
    for event in (
        recorded,
        recorded,
        trauma_event(flow.case_id, "updated", 2, ALONE_AT_NIGHT, LOCKED_DOOR, history=history),
    ):
        await plans.bus.publish(event)  # the same event twice changes nothing
    await plans.bus.publish(trauma_event(flow.case_id, "updated", 1, ALONE_AT_NIGHT, history=history))  # late
    async with plans.app.state.database.session() as session:
        [row] = (await session.execute(select(KnownTriggers))).scalars().all()
    assert (row.history_version, row.trigger_ids) == (2, [str(ALONE_AT_NIGHT), str(LOCKED_DOOR)])

    unanswered = await flow.create(lopez_ongoing_plan)
    [warning] = [w for w in unanswered["warnings"] if w["code"] == "known_trigger_not_addressed"]
    assert "2 known triggers of a child" in warning["message"]

    avoids = "Rosa sleeps over on the nights Maria works, so Sofia is never alone in the house at night."
    half = {**lopez_ongoing_plan, "trigger_plan": [{"trigger_id": str(ALONE_AT_NIGHT), "how_avoided": avoids}]}
    partly = await flow.create(half)
    [warning] = [w for w in partly["warnings"] if w["code"] == "known_trigger_not_addressed"]
    assert str(LOCKED_DOOR) in warning["message"] and str(ALONE_AT_NIGHT) not in warning["message"]
    assert partly["trigger_plan"] == [{"trigger_id": str(ALONE_AT_NIGHT), "how_avoided": avoids}]

    doors = "The bathroom lock is taken off; doors in the house stay unlocked."
    both = {
        **lopez_ongoing_plan,
        "trigger_plan": [
            {"trigger_id": str(ALONE_AT_NIGHT), "how_avoided": avoids},
            {"trigger_id": str(LOCKED_DOOR), "how_avoided": doors},
        ],
    }
    answered = await flow.create(both)
    assert "known_trigger_not_addressed" not in {w["code"] for w in answered["warnings"]}

    # A warning never blocks: the partly answered plan is signed, approved and put in force.
    await flow.sign(partly)
    await flow.submit(partly["id"])
    approved = await flow.decide(await flow.get(partly["id"]))
    assert approved["status"] == "approved"
    assert (await flow.activate(partly["id"]))["status"] == "active"

    # Who reads the words: the family (the plan is shared with them), not the network by default.
    maria = tokens.headers(
        "plans",
        subject="maria.lopez",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        case_id=flow.case_id,
    )
    family = await flow.call("GET", f"/v1/cases/{flow.case_id}/safety-plans/{partly['id']}", headers=maria)
    assert [e["how_avoided"] for e in family["trigger_plan"]] == [avoids] and family["warnings"] == []
    network = await flow.call(
        "GET",
        f"/v1/cases/{flow.case_id}/safety-plans/{partly['id']}",
        headers={**flow.worker, "X-SOP-Audience": "network"},
    )
    assert network["trigger_plan"] == []

    # Its words wait for a translation like the plan's other words.
    queue = await flow.call("GET", f"/v1/cases/{flow.case_id}/translation-queue", params={"language": "es"})
    fields = {(i["record_kind"], i["record_id"], i["source_field"]) for i in queue["items"]}
    assert ("safety_plan", partly["id"], "trigger_plan.0.how_avoided") in fields


async def test_a_trigger_plan_names_only_a_known_trigger_of_the_case_once(
    flow: PlanFlow, plans: RunningService, lopez_ongoing_plan: dict[str, Any], lopez_records_in: Any
) -> None:
    await plans.bus.publish(trauma_event(flow.case_id, "recorded", 1, ALONE_AT_NIGHT, history=new_id()))
    other_case, theirs = new_id(), new_id()
    await lopez_records_in(other_case)
    await plans.bus.publish(trauma_event(other_case, "recorded", 1, theirs, history=new_id()))
    url = f"/v1/cases/{flow.case_id}/safety-plans"
    for trigger_id in (theirs, uuid.uuid4()):
        body = {**lopez_ongoing_plan, "trigger_plan": [{"trigger_id": str(trigger_id), "how_avoided": "Never."}]}
        refused = await plans.client.post(url, json=body, headers=flow.worker)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "trigger_plan.0.trigger_id"
    twice = [{"trigger_id": str(ALONE_AT_NIGHT), "how_avoided": "Rosa stays."}] * 2
    refused = await plans.client.post(url, json={**lopez_ongoing_plan, "trigger_plan": twice}, headers=flow.worker)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "trigger_plan.1.trigger_id"
    assert (await plans.client.get(url, headers=flow.worker)).json()["items"] == []


# --- across services: the assessment service's own event, to the supervisor's approval item --------------------


@pytest.fixture
async def both(tmp_path: Path, tokens: InternalTokens, clock: FixedClock) -> AsyncIterator[Any]:
    bus = InProcessBus()
    (tmp_path / "plans").mkdir()
    (tmp_path / "assessment").mkdir()
    async with (
        run_component(
            plans_component,
            database_url=f"sqlite+aiosqlite:///{tmp_path}/plans.db",
            tokens=tokens,
            data_dir=tmp_path / "plans",
            bus=bus,
            expiry_sweep_seconds=0,
        ) as plans,
        run_component(
            assessment_component,
            database_url=f"sqlite+aiosqlite:///{tmp_path}/assessment.db",
            tokens=tokens,
            data_dir=tmp_path / "assessment",
            bus=bus,
        ) as assessment,
    ):
        plans.app.state.clock = clock
        yield plans, assessment


async def test_the_assessment_services_trauma_history_reaches_the_plan_and_the_supervisors_approval_item(
    both: Any,
    tokens: InternalTokens,
    case_id: uuid.UUID,
    worker: dict[str, str],
    supervisor: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
    plan_flow_class: Any,
) -> None:
    plans, assessment = both
    rivera = tokens.headers("assessment", case_id=case_id)
    sofia = {
        "person": {"name": "Sofia"},
        "person_role": "child",
        "history": "Sofia found her mother asleep and could not wake her, twice, at night.",
        "triggers": [{"trigger": "Being alone in the house at night"}, {"trigger": "A door that will not open"}],
        "consented_audiences": ["staff", "supervisor"],
    }
    made = await assessment.client.post(f"/v1/cases/{case_id}/trauma-histories", json=sofia, headers=rivera)
    assert made.status_code == 201, made.text
    trigger_ids = [t["id"] for t in made.json()["triggers"]]
    assert all(trigger_ids)
    async with assessment.app.state.database.session() as session:
        from sop_assessment.models import platform

        payloads = (await session.execute(select(platform.outbox.c.payload))).scalars().all()
    [announced] = [p for p in payloads if p.get("trauma_history_id") == made.json()["id"]]
    assert announced["trigger_ids"] == trigger_ids and announced["trigger_count"] == 2
    assert "Being alone" not in str(announced)  # never the words

    flow = plan_flow_class(plans, case_id, worker, supervisor)
    plan = await eventually(lambda: _warned(flow, lopez_ongoing_plan))
    await flow.submit(plan["id"], supervisor="sup.okafor")
    okafor = tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",))

    async def item() -> list[dict[str, Any]]:
        response = await assessment.client.get("/v1/approvals", params={"status": "pending"}, headers=okafor)
        return response.json()["items"]  # type: ignore[no-any-return]

    [queued] = await eventually(item)
    assert "known_trigger_not_addressed" in {w["code"] for w in queued["warnings"]}

    # The worker changes a trigger's words: it is a new trigger (a new id); the one kept keeps its id.
    changed = await assessment.client.patch(
        f"/v1/cases/{case_id}/trauma-histories/{made.json()['id']}",
        json={"triggers": [{"trigger": "Being alone in the house at night"}, {"trigger": "Loud knocking"}]},
        headers={**rivera, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    now_ids = [t["id"] for t in changed.json()["triggers"]]
    assert now_ids[0] == trigger_ids[0] and now_ids[1] not in trigger_ids


async def _warned(flow: PlanFlow, plan: dict[str, Any]) -> dict[str, Any] | None:
    made = await flow.create(plan)
    return made if "known_trigger_not_addressed" in {w["code"] for w in made["warnings"]} else None


async def eventually(check: Any, seconds: float = 5.0) -> Any:
    """The relay publishes every 50 ms; the consumer runs when it does."""
    for _ in range(int(seconds / 0.05)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time allowed")
