"""`case(id)` and `caseByExternalId(system, externalId)`: the demo case for those on it; for anyone else a
missing case and a forbidden one answer the same NOT_FOUND at the same cost; ids that are not ids are
refused before any service is called. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

CASE = """query($id: ID!) { case(id: $id) { id externalSystem externalId caseType status county version
  assessmentSummary { activeDangerStatements safetyDecision } planSummary { planInForce { status } } } }"""
BY_EXTERNAL = """query($system: String!, $externalId: String!) {
  caseByExternalId(system: $system, externalId: $externalId) { id externalId county
    planSummary { planInForce { planType } } } }"""


async def _ask(embedded: EmbeddedSystem, query: str, user: str = "fsw.rivera", **variables: Any) -> dict[str, Any]:
    response = await embedded.graphql(query, variables, user=user)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_worker_finds_the_demo_case_by_id_with_its_summaries(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    system.forget_access_decisions()
    body = await _ask(system, CASE, id=str(demo_case))
    assert "errors" not in body, body
    case = body["data"]["case"]
    assert {k: case[k] for k in ("id", "externalSystem", "externalId", "caseType", "status", "county")} == {
        "id": str(demo_case),
        "externalSystem": "CHRIS",
        "externalId": "DEMO-2026-0001",
        "caseType": "IN_HOME",
        "status": "OPEN",
        "county": "Pulaski",
    }
    assert case["assessmentSummary"] == {"activeDangerStatements": 1, "safetyDecision": "CONDITIONALLY_SAFE"}
    assert case["planSummary"] == {"planInForce": {"status": "ACTIVE"}}
    assert body["extensions"]["upstreamCalls"] == {"network": 1, "assessment": 1, "plans": 1}
    [audited] = [r for r in await system.audit_rows() if r.resource == "case" and r.actor_subject == "fsw.rivera"]
    assert (audited.action, audited.case_id) == ("read", demo_case)


async def test_by_id_a_forbidden_case_and_a_missing_one_answer_the_same(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    system.forget_access_decisions()
    forbidden = await _ask(system, CASE, user="fsw.lindqvist", id=str(demo_case))
    missing = await _ask(system, CASE, user="fsw.lindqvist", id=str(uuid.uuid4()))
    auditor = await _ask(system, CASE, user="audit.byrne", id=str(demo_case))
    for body in (forbidden, missing, auditor):
        assert body["data"] is None
        assert [e["extensions"] for e in body["errors"]] == [{"code": "NOT_FOUND"}]
        assert body["extensions"]["upstreamCalls"] == {"network": 1}
    assert forbidden["errors"][0]["message"] == missing["errors"][0]["message"]
    assert "Lopez" not in str(forbidden) and "Pulaski" not in str(forbidden)


async def test_by_external_id_the_worker_finds_the_case_and_others_cannot_tell_it_exists(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    found = await _ask(system, BY_EXTERNAL, system="CHRIS", externalId="DEMO-2026-0001")
    assert "errors" not in found, found
    assert found["data"]["caseByExternalId"] == {
        "id": str(demo_case),
        "externalId": "DEMO-2026-0001",
        "county": "Pulaski",
        "planSummary": {"planInForce": {"planType": "ONGOING"}},
    }
    forbidden = await _ask(system, BY_EXTERNAL, user="fsw.lindqvist", system="CHRIS", externalId="DEMO-2026-0001")
    missing = await _ask(system, BY_EXTERNAL, user="fsw.lindqvist", system="CHRIS", externalId="DEMO-2026-9999")
    other_system = await _ask(system, BY_EXTERNAL, system="OTHER", externalId="DEMO-2026-0001")
    for body in (forbidden, missing, other_system):
        assert body["data"] is None
        assert [e["extensions"] for e in body["errors"]] == [{"code": "NOT_FOUND"}]
        assert body["extensions"]["upstreamCalls"] == {"network": 1}
    assert forbidden["errors"][0]["message"] == missing["errors"][0]["message"]
    assert "Lopez" not in str(forbidden)


async def test_ids_that_are_not_ids_are_refused_before_any_call(system: EmbeddedSystem) -> None:
    for bad in ("not-a-uuid", "../cases", "1", "00000000-0000-0000-0000-00000000000g"):
        body = await _ask(system, CASE, id=bad)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["field"] == "id"
        assert body["extensions"]["upstreamCalls"] == {}
    for argument, value in (
        ("externalId", "../../cases"),
        ("externalId", "A/B"),
        ("externalId", ""),
        ("externalId", "tab\there"),
        ("externalId", "x" * 101),
        ("system", "CH/RIS"),
        ("system", ".."),
    ):
        variables = {"system": "CHRIS", "externalId": "DEMO-2026-0001", argument: value}
        body = await _ask(system, BY_EXTERNAL, **variables)
        assert body["data"] is None, (argument, value)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["field"] == argument
        assert body["extensions"]["upstreamCalls"] == {}
