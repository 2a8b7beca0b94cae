"""Expiry on time with an injectable clock (the sweep, the background task, and any read), the policy's
dates with effective dates, and alerts per case, per worker and per supervisor. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from sop_plans.component import component
from sop_plans.expiry import sweep_once
from sop_plans.models import platform
from sop_plans.plan_policy import load_policy
from sop_shared.clock import FixedClock
from sop_shared.testing import InternalTokens, RunningService, run_component

if TYPE_CHECKING:
    from conftest import PlanFlow


async def _expired_events(plans: RunningService) -> list[dict[str, Any]]:
    async with plans.app.state.database.session() as s:
        return [
            row.payload
            for row in (
                await s.execute(
                    select(platform.outbox).where(platform.outbox.c.subject == "sop.plans.safety_plan.expired")
                )
            ).all()
        ]


@pytest.mark.sqlite_smoke("timestamps compared in SQL (SQLite keeps them as text)")
async def test_a_plan_expires_at_its_expiry_not_a_moment_before_and_says_so_once(
    flow: PlanFlow,
    plans: RunningService,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    expires_at = clock.now().replace(year=2026, month=12, day=2, hour=15)
    clock.set(expires_at - timedelta(seconds=1))
    assert await sweep_once(plans.app.state.database, clock, plans.app.state.plan_policy) == 0
    assert (await flow.get(active["id"]))["status"] == "active"
    clock.set(expires_at)
    assert await sweep_once(plans.app.state.database, clock, plans.app.state.plan_policy) == 1
    assert await sweep_once(plans.app.state.database, clock, plans.app.state.plan_policy) == 0  # once
    expired = await flow.get(active["id"])
    assert (expired["status"], expired["end_reason"]) == ("expired", "expired")
    assert expired["ended_at"].startswith("2026-12-02T15:00:00")
    [event] = await _expired_events(plans)
    assert (event["plan_id"], event["owner"], event["supervisor"]) == (active["id"], "fsw.rivera", "sup.okafor")
    assert event["expired_at"].startswith("2026-12-02T15:00:00")
    # an expired plan takes no check-in, no edit and no new life
    rule = active["rules"][0]["id"]
    body = {"rule_id": rule, "reported_by": {"name": "Rosa Delgado"}, "kept": True}
    assert (await flow.call("POST", f"/v1/safety-plans/{active['id']}/check-ins", json=body, expect=409))[
        "type"
    ].endswith("/illegal-transition")
    await flow.call("POST", f"/v1/safety-plans/{active['id']}/submit", expect=409)


async def test_any_read_after_the_expiry_sees_the_plan_expired_without_waiting_for_the_sweep(
    flow: PlanFlow,
    plans: RunningService,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    clock.advance(timedelta(days=60))
    listed = await flow.call("GET", f"/v1/cases/{flow.case_id}/safety-plans")
    assert [p["status"] for p in listed["items"]] == ["expired"]
    assert [a["kind"] for a in listed["items"][0]["alerts"]] == []  # expired 31 days ago: no longer an alert
    assert (await flow.get(active["id"]))["status"] == "expired"
    assert len(await _expired_events(plans)) == 1


@pytest.mark.sqlite_smoke
async def test_the_background_sweep_expires_plans_nobody_reads(
    database_url: str,
    tokens: InternalTokens,
    tmp_path: Path,
    case_id: uuid.UUID,
    lopez_ongoing_plan: dict[str, Any],
    clock: FixedClock,
    plan_flow_class: type[PlanFlow],
) -> None:
    async with run_component(
        component, database_url=database_url, tokens=tokens, data_dir=tmp_path, expiry_sweep_seconds=0.05
    ) as plans:
        plans.app.state.clock = clock
        flow = plan_flow_class(
            plans,
            case_id,
            tokens.headers("plans", case_id=case_id),
            tokens.headers("plans", subject="sup.okafor", roles=("supervisor",), case_id=case_id),
        )
        active = await flow.active_plan(lopez_ongoing_plan)
        clock.advance(timedelta(days=30))
        for _ in range(200):
            if await _expired_events(plans):
                break
            await asyncio.sleep(0.05)
        [event] = await _expired_events(plans)
        assert event["plan_id"] == active["id"]


async def test_a_modified_plan_expires_by_the_dates_of_the_version_in_force(
    flow: PlanFlow,
    plans: RunningService,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    longer = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{active['id']}",
        json={"change_note": "Extend to the new year.", "expires_at": "2027-01-05T15:00:00Z"},
        headers={**flow.worker, "If-Match": f'"{active["version"]}"'},
    )
    assert longer["expires_at"].startswith("2027-01-05") and longer["in_force"]["expires_at"].startswith("2026-12-02")
    clock.set(clock.now() + timedelta(days=30))  # 2026-12-03: version 1's expiry has passed
    assert (await flow.get(active["id"]))["status"] == "expired"


async def test_dates_come_from_the_policy_in_force_on_the_effective_date(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
    tmp_path: Path,
) -> None:
    lopez_ongoing_plan["expires_at"] = None
    plan = await flow.create(lopez_ongoing_plan)
    assert plan["rule_set_id"] == "ar-dcfs-2026-01"
    assert plan["expires_at"].startswith("2026-12-02T15:00:00")  # ongoing: 30 days by default
    assert plan["review"]["review_every_days"] == 30
    too_long = await flow.call(
        "POST",
        f"/v1/cases/{flow.case_id}/safety-plans",
        expect=422,
        json={**lopez_ongoing_plan, "expires_at": "2027-03-01T00:00:00Z"},
    )
    assert too_long["errors"] == [
        {"field": "expires_at", "message": "an ongoing plan may run at most 90 days (policy ar-dcfs-2026-01)"}
    ]
    # a later rule set governs plans effective from its date; earlier plans keep theirs
    packaged = json.loads(resources.files("sop_plans").joinpath("config/plan_rules.json").read_text())
    later = {**packaged["rule_sets"][0], "id": "ar-dcfs-2027-07", "effective_from": "2027-07-01"}
    later["plan_types"] = {
        **later["plan_types"],
        "immediate": {"default_days": 5, "max_days": 5, "review_every_days": 5},
    }
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rule_sets": [packaged["rule_sets"][0], later]}))
    policy = load_policy(path)
    assert policy.in_force_on(date(2027, 6, 30)).id == "ar-dcfs-2026-01"
    assert policy.in_force_on(date(2027, 7, 1)).id == "ar-dcfs-2027-07"
    flow.plans.app.state.plan_policy = policy
    summer = await flow.create(
        {**lopez_ongoing_plan, "plan_type": "immediate", "effective_from": "2027-07-02T12:00:00Z"}
    )
    assert (summer["rule_set_id"], summer["expires_at"][:10]) == ("ar-dcfs-2027-07", "2027-07-07")


def test_a_policy_file_that_breaks_the_review_rule_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    rule_set = {
        "id": "x",
        "effective_from": "2026-01-01",
        "expiry_warning_days": 3,
        "review_warning_days": 3,
        "plan_types": {
            t: {"default_days": 7, "max_days": 7, "review_every_days": 120}
            for t in ("immediate", "ongoing", "reunification")
        },
    }
    path.write_text(json.dumps({"rule_sets": [rule_set]}))
    with pytest.raises(ValueError, match="review_every_days"):
        load_policy(path)


@pytest.mark.sqlite_smoke
async def test_alerts_warn_before_expiry_and_when_a_review_is_due(
    flow: PlanFlow,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    ongoing = await flow.active_plan(lopez_ongoing_plan)  # expires 2026-12-02 15:00
    case_alerts = f"/v1/cases/{flow.case_id}/alerts"

    async def alerts() -> set[tuple[str, str]]:
        return {(a["kind"], a["plan_id"]) for a in (await flow.call("GET", case_alerts))["items"]}

    assert await alerts() == set()
    clock.set(clock.now().replace(day=29, hour=16))  # 2026-11-29 16:00: expiry within 3 days (policy)
    [expiring] = (await flow.call("GET", case_alerts))["items"]
    assert (expiring["kind"], expiring["plan_id"], expiring["owner"]) == ("plan_expiring", ongoing["id"], "fsw.rivera")
    assert expiring["due_at"].startswith("2026-12-02T15:00:00")
    review = await flow.call(
        "POST",
        f"/v1/safety-plans/{ongoing['id']}/reviews",
        json={"note": "Rosa and Maria say the evenings go well."},
        expect=201,
    )
    assert review["next_review_due"].startswith("2026-12-29T16:00:00")
    # a longer plan of another type (one of each type is in force), activated now: reviewed every 30 days
    longer = await flow.active_plan(
        {
            **lopez_ongoing_plan,
            "plan_type": "reunification",
            "effective_from": None,
            "expires_at": "2027-01-31T15:00:00Z",
        }
    )
    assert await alerts() == {("plan_expiring", ongoing["id"])}
    clock.set(clock.now().replace(month=12, day=3))
    assert await alerts() == {("plan_expired", ongoing["id"])}
    clock.set(clock.now().replace(day=27))
    assert await alerts() == {("review_due", longer["id"])}  # due 12-29; the expired plan is a week old
    clock.set(clock.now().replace(day=30))
    assert await alerts() == {("review_overdue", longer["id"])}


async def test_each_worker_and_supervisor_sees_their_own_alerts_across_cases(
    flow: PlanFlow,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
    tokens: InternalTokens,
    lopez_records_in: Any,
) -> None:
    mine = await flow.active_plan(lopez_ongoing_plan)
    another_case = uuid.uuid4()
    await lopez_records_in(another_case)
    other_worker = tokens.headers("plans", subject="fsw.lindqvist", case_id=another_case)
    theirs = await flow.call(
        "POST", f"/v1/cases/{another_case}/safety-plans", json=lopez_ongoing_plan, headers=other_worker, expect=201
    )
    await flow.call(
        "POST", f"/v1/safety-plans/{theirs['id']}/submit", json={"supervisor": "sup.okafor"}, headers=other_worker
    )
    clock.set(clock.now().replace(day=30))
    # through the gateway's façade these calls carry no case: the token is not scoped to one
    rivera = tokens.headers("plans")
    okafor = tokens.headers("plans", subject="sup.okafor", roles=("supervisor",))
    worker_alerts = (await flow.call("GET", "/v1/alerts", params={"worker": "fsw.rivera"}, headers=rivera))["items"]
    assert [(a["kind"], a["plan_id"]) for a in worker_alerts] == [  # soonest first
        ("plan_expiring", mine["id"]),
        ("review_due", mine["id"]),
    ]
    supervisor_alerts = (await flow.call("GET", "/v1/alerts", params={"supervisor": "sup.okafor"}, headers=okafor))[
        "items"
    ]
    assert {(a["kind"], a["plan_id"]) for a in supervisor_alerts} == {
        ("approval_pending", theirs["id"]),
        ("plan_expiring", mine["id"]),
        ("review_due", mine["id"]),
    }
    # nobody lists someone else's alerts, and a worker has no supervisor's list
    await flow.call("GET", "/v1/alerts", params={"worker": "fsw.lindqvist"}, headers=rivera, expect=403)
    await flow.call("GET", "/v1/alerts", params={"supervisor": "fsw.rivera"}, headers=rivera, expect=403)
    await flow.call("GET", "/v1/alerts", headers=rivera, expect=422)
    await flow.call(
        "GET", "/v1/alerts", params={"worker": "fsw.rivera", "supervisor": "sup.okafor"}, headers=rivera, expect=422
    )
