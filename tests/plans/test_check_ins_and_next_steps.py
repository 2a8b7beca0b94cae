"""Monitoring check-ins (the evidence of safety over time, week by week), next steps with their overdue
list, and the case view's one-call read. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from sop_plans.models import CheckIn, NextStep, platform
from sop_shared.clock import FixedClock
from sop_shared.testing import RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow


async def _count(plans: RunningService, table: Any) -> int:
    async with plans.app.state.database.session() as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar_one()


def _check_in(
    rule_id: str, kept: bool, when: str, note: str | None = None, who: str = "Rosa Delgado"
) -> dict[str, Any]:
    body: dict[str, Any] = {"rule_id": rule_id, "reported_by": {"name": who}, "kept": kept, "occurred_at": when}
    if note:
        body["note"] = note
    return body


@pytest.mark.sqlite_smoke
async def test_check_ins_build_the_plans_record_week_by_week(
    flow: PlanFlow,
    plans: RunningService,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    night, driving = (r["id"] for r in active["rules"])
    clock.set(clock.now().replace(day=20))
    path = f"/v1/safety-plans/{active['id']}/check-ins"
    for body in (
        _check_in(night, True, "2026-11-05T08:00:00Z", "The children slept at Rosa's on Tuesday."),
        _check_in(driving, True, "2026-11-06T08:00:00Z", who="Pastor Greene"),
        _check_in(night, False, "2026-11-12T22:30:00Z", "Maria did not answer Rosa's call; Rosa went over."),
        _check_in(night, True, "2026-11-13T08:00:00Z"),
        _check_in(driving, True, "2026-11-19T08:00:00Z"),
    ):
        created = await flow.call("POST", path, json=body, expect=201)
        assert (created["version_number"], created["recorded_by"]) == (1, "fsw.rivera")
    record = await flow.call("GET", f"{path}/weekly")
    assert [(w["week"], w["starts_on"], w["kept"], w["broken"]) for w in record["weeks"]] == [
        ("2026-W45", "2026-11-02", 2, 0),
        ("2026-W46", "2026-11-09", 1, 1),
        ("2026-W47", "2026-11-16", 1, 0),
    ]
    assert record["weeks"][1]["rules"] == {night: {"kept": 1, "broken": 1}}
    assert (record["total_kept"], record["total_broken"]) == (4, 1)
    broken = await flow.call("GET", path, params={"kept": "false"})
    assert [c["note"] for c in broken["items"]] == ["Maria did not answer Rosa's call; Rosa went over."]
    assert len((await flow.call("GET", path, params={"rule_id": driving}))["items"]) == 2
    async with plans.app.state.database.session() as s:
        events = (
            (
                await s.execute(
                    select(platform.outbox.c.payload)
                    .where(platform.outbox.c.subject == "sop.plans.check_in.recorded")
                    .order_by(platform.outbox.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert [e["kept"] for e in events] == [True, True, False, True, True]


async def test_a_check_in_must_be_about_a_rule_in_force_seen_while_it_was_in_force(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    draft = await flow.create(lopez_ongoing_plan)
    on_draft = await flow.call(
        "POST",
        f"/v1/safety-plans/{draft['id']}/check-ins",
        expect=409,
        json=_check_in(draft["rules"][0]["id"], True, "2026-11-03T08:00:00Z"),
    )
    assert on_draft["type"].endswith("/illegal-transition")
    active = await flow.active_plan(lopez_ongoing_plan)
    path = f"/v1/safety-plans/{active['id']}/check-ins"
    events = await _count(plans, platform.outbox)
    for body, field in (
        (_check_in(draft["rules"][0]["id"], True, "2026-11-03T08:00:00Z"), "rule_id"),
        (_check_in(active["rules"][0]["id"], True, "2026-11-01T08:00:00Z"), "occurred_at"),
        (_check_in(active["rules"][0]["id"], True, "2026-11-04T08:00:00Z"), "occurred_at"),
        (_check_in(active["rules"][0]["id"], True, "2026-11-03"), "occurred_at"),
        ({"rule_id": active["rules"][0]["id"], "kept": "perhaps", "reported_by": {"name": "R"}}, "kept"),
    ):
        problem = await flow.call("POST", path, json=body, expect=422)
        assert [e["field"] for e in problem["errors"]] == [field], problem
    assert await _count(plans, CheckIn.__table__) == 0 and await _count(plans, platform.outbox) == events


async def test_check_ins_keep_pointing_at_a_rule_across_versions(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    rule = active["rules"][0]
    modified = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{active['id']}",
        json={
            "change_note": "Rosa's neighbour can also take them.",
            "rules": [
                {
                    **{
                        k: rule[k]
                        for k in ("id", "threat_code", "responsible", "monitors", "frequency", "how_verified")
                    },
                    "text": rule["text"] + " Or Mrs. Hall next door.",
                }
            ],
        },
        headers={**flow.worker, "If-Match": f'"{active["version"]}"'},
    )
    assert modified["rules"][0]["id"] == rule["id"] and len(modified["rules"]) == 1
    # while version 2 waits, check-ins are on version 1, the one in force
    created = await flow.call(
        "POST",
        f"/v1/safety-plans/{active['id']}/check-ins",
        expect=201,
        json=_check_in(rule["id"], True, "2026-11-03T08:00:00Z"),
    )
    assert created["version_number"] == 1
    unknown = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{active['id']}",
        expect=422,
        json={"change_note": "x", "rules": [{"id": active["id"], "text": "A rule."}]},
        headers={**flow.worker, "If-Match": f'"{modified["version"]}"'},
    )
    assert unknown["errors"][0]["field"] == "rules.0.id"


@pytest.mark.sqlite_smoke("dates compared in SQL")
async def test_next_steps_have_an_owner_a_due_date_a_goal_and_an_overdue_list(
    flow: PlanFlow,
    plans: RunningService,
    clock: FixedClock,
) -> None:
    path = f"/v1/cases/{flow.case_id}/next-steps"
    goal = "01937a2e-5c00-7000-8000-00000000e001"
    first = await flow.call(
        "POST",
        path,
        expect=201,
        json={
            "action": "Rosa and Maria write down the evening call times together.",
            "owner": {"name": "Rosa Delgado"},
            "owner_kind": "network",
            "due_on": "2026-11-10",
            "goal_id": goal,
        },
    )
    second = await flow.call(
        "POST",
        path,
        expect=201,
        json={
            "action": "Ms. Rivera finds a Spanish-speaking AA sponsor for Maria.",
            "owner": {"name": "Ms. Rivera"},
            "owner_kind": "agency",
            "due_on": "2026-11-20",
        },
    )
    assert (first["status"], first["overdue"], first["goal_id"], first["created_by"]) == (
        "open",
        False,
        goal,
        "fsw.rivera",
    )
    clock.set(clock.now().replace(day=15))
    overdue = await flow.call("GET", path, params={"overdue": "true"})
    assert [s["id"] for s in overdue["items"]] == [first["id"]] and overdue["items"][0]["overdue"]
    alerts = (await flow.call("GET", f"/v1/cases/{flow.case_id}/alerts"))["items"]
    assert [(a["kind"], a["next_step_id"]) for a in alerts] == [("next_step_overdue", first["id"])]
    step_path = f"{path}/{first['id']}"
    assert (await plans.client.patch(step_path, json={"status": "done"}, headers=flow.worker)).status_code == 428
    done = await plans.client.patch(step_path, json={"status": "done"}, headers={**flow.worker, "If-Match": '"1"'})
    assert done.status_code == 200 and done.headers["ETag"] == '"2"'
    assert done.json()["completed_at"].startswith("2026-11-15") and not done.json()["overdue"]
    stale = await plans.client.patch(step_path, json={"status": "open"}, headers={**flow.worker, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await flow.call("GET", path, params={"overdue": "true"}))["items"] == []
    assert [s["id"] for s in (await flow.call("GET", path, params={"status": "open"}))["items"]] == [second["id"]]


async def test_a_bad_next_step_is_422_and_nothing_is_written(flow: PlanFlow, plans: RunningService) -> None:
    problem = await flow.call(
        "POST",
        f"/v1/cases/{flow.case_id}/next-steps",
        expect=422,
        json={"action": " ", "owner": {"name": "Rosa"}, "owner_kind": "cousin", "due_on": "next week", "goal_id": "g1"},
    )
    assert {e["field"] for e in problem["errors"]} == {"action", "owner_kind", "due_on", "goal_id"}
    assert await _count(plans, NextStep.__table__) == 0 and await _count(plans, platform.outbox) == 0


async def test_the_case_list_carries_what_the_case_view_shows_in_a_fixed_number_of_queries(
    flow: PlanFlow,
    plans: RunningService,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    draft = await flow.create({**lopez_ongoing_plan, "plan_type": "immediate", "expires_at": "2026-11-05T15:00:00Z"})
    path = f"/v1/safety-plans/{active['id']}/check-ins"
    clock.advance(timedelta(days=10))
    for day in range(4, 11):
        await flow.call(
            "POST", path, expect=201, json=_check_in(active["rules"][0]["id"], day != 7, f"2026-11-{day:02d}T08:00:00Z")
        )
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    from sqlalchemy import event

    engine = plans.app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        listed = await flow.call("GET", f"/v1/cases/{flow.case_id}/safety-plans")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # the request's own reads: the outbox relay polls the same database meanwhile, whenever it likes
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM outbox_event" not in s]
    # expiry sweep, page, signatures, approvals, check-ins, versions in force, the case's known triggers
    assert len(selects) <= 9, selects
    first, second = listed["items"]
    assert first["id"] == active["id"] and second["id"] == draft["id"]
    assert first["in_force"]["version_number"] == 1 and first["sign_off"]["complete"]
    assert [s["signer_name"] for s in first["signatures"]] == ["Maria Lopez"]
    assert first["latest_approval"]["decision"] == "approved"
    assert [c["occurred_at"][:10] for c in first["recent_check_ins"]] == [
        "2026-11-10",
        "2026-11-09",
        "2026-11-08",
        "2026-11-07",
        "2026-11-06",
    ]
    assert first["recent_check_ins"][3]["kept"] is False
    assert second["status"] == "draft" and second["signatures"] == [] and second["in_force"] is None
    assert second["recent_check_ins"] == [] and second["latest_approval"] is None
