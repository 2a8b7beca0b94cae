"""The plans part of the case view in one call: which plan is in force, what each audience is shown, the
next steps open first, the alerts, and a fixed number of queries. SQLite and PostgreSQL; the rule that
picks the plan in force is also tested on its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, select

from sop_plans.case_view.rules import plan_for_audience, plan_to_show, version_shown
from sop_plans.models import PlanStatus, PlanType, SafetyPlan, platform
from sop_shared.policy import ActorType, Audience
from sop_shared.testing import InternalTokens, RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _plan(
    status: PlanStatus,
    *,
    created_day: int,
    in_force: int | None = None,
    current: int = 1,
    activated_day: int | None = None,
) -> SafetyPlan:
    return SafetyPlan(
        id=uuid.UUID(int=created_day),
        case_id=uuid.UUID(int=1),
        plan_type=PlanType.ongoing,
        status=status,
        title="plan",
        effective_from=T0,
        current_version_number=current,
        in_force_version_number=in_force,
        activated_at=T0 + timedelta(days=activated_day) if activated_day is not None else None,
        owner="fsw.rivera",
        rule_set_id="r",
        created_by="fsw.rivera",
        created_at=T0 + timedelta(days=created_day),
    )


# --- the rule, on its own ------------------------------------------------------------------------------------


def test_the_active_plan_is_in_force_even_beside_a_newer_draft() -> None:
    active = _plan(PlanStatus.active, created_day=1, in_force=1, activated_day=2)
    draft = _plan(PlanStatus.draft, created_day=5)
    assert plan_to_show([draft, active]) is active and version_shown(active) == 1


def test_a_modified_plan_stays_in_force_and_shows_the_version_that_binds_the_family() -> None:
    modified = _plan(PlanStatus.modified, created_day=1, in_force=2, current=3, activated_day=2)
    assert plan_to_show([_plan(PlanStatus.draft, created_day=9), modified]) is modified
    assert version_shown(modified) == 2
    back_in_approval = _plan(PlanStatus.pending_approval, created_day=1, in_force=1, current=2, activated_day=2)
    assert plan_to_show([back_in_approval]) is back_in_approval and version_shown(back_in_approval) == 1


def test_of_two_plans_in_force_the_last_activated_is_shown() -> None:
    older = _plan(PlanStatus.active, created_day=1, in_force=1, activated_day=8)
    newer = _plan(PlanStatus.active, created_day=2, in_force=1, activated_day=3)
    assert plan_to_show([newer, older]) is older


def test_with_nothing_in_force_the_newest_open_plan_is_shown_and_ended_plans_never() -> None:
    drafts = [_plan(PlanStatus.draft, created_day=1), _plan(PlanStatus.pending_approval, created_day=3)]
    ended = [
        _plan(PlanStatus.terminated, created_day=7, in_force=1, activated_day=7),
        _plan(PlanStatus.expired, created_day=8, in_force=1, activated_day=8),
    ]
    assert plan_to_show([*ended, *drafts]) is drafts[1] and version_shown(drafts[1]) == 1
    assert plan_to_show(ended) is None and plan_to_show([]) is None


# --- over HTTP -----------------------------------------------------------------------------------------------


def _view_path(flow: PlanFlow) -> str:
    return f"/v1/cases/{flow.case_id}/case-view"


@pytest.mark.sqlite_smoke
async def test_the_case_view_shows_the_active_plan_in_force_and_every_plan_newest_first(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    draft = await flow.create({**lopez_ongoing_plan, "plan_type": "immediate", "expires_at": "2026-11-05T15:00:00Z"})
    view = await flow.call("GET", _view_path(flow))
    assert view["case_id"] == str(flow.case_id) and view["audience"] == "staff"
    assert view["safety_plan"]["id"] == active["id"] and view["safety_plan"]["status"] == "active"
    assert view["safety_plan"]["in_force"]["version_number"] == 1
    assert [p["id"] for p in view["plans"]] == [draft["id"], active["id"]]
    assert view["safety_plan"]["latest_approval"]["comment"] == "Clear and specific."


async def test_a_modified_plan_keeps_its_version_in_force_in_the_case_view_not_the_edit(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    rules = [{k: v for k, v in r.items() if k != "plain_language"} for r in active["rules"]]
    rules[0]["text"] = "When Maria has been drinking, Rosa takes the children to her house until Maria is sober."
    edited = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{active['id']}",
        json={"change_note": "Until sober, not just the night", "rules": rules},
        headers={**flow.worker, "If-Match": f'"{active["version"]}"'},
    )
    assert edited["status"] == "modified" and edited["current_version_number"] == 2
    view = await flow.call("GET", _view_path(flow))
    in_force = view["safety_plan"]
    assert in_force["id"] == active["id"] and in_force["status"] == "modified"
    assert [r["text"] for r in in_force["rules"]] == [r["text"] for r in active["rules"]]  # version 1's words
    assert in_force["content_hash"] == active["content_hash"] == in_force["in_force"]["content_hash"]
    assert in_force["in_force"]["version_number"] == 1 and in_force["current_version_number"] == 2
    assert [s["signer_name"] for s in in_force["signatures"]] == ["Maria Lopez"]  # the sign-off that binds
    assert view["plans"][0]["rules"][0]["text"] == rules[0]["text"]  # the list shows the newest wording


async def test_with_drafts_only_the_newest_draft_is_shown_and_a_terminated_plan_never(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    assert (await flow.call("GET", _view_path(flow)))["safety_plan"] is None
    first = await flow.create(lopez_ongoing_plan)
    second = await flow.create({**lopez_ongoing_plan, "title": "A second try at the plan"})
    assert (await flow.call("GET", _view_path(flow)))["safety_plan"]["id"] == second["id"]
    active = await flow.active_plan({**lopez_ongoing_plan, "title": "The plan everyone signed"})
    assert (await flow.call("GET", _view_path(flow)))["safety_plan"]["id"] == active["id"]
    for plan in (active, second):
        await flow.call("POST", f"/v1/safety-plans/{plan['id']}/terminate", json={"reason": "Replaced"})
    view = await flow.call("GET", _view_path(flow))
    assert view["safety_plan"]["id"] == first["id"] and view["safety_plan"]["status"] == "draft"
    assert [p["status"] for p in view["plans"]] == ["terminated", "terminated", "draft"]
    # why they ended is a code; the worker's own words are kept beside it
    assert [(p["end_reason"], p["end_note"]) for p in view["plans"][:2]] == [("terminated", "Replaced")] * 2


async def test_outside_the_agency_the_decision_the_warnings_and_the_alerts_are_left_out(
    flow: PlanFlow,
    plans: RunningService,
    tokens: InternalTokens,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    await flow.active_plan(lopez_ongoing_plan)
    unlinked = await flow.create({**lopez_ongoing_plan, "danger_statement_ids": [], "title": "Unlinked draft"})
    await flow.submit(unlinked["id"])
    await flow.call(
        "POST",
        f"/v1/cases/{flow.case_id}/next-steps",
        expect=201,
        json={
            "action": "Maria calls the AA sponsor Rosa found",
            "owner": {"name": "Maria Lopez"},
            "owner_kind": "family",
            "due_on": "2026-11-01",
        },
    )
    staff = await flow.call("GET", _view_path(flow))
    assert staff["safety_plan"]["latest_approval"] is not None
    assert staff["plans"][0]["warnings"] and staff["plans"][0]["alerts"]
    assert {a["kind"] for a in staff["alerts"]} == {"approval_pending", "next_step_overdue"}
    maria = tokens.headers(
        "plans",
        subject="maria.lopez",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        case_id=flow.case_id,
    )
    for headers, audience in (
        ({**flow.worker, "X-SOP-Audience": "family"}, "family"),
        (maria, "family"),
        ({**flow.worker, "X-SOP-Audience": "court"}, "court"),
    ):
        view = await flow.call("GET", _view_path(flow), headers=headers)
        assert view["audience"] == audience and view["alerts"] == []
        for plan in [view["safety_plan"], *view["plans"]]:
            assert plan["latest_approval"] is None and plan["warnings"] == [] and plan["alerts"] == []
        assert view["safety_plan"]["rules"] == staff["safety_plan"]["rules"]  # the agreed words stay
        assert view["next_steps"] == staff["next_steps"]
    supervisor = await flow.call("GET", _view_path(flow), headers={**flow.supervisor, "X-SOP-Audience": "supervisor"})
    assert supervisor["safety_plan"]["latest_approval"] is not None and supervisor["alerts"]
    async with plans.app.state.database.session() as s:
        rows = (await s.execute(select(platform.audit).where(platform.audit.c.resource == "case_view"))).all()
    assert [(r.action, r.fields) for r in rows][:2] == [("read", ["audience:staff"]), ("read", ["audience:family"])]
    assert all(r.case_id == flow.case_id for r in rows) and len(rows) == 5


async def test_the_next_steps_come_open_first_soonest_due_first(flow: PlanFlow) -> None:
    path = f"/v1/cases/{flow.case_id}/next-steps"
    made = {}
    for action, due in (
        ("Pastor Greene starts the Sunday drive log", "2026-11-20"),
        ("Rosa and Maria agree on the evening call time", "2026-11-04"),
        ("Maria finds an AA meeting near work", "2026-11-10"),
    ):
        made[action] = await flow.call(
            "POST",
            path,
            expect=201,
            json={"action": action, "owner": {"name": "Maria Lopez"}, "owner_kind": "family", "due_on": due},
        )
    done = made["Rosa and Maria agree on the evening call time"]
    await flow.call(
        "PATCH",
        f"{path}/{done['id']}",
        json={"status": "done"},
        headers={**flow.worker, "If-Match": f'"{done["version"]}"'},
    )
    view = await flow.call("GET", _view_path(flow))
    assert [(s["action"], s["status"]) for s in view["next_steps"]] == [
        ("Maria finds an AA meeting near work", "open"),
        ("Pastor Greene starts the Sunday drive log", "open"),
        ("Rosa and Maria agree on the evening call time", "done"),
    ]


async def test_the_case_view_costs_the_same_queries_for_one_plan_as_for_six(
    flow: PlanFlow,
    plans: RunningService,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    engine = plans.app.state.database.engine.sync_engine

    async def statements_of_a_view() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            if "outbox_event" not in str(args[2]):  # the outbox relay works beside the request
                seen.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            await flow.call("GET", _view_path(flow))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    await flow.active_plan(lopez_ongoing_plan)
    one = await statements_of_a_view()
    for n in range(5):
        await flow.create({**lopez_ongoing_plan, "title": f"Draft {n}"})
    assert await statements_of_a_view() == one


async def test_the_case_view_needs_the_case_in_the_token_a_known_audience_and_no_unknown_parameters(
    flow: PlanFlow,
    tokens: InternalTokens,
) -> None:
    other = tokens.headers("plans", case_id=uuid.uuid4())
    assert (await flow.call("GET", _view_path(flow), headers=other, expect=404))["status"] == 404
    problem = await flow.call(
        "GET", _view_path(flow), headers={**flow.worker, "X-SOP-Audience": "neighbours"}, expect=422
    )
    assert problem["errors"][0]["field"] == "X-SOP-Audience"
    maria = tokens.headers(
        "plans",
        subject="maria.lopez",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        case_id=flow.case_id,
    )
    await flow.call("GET", _view_path(flow), headers={**maria, "X-SOP-Audience": "staff"}, expect=403)
    problem = await flow.call("GET", _view_path(flow) + "?plans=all", expect=400)
    assert problem["errors"][0]["field"] == "plans"


def test_the_agency_sees_the_plan_unchanged() -> None:
    from sop_plans.schemas import SafetyPlanOut

    plan = SafetyPlanOut.model_construct(latest_approval="decision", warnings=["w"], alerts=["a"])
    assert plan_for_audience(plan, Audience.supervisor) is plan
    hidden = plan_for_audience(plan, Audience.partner)
    assert (hidden.latest_approval, hidden.warnings, hidden.alerts) == (None, [], [])


async def test_outside_the_agency_a_plan_is_read_once_submitted_and_then_as_its_version_in_force(
    flow: PlanFlow,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    family = {**flow.worker, "X-SOP-Audience": "family"}
    draft = await flow.create(lopez_ongoing_plan)
    view = await flow.call("GET", _view_path(flow), headers=family)
    assert view["safety_plan"] is None and view["plans"] == []  # a draft never left the worker
    listed = await flow.call("GET", f"/v1/cases/{flow.case_id}/safety-plans", headers=family)
    assert listed["items"] == []
    await flow.call("GET", f"/v1/safety-plans/{draft['id']}", headers=family, expect=404)
    assert (await flow.call("GET", _view_path(flow)))["safety_plan"]["id"] == draft["id"]  # staff read drafts

    await flow.submit(draft["id"])
    view = await flow.call("GET", _view_path(flow), headers=family)
    assert view["safety_plan"]["id"] == draft["id"] and [p["id"] for p in view["plans"]] == [draft["id"]]

    active = await flow.active_plan({**lopez_ongoing_plan, "title": "The plan everyone signed"})
    rules = [{k: v for k, v in r.items() if k != "plain_language"} for r in active["rules"]]
    rules[0]["text"] = "When Maria has been drinking, Rosa takes the children to her house until Maria is sober."
    await flow.call(
        "PATCH",
        f"/v1/safety-plans/{active['id']}",
        json={"change_note": "Until sober", "rules": rules},
        headers={**flow.worker, "If-Match": f'"{active["version"]}"'},
    )
    agreed = [r["text"] for r in active["rules"]]
    view = await flow.call("GET", _view_path(flow), headers=family)
    listed_plan = next(p for p in view["plans"] if p["id"] == active["id"])
    assert [r["text"] for r in listed_plan["rules"]] == agreed  # the edit is still being prepared
    one = await flow.call("GET", f"/v1/safety-plans/{active['id']}", headers=family)
    assert [r["text"] for r in one["rules"]] == agreed and one["latest_approval"] is None
    staff = await flow.call("GET", f"/v1/safety-plans/{active['id']}")
    assert staff["rules"][0]["text"] == rules[0]["text"]
