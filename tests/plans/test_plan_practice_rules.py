"""Practice rules of the plans service (issue 14), as plain functions and over HTTP on SQLite and PostgreSQL:
at most one plan of each type in force per case (activating a plan ends the other one, even when two are
activated at once); a plan whose start is later than now is approved, not active, until it starts; an
immediate plan takes effect when the worker and the caregivers sign on the spot, the supervisor's approval due
within the policy's hours."""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from sop_plans.expiry import sweep_once
from sop_plans.models import (
    PlanStatus,
    PlanType,
    SafetyPlan,
    SafetyPlanSignature,
    SignatureDecision,
    SignerRole,
    platform,
)
from sop_plans.safety_plans.lifecycle import (
    due_to_start,
    in_force,
    replaced_on_activation,
    signed_on_the_spot,
    starts_later,
)
from sop_shared.clock import FixedClock
from sop_shared.ids import new_id
from sop_shared.testing import RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow

CASE = uuid.UUID("01937a2e-5c00-7000-8000-00000000c001")
OTHER_CASE = uuid.UUID("01937a2e-5c00-7000-8000-00000000c002")


def _plan(
    plan_type: PlanType = PlanType.ongoing,
    status: PlanStatus = PlanStatus.active,
    *,
    in_force_version: int | None = 1,
    case_id: uuid.UUID = CASE,
) -> SafetyPlan:
    return SafetyPlan(
        id=uuid.uuid4(),
        case_id=case_id,
        plan_type=plan_type,
        status=status,
        title="A plan",
        effective_from=datetime(2026, 11, 2, tzinfo=UTC),
        in_force_version_number=in_force_version,
        owner="fsw.rivera",
        rule_set_id="ar-dcfs-2026-01",
        created_by="fsw.rivera",
    )


# --- one plan of each type in force: the rule --------------------------------------------------------------


def test_activating_a_plan_replaces_the_cases_plan_of_the_same_type_in_force() -> None:
    new = _plan(status=PlanStatus.approved, in_force_version=None)
    old = _plan()
    assert replaced_on_activation(new, [new, old]) == [old]


@pytest.mark.parametrize("status", [PlanStatus.modified, PlanStatus.pending_approval, PlanStatus.approved])
def test_a_plan_whose_version_in_force_binds_while_an_edit_is_prepared_is_replaced_too(status: PlanStatus) -> None:
    new = _plan(status=PlanStatus.approved, in_force_version=None)
    old = _plan(status=status, in_force_version=2)
    assert in_force(old)
    assert replaced_on_activation(new, [old]) == [old]


def test_another_type_another_case_a_plan_never_activated_and_an_ended_plan_are_left_alone() -> None:
    new = _plan(status=PlanStatus.approved, in_force_version=None)
    others = [
        _plan(PlanType.immediate),
        _plan(case_id=OTHER_CASE),
        _plan(status=PlanStatus.draft, in_force_version=None),
        _plan(status=PlanStatus.terminated),
        _plan(status=PlanStatus.expired),
    ]
    assert replaced_on_activation(new, others) == []


def test_a_plan_does_not_replace_itself_when_its_new_version_comes_into_force() -> None:
    plan = _plan(status=PlanStatus.approved, in_force_version=1)
    assert replaced_on_activation(plan, [plan]) == []


# --- over HTTP -----------------------------------------------------------------------------------------------


async def _approved(flow: PlanFlow, plan: dict[str, Any]) -> dict[str, Any]:
    created = await flow.create(plan)
    await flow.sign(created)
    await flow.submit(created["id"])
    approved = await flow.decide(await flow.get(created["id"]))
    assert approved["status"] == "approved"
    return approved


async def _events(plans: RunningService, subject: str) -> list[dict[str, Any]]:
    async with plans.app.state.database.session() as s:
        rows = await s.execute(
            select(platform.outbox.c.payload).where(platform.outbox.c.subject == subject).order_by(platform.outbox.c.id)
        )
        return [row.payload for row in rows]


@pytest.mark.sqlite_smoke
async def test_activating_a_new_ongoing_plan_ends_the_one_in_force_with_a_reason(
    flow: PlanFlow, plans: RunningService, lopez_ongoing_plan: dict[str, Any]
) -> None:
    old = await flow.active_plan(lopez_ongoing_plan)
    new = await _approved(flow, {**copy.deepcopy(lopez_ongoing_plan), "title": "Safe at home, second month"})
    active = await flow.activate(new["id"])
    assert active["status"] == "active"
    assert active["replaced_plan_ids"] == [old["id"]]
    ended = await flow.get(old["id"])
    assert ended["status"] == "terminated"
    assert (ended["end_reason"], ended["end_note"]) == ("replaced_by_plan", None)  # a code, words are the reader's
    assert (ended["ended_by"], ended["replaced_by_plan_id"]) == ("fsw.rivera", new["id"])
    assert ended["ended_at"] == active["activated_at"]
    terminated = await _events(plans, "sop.plans.safety_plan.terminated")
    assert [(e["plan_id"], e["end_reason"], e["replaced_by_plan_id"], e["terminated_by"]) for e in terminated] == [
        (old["id"], "replaced_by_plan", new["id"], "fsw.rivera")
    ]
    activated = await _events(plans, "sop.plans.safety_plan.activated")
    assert activated[-1]["replaced_plan_ids"] == [old["id"]]
    in_force = await flow.call("GET", f"/v1/cases/{flow.case_id}/safety-plans", params={"status": "active"})
    assert [p["id"] for p in in_force["items"]] == [new["id"]]


async def test_a_plan_of_another_type_stays_in_force(flow: PlanFlow, lopez_ongoing_plan: dict[str, Any]) -> None:
    ongoing = await flow.active_plan(lopez_ongoing_plan)
    immediate = {**copy.deepcopy(lopez_ongoing_plan), "plan_type": "immediate", "expires_at": "2026-11-09T15:00:00Z"}
    active = await flow.activate((await _approved(flow, immediate))["id"])
    assert active["replaced_plan_ids"] == []
    assert (await flow.get(ongoing["id"]))["status"] == "active"


async def test_a_new_version_of_the_plan_in_force_does_not_end_the_plan(
    flow: PlanFlow, lopez_ongoing_plan: dict[str, Any]
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    edited = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{active['id']}",
        json={
            "backup_plan": "If Rosa cannot come, Pastor Greene or his wife picks the children up.",
            "change_note": "x",
        },
        headers={**flow.worker, "If-Match": f'"{active["version"]}"'},
    )
    await flow.sign(edited)
    await flow.submit(edited["id"])
    await flow.decide(await flow.get(edited["id"]))
    again = await flow.activate(edited["id"])
    assert (again["status"], again["in_force"]["version_number"], again["replaced_plan_ids"]) == ("active", 2, [])


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_activations_at_once_leave_one_plan_in_force(
    flow: PlanFlow, plans: RunningService, lopez_ongoing_plan: dict[str, Any]
) -> None:
    first = await _approved(flow, lopez_ongoing_plan)
    second = await _approved(flow, {**copy.deepcopy(lopez_ongoing_plan), "title": "The same plan, typed twice"})
    responses = await asyncio.gather(
        *(plans.client.post(f"/v1/safety-plans/{plan['id']}/activate", headers=flow.worker) for plan in (first, second))
    )
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    plans_now = [await flow.get(p["id"]) for p in (first, second)]
    assert sorted(p["status"] for p in plans_now) == ["active", "terminated"]
    winner = next(p for p in plans_now if p["status"] == "active")
    loser = next(p for p in plans_now if p["status"] == "terminated")
    assert winner["replaced_plan_ids"] == [loser["id"]] and loser["replaced_by_plan_id"] == winner["id"]


# --- a plan starts when its start arrives: the rule ----------------------------------------------------------

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def test_a_start_later_than_now_waits_and_one_now_or_earlier_does_not() -> None:
    assert starts_later(NOW + timedelta(minutes=1), NOW)
    assert not starts_later(NOW, NOW)
    assert not starts_later(NOW - timedelta(days=1), NOW)


def test_an_approved_plan_is_due_to_start_once_its_recorded_start_arrives() -> None:
    plan = _plan(status=PlanStatus.approved, in_force_version=None)
    assert not due_to_start(plan, NOW)  # approved, but nobody activated it
    plan.starts_at = NOW + timedelta(days=2)
    assert not due_to_start(plan, NOW)
    assert due_to_start(plan, NOW + timedelta(days=2))
    plan.status = PlanStatus.draft  # edited since: approved and activated again first
    assert not due_to_start(plan, NOW + timedelta(days=3))


# --- over HTTP -----------------------------------------------------------------------------------------------

LATER = {"effective_from": "2026-11-05T15:00:00Z", "expires_at": "2026-12-05T15:00:00Z"}


@pytest.mark.sqlite_smoke
async def test_a_plan_activated_before_its_start_stays_approved_until_it_starts_on_a_read(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    approved = await _approved(flow, {**lopez_ongoing_plan, **LATER})
    waiting = await flow.activate(approved["id"])
    assert (waiting["status"], waiting["in_force"], waiting["activated_at"]) == ("approved", None, None)
    assert waiting["starts_at"].startswith("2026-11-05T15:00:00")
    [scheduled] = await _events(plans, "sop.plans.safety_plan.start_scheduled")
    assert (scheduled["starts_at"], scheduled["scheduled_by"]) == ("2026-11-05T15:00:00+00:00", "fsw.rivera")
    assert await _events(plans, "sop.plans.safety_plan.activated") == []
    clock.set(datetime(2026, 11, 5, 14, 59, tzinfo=UTC))
    assert (await flow.get(approved["id"]))["status"] == "approved"
    clock.set(datetime(2026, 11, 5, 18, 0, tzinfo=UTC))
    started = await flow.get(approved["id"])
    assert (started["status"], started["in_force"]["version_number"], started["starts_at"]) == ("active", 1, None)
    assert started["activated_at"].startswith("2026-11-05T15:00:00")  # in force from its start
    assert started["review"]["next_review_due"].startswith("2026-12-05T15:00:00")
    [activated] = await _events(plans, "sop.plans.safety_plan.activated")
    assert (activated["plan_id"], activated["activated_by"]) == (approved["id"], "fsw.rivera")
    assert (await flow.get(approved["id"]))["version"] == started["version"]  # started once


async def test_the_sweep_starts_a_plan_and_it_then_replaces_the_one_in_force_as_of_its_start(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    old = await flow.active_plan(lopez_ongoing_plan)
    new = await flow.activate((await _approved(flow, {**copy.deepcopy(lopez_ongoing_plan), **LATER}))["id"])
    assert new["status"] == "approved"
    assert (await flow.get(old["id"]))["status"] == "active"  # the old plan binds the family until then
    policy = plans.app.state.plan_policy
    assert await sweep_once(plans.app.state.database, clock, policy) == 0
    clock.set(datetime(2026, 11, 6, 9, 0, tzinfo=UTC))
    assert await sweep_once(plans.app.state.database, clock, policy) == 1
    assert await sweep_once(plans.app.state.database, clock, policy) == 0  # once
    ended = await flow.get(old["id"])
    assert (ended["status"], ended["replaced_by_plan_id"]) == ("terminated", new["id"])
    assert ended["ended_at"].startswith("2026-11-05T15:00:00")
    assert (await flow.get(new["id"]))["status"] == "active"


async def test_an_edit_before_the_start_cancels_it_until_approved_and_activated_again(
    flow: PlanFlow, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    waiting = await flow.activate((await _approved(flow, {**lopez_ongoing_plan, **LATER}))["id"])
    edited = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{waiting['id']}",
        json={"backup_plan": "If Rosa cannot come, Pastor Greene's wife picks them up.", "change_note": "Backup"},
        headers={**flow.worker, "If-Match": f'"{waiting["version"]}"'},
    )
    assert (edited["status"], edited["starts_at"]) == ("draft", None)
    clock.set(datetime(2026, 11, 6, 9, 0, tzinfo=UTC))
    assert (await flow.get(waiting["id"]))["status"] == "draft"


# --- an immediate plan takes effect on the spot: the rule ----------------------------------------------------


def _signature(role: str, decision: str = "signed", participant: uuid.UUID | None = None, version: int = 1) -> Any:
    return SafetyPlanSignature(
        id=new_id(),  # time-ordered, as the service's: a later sign-off has a later id
        plan_id=uuid.uuid4(),
        version_number=version,
        version_hash="0" * 64,
        decision=SignatureDecision(decision),
        signer_name="someone",
        signer_role=SignerRole(role),
        participant_id=participant,
        recorded_by="fsw.rivera",
        recorded_by_type="staff",
        signed_at=NOW,
        signature_hash="0" * 64,
    )


MARIA_P, JUAN_P = uuid.uuid4(), uuid.uuid4()


def test_an_immediate_plan_takes_effect_when_the_worker_and_every_caregiver_have_signed() -> None:
    both = [MARIA_P, JUAN_P]
    worker = _signature("worker")
    maria, juan = _signature("caregiver", participant=MARIA_P), _signature("caregiver", participant=JUAN_P)
    assert signed_on_the_spot(PlanType.immediate, both, [maria, worker, juan], 1)
    assert not signed_on_the_spot(PlanType.immediate, both, [maria, juan], 1)  # the worker has not signed
    assert not signed_on_the_spot(PlanType.immediate, both, [maria, worker], 1)  # Juan has not
    assert not signed_on_the_spot(PlanType.ongoing, both, [maria, worker, juan], 1)  # waits for approval
    assert not signed_on_the_spot(PlanType.immediate, [], [worker], 1)  # nobody in the family signed
    assert not signed_on_the_spot(PlanType.immediate, both, [maria, worker, juan], 2)  # signed another version
    refused = _signature("caregiver", "refused", participant=JUAN_P)
    assert not signed_on_the_spot(PlanType.immediate, both, [maria, worker, juan, refused], 1)  # latest counts


# --- over HTTP -----------------------------------------------------------------------------------------------

IMMEDIATE = {"plan_type": "immediate", "effective_from": "2026-11-03T08:00:00Z", "expires_at": "2026-11-10T08:00:00Z"}


async def _worker_signs(flow: PlanFlow, plan: dict[str, Any]) -> Any:
    return await flow.call(
        "POST",
        f"/v1/safety-plans/{plan['id']}/signatures",
        json={
            "version_number": plan["current_version_number"],
            "content_hash": plan["content_hash"],
            "signer_name": "Ms. Rivera",
            "signer_role": "worker",
            "method": "typed_name",
            "typed_name": "Ana Rivera",
            "affirmation": "I agreed this plan with the family at the home visit.",
        },
        expect=201,
    )


@pytest.mark.sqlite_smoke
async def test_an_immediate_plan_signed_on_the_spot_is_in_force_before_the_supervisor_approves(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    created = await flow.create({**lopez_ongoing_plan, **IMMEDIATE})
    await _worker_signs(flow, created)
    assert (await flow.get(created["id"]))["status"] == "draft"  # Maria has not signed yet
    await flow.sign(created)
    active = await flow.get(created["id"])
    assert (active["status"], active["in_force"]["version_number"], active["latest_approval"]) == ("active", 1, None)
    assert active["approval_due_at"].startswith("2026-11-04T09:00:00")  # 24 hours (policy)
    [asked] = await _events(plans, "sop.plans.safety_plan.approval_requested")
    assert asked["approval_due_at"] == "2026-11-04T09:00:00+00:00"
    alerts = f"/v1/cases/{flow.case_id}/alerts"
    assert [a["kind"] for a in (await flow.call("GET", alerts))["items"]] == ["approval_pending"]
    clock.advance(timedelta(hours=25))
    [overdue] = (await flow.call("GET", alerts))["items"]
    assert (overdue["kind"], overdue["plan_id"]) == ("immediate_plan_approval_overdue", created["id"])
    assert overdue["due_at"].startswith("2026-11-04T09:00:00")
    mine = await flow.call("GET", "/v1/alerts", params={"worker": "fsw.rivera"})
    assert [a["kind"] for a in mine["items"]] == ["immediate_plan_approval_overdue"]
    approved = await flow.decide(active)
    assert (approved["status"], approved["approval_due_at"]) == ("active", None)
    assert approved["latest_approval"]["decision"] == "approved"
    assert (await flow.call("GET", alerts))["items"] == []
    await flow.decide(approved, expect=409)  # decided once


async def test_an_ongoing_plan_signed_on_the_spot_still_waits_for_the_supervisor(
    flow: PlanFlow, lopez_ongoing_plan: dict[str, Any]
) -> None:
    created = await flow.create(lopez_ongoing_plan)
    await _worker_signs(flow, created)
    await flow.sign(created)
    plan = await flow.get(created["id"])
    assert (plan["status"], plan["in_force"], plan["approval_due_at"]) == ("draft", None, None)


async def test_a_supervisor_returning_an_immediate_plan_in_force_leaves_it_binding_while_it_is_changed(
    flow: PlanFlow, lopez_ongoing_plan: dict[str, Any]
) -> None:
    created = await flow.create({**lopez_ongoing_plan, **IMMEDIATE})
    await flow.sign(created)
    await _worker_signs(flow, created)
    active = await flow.get(created["id"])
    assert active["status"] == "active"
    returned = await flow.decide(active, "requires_modification", comment="Name who drives on weekends.")
    assert (returned["status"], returned["in_force"]["version_number"], returned["approval_due_at"]) == (
        "modified",
        1,
        None,
    )
