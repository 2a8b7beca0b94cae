"""The caseload page's bulk read: per case, in the order asked, the plan in force in a line, open alerts and
overdue next steps; one bulk-read token, a constant number of queries. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, func, select

from sop_plans.models import platform
from sop_shared.clock import FixedClock
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.testing import InternalTokens, RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow


def _page(tokens: InternalTokens, case_ids: list[uuid.UUID]) -> dict[str, str]:
    """A bulk-read token as the gateway mints it for a caseload page the network service allowed."""
    return tokens.headers("plans", tokens.principal().scoped_to_cases(case_ids))


async def _audited_case_views(plans: RunningService) -> int:
    async with plans.app.state.database.session() as s:
        return (
            await s.execute(
                select(func.count()).select_from(platform.audit).where(platform.audit.c.resource == "case_view")
            )
        ).scalar_one()


async def _overdue_step(flow: PlanFlow, case_id: uuid.UUID, headers: dict[str, str]) -> None:
    await flow.call(
        "POST",
        f"/v1/cases/{case_id}/next-steps",
        expect=201,
        headers=headers,
        json={
            "action": "Maria calls the AA sponsor Rosa found",
            "owner": {"name": "Maria Lopez"},
            "owner_kind": "family",
            "due_on": "2026-11-01",
        },
    )


@pytest.mark.sqlite_smoke
async def test_a_caseload_page_reads_each_case_in_the_order_asked(
    flow: PlanFlow,
    plans: RunningService,
    tokens: InternalTokens,
    lopez_ongoing_plan: dict[str, Any],
    lopez_records_in: Any,
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    await _overdue_step(flow, flow.case_id, flow.worker)
    drafts_only, empty = uuid.uuid4(), uuid.uuid4()
    await lopez_records_in(drafts_only)
    other = tokens.headers("plans", case_id=drafts_only)
    draft = await flow.call(
        "POST", f"/v1/cases/{drafts_only}/safety-plans", json=lopez_ongoing_plan, expect=201, headers=other
    )
    await flow.call("POST", f"/v1/safety-plans/{draft['id']}/submit", headers=other)
    asked = [empty, flow.case_id, drafts_only]
    body = await flow.call(
        "POST", "/v1/case-views", json={"case_ids": [str(c) for c in asked]}, headers=_page(tokens, asked)
    )
    assert [i["case_id"] for i in body["items"]] == [str(c) for c in asked]
    nothing, lopez, pending = body["items"]
    assert nothing == {"case_id": str(empty), "plan_in_force": None, "open_alerts": 0, "overdue_next_steps": 0}
    assert lopez["plan_in_force"] == {
        "id": active["id"],
        "status": "active",
        "plan_type": "ongoing",
        "version_number": 1,
        "effective_from": "2026-11-02T15:00:00Z",
        "expires_at": "2026-12-02T15:00:00Z",
    }
    assert lopez["overdue_next_steps"] == 1
    # a plan awaiting approval binds no one yet: not "in force" on the caseload
    assert pending["plan_in_force"] is None and pending["overdue_next_steps"] == 0
    for item, headers in ((lopez, flow.worker), (pending, other)):  # the same count as the case's alert list
        alerts = await flow.call("GET", f"/v1/cases/{item['case_id']}/alerts", headers=headers)
        assert item["open_alerts"] == len(alerts["items"]) > 0
    assert await _audited_case_views(plans) == 3  # one read per case


async def test_a_modified_plan_on_the_page_names_its_version_in_force(
    flow: PlanFlow,
    tokens: InternalTokens,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    await flow.call(
        "PATCH",
        f"/v1/safety-plans/{active['id']}",
        json={"change_note": "A month more", "expires_at": "2027-01-02T15:00:00Z"},
        headers={**flow.worker, "If-Match": f'"{active["version"]}"'},
    )
    body = await flow.call(
        "POST", "/v1/case-views", json={"case_ids": [str(flow.case_id)]}, headers=_page(tokens, [flow.case_id])
    )
    in_force = body["items"][0]["plan_in_force"]
    assert (in_force["status"], in_force["version_number"]) == ("modified", 1)
    assert in_force["expires_at"] == "2026-12-02T15:00:00Z"  # the edit's new date binds no one yet


async def test_a_case_outside_the_token_makes_the_whole_page_404_and_nothing_is_read(
    flow: PlanFlow,
    plans: RunningService,
    tokens: InternalTokens,
) -> None:
    allowed, outside = [uuid.uuid4(), uuid.uuid4()], uuid.uuid4()
    body = {"case_ids": [str(c) for c in [*allowed, outside]]}
    problem = await flow.call("POST", "/v1/case-views", json=body, headers=_page(tokens, allowed), expect=404)
    assert problem["detail"] == "no such case"
    # a single-case token reads its own case only
    await flow.call("POST", "/v1/case-views", json={"case_ids": [str(flow.case_id)]}, expect=200)
    await flow.call("POST", "/v1/case-views", json=body, expect=404)
    # a token with cases but without case:read reads nothing
    no_read = tokens.principal(scopes=("case:write",))
    await flow.call(
        "POST",
        "/v1/case-views",
        json={"case_ids": [str(allowed[0])]},
        expect=404,
        headers=tokens.headers("plans", replace(no_read, case_ids=frozenset(allowed))),
    )
    assert await _audited_case_views(plans) == 1


async def test_a_bad_page_is_422_naming_case_ids_and_nothing_is_written(
    flow: PlanFlow,
    plans: RunningService,
    tokens: InternalTokens,
) -> None:
    one = uuid.uuid4()
    headers = _page(tokens, [one])
    for body, field in (
        ({"case_ids": []}, "case_ids"),
        ({"case_ids": [str(one), str(one)]}, "case_ids"),
        ({"case_ids": [str(uuid.uuid4()) for _ in range(51)]}, "case_ids"),
        ({"case_ids": ["C-1001"]}, "case_ids.0"),
        ({}, "case_ids"),
        ({"case_ids": [str(one)], "audience": "family"}, "audience"),
    ):
        problem = await flow.call("POST", "/v1/case-views", json=body, headers=headers, expect=422)
        assert [e["field"] for e in problem["errors"]] == [field], (body, problem)
    problem = await flow.call(
        "POST", "/v1/case-views?limit=5", json={"case_ids": [str(one)]}, headers=headers, expect=400
    )
    assert problem["errors"][0]["field"] == "limit"
    assert await _audited_case_views(plans) == 0


async def test_the_page_costs_the_same_queries_for_one_case_as_for_twenty(
    flow: PlanFlow,
    plans: RunningService,
    tokens: InternalTokens,
    lopez_ongoing_plan: dict[str, Any],
    lopez_records_in: Any,
) -> None:
    cases = [flow.case_id, *(uuid.uuid4() for _ in range(19))]
    await flow.active_plan(lopez_ongoing_plan)
    for n, case_id in enumerate(cases[1:]):
        headers = tokens.headers("plans", case_id=case_id)
        await lopez_records_in(case_id)
        await flow.call(
            "POST", f"/v1/cases/{case_id}/safety-plans", json=lopez_ongoing_plan, expect=201, headers=headers
        )
        if n % 3 == 0:
            await _overdue_step(flow, case_id, headers)
    engine = plans.app.state.database.engine.sync_engine

    async def statements_for(case_ids: list[uuid.UUID]) -> tuple[int, int]:
        """(the page's own statements, the audit writer's): the outbox relay working beside the request is
        left out."""
        seen: list[str] = []

        def count(*args: Any) -> None:
            if "outbox_event" not in str(args[2]):
                seen.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            body = await flow.call(
                "POST", "/v1/case-views", json={"case_ids": [str(c) for c in case_ids]}, headers=_page(tokens, case_ids)
            )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(body["items"]) == len(case_ids)
        audit = [s for s in seen if "audit_" in s]
        return len(seen) - len(audit), len(audit)

    one_case, one_audit = await statements_for(cases[:1])
    twenty_cases, twenty_audit = await statements_for(cases)
    # the expiry sweep, the plans, the overdue next steps; the practice rules' open decisions and recent check-ins
    assert twenty_cases == one_case == 5
    # The audit trail is one record per case, appended together by the shared chain writer: three statements (one
    # record on PostgreSQL: two).
    assert twenty_audit == 3 and one_audit == (2 if plans.app.state.database.dialect == "postgresql" else 3)


@pytest.mark.sqlite_smoke
async def test_the_page_counts_the_practice_rules_alerts_as_the_case_lists_do(
    flow: PlanFlow,
    plans: RunningService,
    tokens: InternalTokens,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    """A broken rule (Lopez) and a conditionally-safe decision with no plan past its time (another case) are
    alerts on the case's list: the caseload page counts them too."""
    active = await flow.active_plan(lopez_ongoing_plan)
    await flow.call(
        "POST",
        f"/v1/safety-plans/{active['id']}/check-ins",
        json={"rule_id": active["rules"][0]["id"], "reported_by": {"name": "Rosa Delgado"}, "kept": False},
        expect=201,
    )
    undecided = uuid.uuid4()
    await plans.bus.publish(
        Event(
            id=new_id(),
            subject="sop.assessment.sdm_assessment.completed",
            occurred_at=clock.now(),
            case_id=undecided,
            data={
                "sdm_assessment_id": str(new_id()),
                "case_id": str(undecided),
                "decisions": {"safety_decision": "conditionally_safe"},
                "completed_by": "fsw.rivera",
                "completed_at": clock.now().isoformat(),
            },
        )
    )
    clock.advance(timedelta(hours=25))  # past conditionally_safe_plan_within_hours
    asked = [flow.case_id, undecided]
    body = await flow.call(
        "POST", "/v1/case-views", json={"case_ids": [str(c) for c in asked]}, headers=_page(tokens, asked)
    )
    counts = {uuid.UUID(i["case_id"]): i["open_alerts"] for i in body["items"]}
    for case_id in asked:
        alerts = await flow.call("GET", f"/v1/cases/{case_id}/alerts", headers=tokens.headers("plans", case_id=case_id))
        kinds = [a["kind"] for a in alerts["items"]]
        assert counts[case_id] == len(kinds), (case_id, kinds)
    assert counts[undecided] == 1 and counts[flow.case_id] >= 1


async def test_a_plan_past_its_expiry_is_expired_by_the_page_read_and_no_longer_in_force(
    flow: PlanFlow,
    tokens: InternalTokens,
    clock: FixedClock,
    lopez_ongoing_plan: dict[str, Any],
) -> None:
    await flow.active_plan(lopez_ongoing_plan)
    clock.advance(timedelta(days=31))  # past 2026-12-02T15:00Z
    body = await flow.call(
        "POST", "/v1/case-views", json={"case_ids": [str(flow.case_id)]}, headers=_page(tokens, [flow.case_id])
    )
    glance = body["items"][0]
    assert glance["plan_in_force"] is None and glance["open_alerts"] == 1  # plan_expired
    listed = await flow.call("GET", f"/v1/cases/{flow.case_id}/safety-plans")
    assert [p["status"] for p in listed["items"]] == ["expired"]
