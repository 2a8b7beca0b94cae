"""The supervisor's one approval queue lists safety plans: the plans service and the assessment service on one
in-process bus. Submitting a plan files a queue item (through `sop.plans.safety_plan.approval_requested`),
the decision is taken at the plans service and its `approval_decided` event closes the item."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sop_assessment.component import component as assessment_component
from sop_assessment.supervision import plan_events
from sop_plans.component import component as plans_component
from sop_shared.clock import FixedClock
from sop_shared.events import Event, InProcessBus
from sop_shared.testing import InternalTokens, RunningService, run_component


@pytest.fixture
async def both(
    tmp_path: Path,
    tokens: InternalTokens,
    clock: FixedClock,
) -> AsyncIterator[tuple[RunningService, RunningService]]:
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


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 5.0) -> Any:
    """The relay publishes every 50 ms; the consumer runs when it does."""
    for _ in range(int(seconds / 0.05)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time allowed")


@pytest.mark.parametrize("decision", ["approved", "requires_modification"])
async def test_a_submitted_plan_is_in_the_supervisors_queue_and_the_decision_at_plans_closes_it(
    both: tuple[RunningService, RunningService],
    tokens: InternalTokens,
    case_id: uuid.UUID,
    worker: dict[str, str],
    supervisor: dict[str, str],
    lopez_ongoing_plan: dict[str, Any],
    plan_flow_class: Any,
    decision: str,
) -> None:
    plans, assessment = both
    flow = plan_flow_class(plans, case_id, worker, supervisor)
    unwatched = {**lopez_ongoing_plan, "rules": [{**lopez_ongoing_plan["rules"][0], "monitors": []}]}
    plan = await flow.create(unwatched)  # a rule nobody watches: a warning the supervisor would ask about
    await flow.submit(plan["id"], supervisor="sup.okafor", note="Signed at the kitchen table.")
    okafor = tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",))

    async def queue(status: str = "pending") -> list[dict[str, Any]]:
        response = await assessment.client.get("/v1/approvals", params={"status": status}, headers=okafor)
        assert response.status_code == 200, response.text
        return response.json()["items"]  # type: ignore[no-any-return]

    [item] = await eventually(queue)
    assert (
        item["kind"],
        item["source_service"],
        item["subject_id"],
        item["subject_version"],
        item["subject_hash"],
        item["requested_by"],
        item["approver_subject"],
    ) == (
        "safety_plan",
        "plans",
        plan["id"],
        plan["current_version_number"],
        plan["content_hash"],
        "fsw.rivera",
        "sup.okafor",
    )
    assert item["decide_at"] == f"/api/plans/v1/cases/{case_id}/safety-plans/{plan['id']}/approve"
    assert "Keeping Sofía and Mateo safe at home" in item["summary"]
    # the plan's practice warnings travel with the request, so the supervisor sees them on the item
    assert item["warnings"] == plan["warnings"] != []

    # The queue does not decide another service's item: it says where to.
    refused = await assessment.client.post(
        f"/v1/cases/{case_id}/approvals/{item['id']}/decision",
        json={"decision": "approved"},
        headers={
            **tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",), case_id=case_id),
            "If-Match": '"1"',
        },
    )
    assert refused.status_code == 409 and refused.json()["decide_at"] == item["decide_at"]

    await flow.decide(await flow.get(plan["id"]), decision, comment="Name who drives on Sundays.")
    closed_status = "approved" if decision == "approved" else "returned"
    [closed] = await eventually(lambda: queue(closed_status))
    assert (closed["id"], closed["decided_by"]) == (item["id"], "sup.okafor")
    assert [h["action"] for h in closed["history"]] == ["requested", closed_status]
    assert await queue() == []

    if decision == "requires_modification":  # the worker changes the plan and submits again: a new item
        await flow.submit(plan["id"], supervisor="sup.okafor")
        [again] = await eventually(queue)
        assert again["id"] != item["id"]


async def test_each_plan_event_is_applied_once_and_a_decision_arriving_first_is_not_undone(
    both: tuple[RunningService, RunningService],
    tokens: InternalTokens,
    case_id: uuid.UUID,
) -> None:
    _, assessment = both
    plan_id = uuid.uuid4()
    data = {
        "plan_id": str(plan_id),
        "case_id": str(case_id),
        "plan_type": "immediate",
        "title": "Tonight",
        "version_number": 1,
        "content_hash": "a" * 64,
        "requested_by": "fsw.rivera",
        "supervisor": "sup.okafor",
        "decide_at": f"/v1/safety-plans/{plan_id}/approve",
    }
    requested = Event(
        id=uuid.uuid4(),
        subject=plan_events.PLAN_APPROVAL_REQUESTED,
        occurred_at=datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
        data={**data, "status": "pending_approval"},
        case_id=case_id,
    )
    decided = Event(
        id=uuid.uuid4(),
        subject=plan_events.PLAN_APPROVAL_DECIDED,
        occurred_at=requested.occurred_at.replace(minute=5),
        data={**data, "status": "approved", "decision": "approved", "decided_by": "sup.okafor"},
        case_id=case_id,
    )
    bus = assessment.bus
    await bus.publish(decided)  # out of order: the decision first
    await bus.publish(requested)
    await bus.publish(requested)  # and a redelivery
    okafor = tokens.headers("assessment", subject="sup.okafor", roles=("supervisor",), case_id=case_id)
    items = (await assessment.client.get(f"/v1/cases/{case_id}/approvals", headers=okafor)).json()["items"]
    assert [(i["status"], i["subject_id"]) for i in items] == [("approved", str(plan_id))]
