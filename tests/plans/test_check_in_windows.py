"""A plan's check-ins at the source, on SQLite and PostgreSQL: the case view carries each plan's newest
`check_ins_first` with their total and a cursor, and `GET …/recent-check-ins` reads the rest newest first,
every check-in once; a cursor of another plan or case, a forged one and a bad limit are refused."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sop_shared.clock import FixedClock
from sop_shared.pagination import CaseList
from sop_shared.testing import RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow

CHECK_INS = 7


async def _plan_with_check_ins(
    flow: PlanFlow, clock: FixedClock, plan: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    active = await flow.active_plan(plan)
    night = active["rules"][0]["id"]
    clock.set(clock.now().replace(day=28))
    ids = []
    for day in range(CHECK_INS):
        body = {
            "rule_id": night,
            "reported_by": {"name": "Rosa Delgado"},
            "kept": day % 3 != 0,
            "occurred_at": f"2026-11-{day + 10:02d}T08:00:00Z",
        }
        ids.append((await flow.call("POST", f"/v1/safety-plans/{active['id']}/check-ins", json=body, expect=201))["id"])
    return active, ids[::-1]  # newest first


async def test_the_case_view_carries_the_newest_check_ins_and_the_rest_pages_once_each(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, case_id: uuid.UUID, lopez_ongoing_plan: dict[str, Any]
) -> None:
    active, newest_first = await _plan_with_check_ins(flow, clock, lopez_ongoing_plan)
    view = await flow.call("GET", f"/v1/cases/{case_id}/case-view", params={"check_ins_first": 3})
    plan = view["safety_plan"]
    assert [c["id"] for c in plan["recent_check_ins"]] == newest_first[:3]
    assert plan["recent_check_ins_paging"]["total_count"] == CHECK_INS
    seen, cursor = [c["id"] for c in plan["recent_check_ins"]], plan["recent_check_ins_paging"]["next_cursor"]
    for _ in range(10):
        if cursor is None:
            break
        page = await flow.call(
            "GET", f"/v1/safety-plans/{active['id']}/recent-check-ins", params={"limit": 2, "cursor": cursor}
        )
        assert page["total_count"] == CHECK_INS and len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == newest_first
    default = await flow.call("GET", f"/v1/cases/{case_id}/case-view")
    assert len(default["safety_plan"]["recent_check_ins"]) == 5  # as before check-ins were paged
    none = await flow.call("GET", f"/v1/cases/{case_id}/case-view", params={"check_ins_first": 0})
    start = none["safety_plan"]["recent_check_ins_paging"]
    assert none["safety_plan"]["recent_check_ins"] == [] and start["total_count"] == CHECK_INS
    from_start = await flow.call(
        "GET", f"/v1/safety-plans/{active['id']}/recent-check-ins", params={"cursor": start["next_cursor"]}
    )
    assert [c["id"] for c in from_start["items"]] == newest_first and from_start["next_cursor"] is None


async def test_a_bad_limit_or_a_cursor_of_another_plan_or_case_is_refused(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, case_id: uuid.UUID, lopez_ongoing_plan: dict[str, Any]
) -> None:
    active, newest_first = await _plan_with_check_ins(flow, clock, lopez_ongoing_plan)
    path = f"/v1/safety-plans/{active['id']}/recent-check-ins"
    position = ["2026-11-12T08:00:00+00:00", newest_first[0]]
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"cursor": CaseList(case_id, f"check-ins.{uuid.uuid4()}").cursor(position)}, "cursor"),
        ({"cursor": CaseList(uuid.uuid4(), f"check-ins.{active['id']}").cursor(position)}, "cursor"),
        ({"cursor": CaseList(case_id, f"check-ins.{active['id']}").cursor(["yesterday", "x"])}, "cursor"),
    ):
        refused = await flow.call("GET", path, params=params, expect=422)
        assert refused["errors"][0]["field"].endswith(field), (params, refused)
    for params in ({"check_ins_first": 201}, {"check_ins_first": -1}):
        await flow.call("GET", f"/v1/cases/{case_id}/case-view", params=params, expect=422)
    ok = await flow.call(
        "GET", path, params={"cursor": CaseList(case_id, f"check-ins.{active['id']}").cursor(position)}
    )
    assert ok["total_count"] == CHECK_INS


async def test_a_pages_start_cursor_reads_the_check_ins_before_it_back_to_the_newest(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, case_id: uuid.UUID, lopez_ongoing_plan: dict[str, Any]
) -> None:
    active, newest_first = await _plan_with_check_ins(flow, clock, lopez_ongoing_plan)
    path = f"/v1/safety-plans/{active['id']}/recent-check-ins"
    the_list = CaseList(case_id, f"check-ins.{active['id']}")
    oldest = await flow.call("GET", path, params={"limit": 2, "cursor": the_list.from_the_end()})
    assert [c["id"] for c in oldest["items"]] == newest_first[-2:]  # the list's end, still newest first
    seen, cursor = [c["id"] for c in oldest["items"]], oldest["next_cursor"]
    for _ in range(10):
        if cursor is None:
            break
        page = await flow.call("GET", path, params={"limit": 2, "cursor": cursor})
        assert page["total_count"] == CHECK_INS and len(page["items"]) <= 2
        seen = [c["id"] for c in page["items"]] + seen
        cursor = page["next_cursor"]  # reads on backward
    assert seen == newest_first
    # a forward page's start_cursor reads the check-ins before it, its end_cursor those after it
    first = await flow.call("GET", path, params={"limit": 2})
    middle = await flow.call("GET", path, params={"limit": 2, "cursor": first["end_cursor"]})
    assert [c["id"] for c in middle["items"]] == newest_first[2:4]
    before = await flow.call("GET", path, params={"limit": 5, "cursor": middle["start_cursor"]})
    assert [c["id"] for c in before["items"]] == newest_first[:2] and before["next_cursor"] is None
    after = await flow.call("GET", path, params={"limit": 1, "cursor": middle["end_cursor"]})
    assert [c["id"] for c in after["items"]] == newest_first[4:5]
