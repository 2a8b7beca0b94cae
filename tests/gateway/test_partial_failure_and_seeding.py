"""A section whose service cannot be reached comes back null and named while the rest answers; the demo
family seeds once however often `sop dev` starts. Both on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from sop_gateway.demo import seed_demo_family
from sop_gateway.demo.network import DEMO_CASE

if TYPE_CHECKING:
    from conftest import EmbeddedSystem


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def test_when_the_plans_service_is_unreachable_only_the_safety_plan_is_missing(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    # Only the network hop to a stopped service is simulated here; tests/e2e stops a real process.
    clients = system.gateway.state.services.clients
    real_plans = clients["plans"]
    clients["plans"] = httpx.AsyncClient(transport=httpx.MockTransport(_unreachable), base_url="http://plans")
    try:
        body = await system.case_view(demo_case)
    finally:
        await clients["plans"].aclose()
        clients["plans"] = real_plans
    view = body["data"]["caseView"]
    assert view["safetyPlan"] is None
    assert [e["extensions"]["section"] for e in body["errors"]] == ["safetyPlan"]
    assert body["errors"][0]["extensions"]["code"] == "SECTION_UNAVAILABLE"
    assert body["errors"][0]["extensions"]["service"] == "plans"
    assert body["errors"][0]["path"] == ["caseView", "safetyPlan"]
    assert view["case"]["recordId"] == str(demo_case)
    assert sorted(c["firstName"] for c in view["children"]) == ["Mateo", "Sofia"]
    assert len(view["worries"]["danger"]) == 1
    assert body["extensions"]["upstreamCalls"] == {"network": 1, "assessment": 1, "plans": 1}
    # the audit names what was actually returned
    [audited] = [r for r in await system.audit_rows() if r.resource == "case_view"]
    assert audited.fields == ["case", "children", "caregivers", "worries"]

    recovered = await system.case_view(demo_case)
    assert "errors" not in recovered and recovered["data"]["caseView"]["safetyPlan"]["rules"]


async def test_when_the_network_service_is_unreachable_the_whole_view_is_unavailable_not_empty(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    system.forget_access_decisions()
    clients = system.gateway.state.services.clients
    real_network = clients["network"]
    clients["network"] = httpx.AsyncClient(transport=httpx.MockTransport(_unreachable), base_url="http://network")
    try:
        body = await system.case_view(demo_case)
    finally:
        await clients["network"].aclose()
        clients["network"] = real_network
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "SECTION_UNAVAILABLE", "section": "case", "service": "network"}
    assert body["extensions"]["upstreamCalls"] == {"network": 1}  # no access decision, so nothing else asked


@pytest.mark.sqlite_smoke("what sop dev does on SQLite")
async def test_seeding_the_demo_family_twice_changes_nothing(system: EmbeddedSystem) -> None:
    first = await seed_demo_family(system.gateway)
    second = await seed_demo_family(system.gateway)
    assert first == second
    worker = system.bearer("fsw.rivera")
    statements = await system.client.get(f"/api/assessment/v1/cases/{first}/statements", headers=worker)
    plans = await system.client.get(f"/api/plans/v1/cases/{first}/safety-plans", headers=worker)
    assert statements.status_code == 200 and plans.status_code == 200, (statements.text, plans.text)
    assert len(statements.json()["items"]) == 1
    assert len(plans.json()["items"]) == 1
    assert plans.json()["items"][0]["danger_statement_ids"] == [statements.json()["items"][0]["id"]]
    case = await system.client.get(f"/api/network/v1/cases/{first}", headers=worker)
    assert case.status_code == 200
    assert (case.json()["external_system"], case.json()["external_id"]) == DEMO_CASE
    assert case.json()["version"] == 1  # the second SACWIS upsert found nothing to change
