"""End to end, on real parts: three services and the gateway as separate uvicorn processes talking HTTP
over loopback, each service on its own PostgreSQL database, events on NATS JetStream.

SACWIS upserts a case through the gateway, the worker writes a danger statement and a safety plan, and the
caseView answers with the children, the statement and the plan — with one call per service."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

import httpx
import nats
import pytest

if TYPE_CHECKING:
    from conftest import DistributedSystem

CASE_BODY: dict[str, Any] = {
    "case_type": "in_home",
    "status": "open",
    "county": "Benton",
    "opened_on": "2026-11-01",
    "members": [
        {
            "role": "caregiver",
            "relationship_to_children": "father",
            "person": {
                "external_id": "E2E-P-1",
                "first_name": "Jonah",
                "last_name": "Kabua",
                "preferred_language": "mh",
                "needs_interpreter": True,
            },
        },
        {
            "role": "child",
            "relationship_to_children": "daughter",
            "person": {
                "external_id": "E2E-P-2",
                "first_name": "Lani",
                "last_name": "Kabua",
                "date_of_birth": "2018-04-02",
                "preferred_language": "en",
            },
        },
    ],
    "assignments": [
        {"staff_subject": "fsw.rivera", "role": "worker"},
        {"staff_subject": "sup.okafor", "role": "supervisor"},
    ],
}

DANGER: dict[str, Any] = {
    "kind": "danger",
    "language": "en",
    "who_is_worried": "Lani's aunt and the agency",
    "caregiver_behaviour": "Jonah shouts and throws things when he is angry",
    "context_trigger": "after he loses at cards",
    "children": [{"name": "Lani"}],
    "feared_impact_on_child": "could be hit by something thrown and be too scared to sleep",
    "threat_codes": ["T2"],
}

PLAN: dict[str, Any] = {
    "plan_type": "immediate",
    "title": "Lani is safe when Jonah is angry",
    "threat_codes": ["T2"],
    "rules": [
        {
            "text": "When Jonah feels angry he walks outside until he is calm.",
            "threat_code": "T2",
            "responsible": [{"name": "Jonah Kabua"}],
            "monitors": [{"name": "Aunt Mele"}],
            "frequency": "Every time he feels angry",
            "how_verified": "Aunt Mele calls each evening",
        }
    ],
}

CASE_VIEW = """query($id: ID!) { caseView(caseId: $id) {
  case { recordId county } children { firstName } caregivers { firstName needsInterpreter }
  worries { danger { text threatCodes plainLanguage { findings { code } } } }
  safetyPlan { planType status contentHash rules { text monitors } } } }"""


def bearer(system: DistributedSystem, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {system.token(user)}"}


def route_count(metrics: str, route: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("sop_http_requests_total{") and f'route="{route}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def service_calls(system: DistributedSystem) -> dict[str, float]:
    routes = {
        "network": "/v1/cases/{case_id}/view",
        "assessment": "/v1/cases/{case_id}/case-view",
        "plans": "/v1/cases/{case_id}/case-view",
    }
    async with httpx.AsyncClient(timeout=5) as client:
        return {
            name: route_count((await client.get(f"{system.url(name)}/metrics")).text, route)
            for name, route in routes.items()
        }


@pytest.fixture(scope="module")
def seeded_case(distributed_system: DistributedSystem) -> str:
    """The case, its danger statement and its plan, written through the gateway as SACWIS and the worker."""

    async def seed() -> str:
        async with httpx.AsyncClient(base_url=distributed_system.gateway, timeout=15) as client:
            upsert = await client.put(
                "/api/network/v1/cases/by-external/CHRIS/E2E-0001",
                json=CASE_BODY,
                headers=bearer(distributed_system, "sacwis.sync"),
            )
            assert upsert.status_code == 201, upsert.text
            case_id = upsert.json()["id"]
            worker = bearer(distributed_system, "fsw.rivera")
            statement = await client.post(
                f"/api/assessment/v1/cases/{case_id}/statements",
                json=DANGER,
                headers={**worker, "Idempotency-Key": "e2e-danger-1"},
            )
            assert statement.status_code == 201, statement.text
            plan = await client.post(
                f"/api/plans/v1/cases/{case_id}/safety-plans",
                json={**PLAN, "danger_statement_ids": [statement.json()["id"]]},
                headers={**worker, "Idempotency-Key": "e2e-plan-1"},
            )
            assert plan.status_code == 201, plan.text
            return case_id

    return asyncio.run(seed())


async def test_the_case_view_composes_all_three_services_with_one_call_each(
    distributed_system: DistributedSystem,
    gateway_client: httpx.AsyncClient,
    seeded_case: str,
) -> None:
    await asyncio.sleep(6)  # let the access decision cached while seeding expire: the cold path is tested
    before = await service_calls(distributed_system)
    response = await gateway_client.post(
        "/graphql",
        json={"query": CASE_VIEW, "variables": {"id": seeded_case}},
        headers=bearer(distributed_system, "fsw.rivera"),
    )
    after = await service_calls(distributed_system)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    view = body["data"]["caseView"]
    assert view["case"]["county"] == "Benton"
    assert [c["firstName"] for c in view["children"]] == ["Lani"]
    assert view["caregivers"] == [{"firstName": "Jonah", "needsInterpreter": True}]
    assert view["worries"]["danger"][0]["text"].startswith("Lani's aunt and the agency")
    assert view["safetyPlan"]["rules"][0]["monitors"] == ["Aunt Mele"]
    assert re.fullmatch(r"[0-9a-f]{64}", view["safetyPlan"]["contentHash"])
    assert {name: after[name] - before[name] for name in after} == {"network": 1, "assessment": 1, "plans": 1}


CASELOAD = """{ cases(first: 50) { edges { node { id externalId
  assessmentSummary { activeDangerStatements } planSummary { planInForce { status } } } } } }"""


async def test_the_caseload_page_batches_each_services_summaries_into_one_call_over_http(
    distributed_system: DistributedSystem,
    gateway_client: httpx.AsyncClient,
    seeded_case: str,
) -> None:
    """The read-only multi-case token crosses real HTTP to each service, which checks it and reads PostgreSQL."""

    def bulk_calls(metrics: dict[str, str]) -> dict[str, float]:
        return {name: route_count(text, "/v1/case-views") for name, text in metrics.items()}

    async def metrics() -> dict[str, str]:
        async with httpx.AsyncClient(timeout=5) as client:
            return {
                name: (await client.get(f"{distributed_system.url(name)}/metrics")).text
                for name in ("network", "assessment", "plans")
            }

    before = bulk_calls(await metrics())
    response = await gateway_client.post(
        "/graphql", json={"query": CASELOAD}, headers=bearer(distributed_system, "fsw.rivera")
    )
    after = bulk_calls(await metrics())
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    [node] = [e["node"] for e in body["data"]["cases"]["edges"] if e["node"]["id"] == seeded_case]
    assert node["externalId"] == "E2E-0001"
    assert node["assessmentSummary"] == {"activeDangerStatements": 1}
    assert node["planSummary"] == {"planInForce": None}  # the plan is still a draft: nothing binds the family
    calls = {name: after[name] - before[name] for name in after}
    # one bulk call each to assessment and plans; the network's is skipped when every access decision is cached
    assert (calls["assessment"], calls["plans"]) == (1, 1) and calls["network"] <= 1
    # someone else's caseload never lists the case
    other = await gateway_client.post(
        "/graphql", json={"query": CASELOAD}, headers=bearer(distributed_system, "fsw.lindqvist")
    )
    assert seeded_case not in {e["node"]["id"] for e in other.json()["data"]["cases"]["edges"]}


async def test_a_worker_not_on_the_case_gets_not_found(
    distributed_system: DistributedSystem,
    gateway_client: httpx.AsyncClient,
    seeded_case: str,
) -> None:
    response = await gateway_client.post(
        "/graphql",
        json={"query": CASE_VIEW, "variables": {"id": seeded_case}},
        headers=bearer(distributed_system, "fsw.lindqvist"),
    )
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_every_write_reached_nats_jetstream(
    distributed_system: DistributedSystem, seeded_case: str, nats_url: str
) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        seen: dict[str, str] = {}
        for subject in (
            "sop.network.case.created",
            "sop.assessment.statement.created",
            "sop.plans.safety_plan.created",
        ):
            for _ in range(50):
                try:
                    msg = await js.get_last_msg(
                        distributed_system.events_stream, distributed_system.wire_subject(subject)
                    )
                except Exception:
                    await asyncio.sleep(0.2)
                    continue
                seen[subject] = json.loads(msg.data)["case_id"]
                break
        assert seen == dict.fromkeys(
            ("sop.network.case.created", "sop.assessment.statement.created", "sop.plans.safety_plan.created"),
            seeded_case,
        )
    finally:
        await nc.close()


async def test_services_refuse_calls_that_bypass_the_gateway(
    distributed_system: DistributedSystem,
    seeded_case: str,
) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for name, path in (
            ("network", f"/v1/cases/{seeded_case}"),
            ("assessment", f"/v1/cases/{seeded_case}/statements"),
            ("plans", f"/v1/cases/{seeded_case}/safety-plans"),
        ):
            direct = await client.get(f"{distributed_system.url(name)}{path}")
            assert direct.status_code == 401, (name, direct.text)
            # a staff JWT from the identity provider is not an internal token either
            staff = await client.get(
                f"{distributed_system.url(name)}{path}", headers=bearer(distributed_system, "fsw.rivera")
            )
            assert staff.status_code == 401, (name, staff.text)


async def test_graphql_takes_get_queries_only_with_a_preflight_header_and_refuses_form_posts(
    distributed_system: DistributedSystem,
    gateway_client: httpx.AsyncClient,
) -> None:
    token = bearer(distributed_system, "fsw.rivera")
    query = {"query": "{ me { subject } }"}
    plain_get = await gateway_client.get("/graphql", params=query, headers=token)
    assert plain_get.status_code == 400 and "data" not in plain_get.text
    assert plain_get.json()["type"].endswith("/preflight-required")
    get = await gateway_client.get("/graphql", params=query, headers={**token, "GraphQL-Require-Preflight": "1"})
    assert get.status_code == 200 and get.json()["data"]["me"]["subject"] == "fsw.rivera"
    form = await gateway_client.post("/graphql", data=query, headers=token)
    assert form.status_code == 415


async def test_a_section_whose_service_is_down_is_null_and_named_while_the_rest_answers(
    distributed_system: DistributedSystem,
    gateway_client: httpx.AsyncClient,
    seeded_case: str,
) -> None:
    distributed_system.stop("plans")
    try:
        response = await gateway_client.post(
            "/graphql",
            json={"query": CASE_VIEW, "variables": {"id": seeded_case}},
            headers=bearer(distributed_system, "fsw.rivera"),
        )
        body = response.json()
        assert body["data"]["caseView"]["safetyPlan"] is None
        assert body["data"]["caseView"]["worries"]["danger"]
        assert [e["extensions"]["section"] for e in body["errors"]] == ["safetyPlan"]
    finally:
        distributed_system.start("plans")
