"""caseView over HTTP through the embedded gateway, on SQLite and PostgreSQL: the demo family's answers,
one call per service whatever the cache holds, and who may see the case (and as which audience)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sop_shared.auth import Principal
from sop_shared.policy import ActorType

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ONE_CALL_EACH = {"network": 1, "assessment": 1, "plans": 1}


async def test_the_assigned_worker_sees_the_demo_family_with_one_call_per_service(
    system: EmbeddedSystem, demo_case: uuid.UUID,
) -> None:
    system.forget_access_decisions()  # seeding warmed the cache for fsw.rivera: start cold
    cold = await system.case_view(demo_case)
    assert "errors" not in cold, cold
    view = cold["data"]["caseView"]
    assert view["case"] == {"id": str(demo_case), "externalSystem": "CHRIS", "externalId": "DEMO-2026-0001",
                            "county": "Pulaski", "status": "open"}
    assert sorted(c["firstName"] for c in view["children"]) == ["Mateo", "Sofia"]
    assert {c["role"] for c in view["children"]} == {"child"}
    assert view["caregivers"] == [{"firstName": "Maria", "relationshipToChildren": "mother",
                                   "needsInterpreter": True, "preferredLanguage": "es"}]
    assert view["worries"]["harm"] == []
    [danger] = view["worries"]["danger"]
    assert danger["kind"] == "danger" and danger["threatCodes"] == ["T4"]
    assert danger["text"].startswith("Grandma Rosa and Ms. Rivera are worried that Maria drinks")
    assert danger["plainLanguage"]["language"] == "en"
    assert isinstance(danger["plainLanguage"]["readingGrade"], float)
    assert isinstance(danger["plainLanguage"]["findings"], list)
    plan = view["safetyPlan"]
    assert plan["title"] == "Keeping Sofia and Mateo safe at night"
    assert plan["planType"] == "ongoing" and plan["status"] == "active"  # signed, approved, in force (demo/plans.py)
    assert [r["monitors"] for r in plan["rules"]] == [["Rosa Delgado"], ["Rosa Delgado"]]
    assert plan["rules"][0]["responsible"] == ["Maria Lopez"] and plan["rules"][0]["threatCode"] == "T4"
    assert cold["extensions"]["upstreamCalls"] == ONE_CALL_EACH

    # The first view cached the access decision: the second (within the 5 s) takes the warm path.
    assert system.gateway.state.access_cache.get(
        Principal(subject="fsw.rivera", actor_type=ActorType.staff), demo_case) is not None
    warm = await system.case_view(demo_case)
    assert warm["data"] == cold["data"]
    assert warm["extensions"]["upstreamCalls"] == ONE_CALL_EACH


async def test_the_assigned_supervisor_sees_the_case_and_may_ask_for_the_supervisor_audience(
    system: EmbeddedSystem, demo_case: uuid.UUID,
) -> None:
    for audience in ("STAFF", "SUPERVISOR"):
        body = await system.case_view(demo_case, user="sup.okafor", audience=audience)
        assert "errors" not in body, body
        assert body["data"]["caseView"]["case"]["id"] == str(demo_case)
        assert len(body["data"]["caseView"]["worries"]["danger"]) == 1


async def test_a_worker_may_not_ask_for_the_supervisor_audience_and_nothing_is_fetched(
    system: EmbeddedSystem, demo_case: uuid.UUID,
) -> None:
    body = await system.case_view(demo_case, user="fsw.rivera", audience="SUPERVISOR")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["extensions"]["upstreamCalls"] == {}


async def test_a_worker_not_on_the_case_gets_the_same_not_found_as_a_case_that_does_not_exist(
    system: EmbeddedSystem, demo_case: uuid.UUID,
) -> None:
    denied = await system.case_view(demo_case, user="fsw.lindqvist")
    missing = await system.case_view(uuid.uuid4(), user="fsw.lindqvist")
    for body in (denied, missing):
        assert body["data"] is None
        assert [e["extensions"] for e in body["errors"]] == [{"code": "NOT_FOUND"}]
        # only the access decision was asked for: nothing of the case was fetched
        assert body["extensions"]["upstreamCalls"] == {"network": 1}
    assert denied["errors"][0]["message"] == missing["errors"][0]["message"]
    assert "Lopez" not in str(denied) and "Pulaski" not in str(denied)
    # and a second denied look, now from the cache, answers the same without fetching anything
    again = await system.case_view(demo_case, user="fsw.lindqvist")
    assert again["errors"] == denied["errors"] and again["extensions"]["upstreamCalls"] == {}


async def test_a_case_id_that_is_not_a_uuid_is_bad_input_and_calls_no_service(system: EmbeddedSystem) -> None:
    body = await system.case_view("not-a-uuid")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["extensions"]["upstreamCalls"] == {}


async def test_a_caseview_is_audited_at_the_edge_and_the_chain_stays_intact(
    system: EmbeddedSystem, demo_case: uuid.UUID,
) -> None:
    response = await system.graphql(
        "query($id: ID!) { caseView(caseId: $id) { case { id } } }", {"id": str(demo_case)}, user="fsw.rivera")
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    rows = await system.audit_rows()
    views = [r for r in rows if r.resource == "case_view"]
    assert len(views) == 1
    [row] = views
    assert (row.action, row.case_id, row.actor_subject, row.actor_type) == ("read", demo_case, "fsw.rivera", "staff")
    assert row.resource_id == str(demo_case) and row.audience == "staff"
    assert row.fields == ["case", "children", "caregivers", "worries", "safetyPlan"]
    assert row.request_id == response.headers["X-Request-ID"]
    verdict = await system.verify_audit_chain()
    assert verdict.intact and verdict.records == len(rows) > 1  # the seeding's façade calls are in it too


async def test_a_denied_caseview_leaves_no_read_in_the_audit_trail(
    system: EmbeddedSystem, demo_case: uuid.UUID,
) -> None:
    await system.case_view(demo_case, user="fsw.lindqvist")
    assert [r for r in await system.audit_rows() if r.resource == "case_view"] == []
