"""The REST façade `/api/{service}/v1/…`: authenticated and access-checked at the edge, passed through with
the headers that matter (ETag, If-Match, Idempotency-Key and its replay), audited; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from sop_gateway.demo.assessment import DEMO_DANGER_STATEMENT
from sop_gateway.demo.network import DEMO_CASE_BODY

if TYPE_CHECKING:
    import httpx
    from conftest import EmbeddedSystem

HARM: dict[str, Any] = {
    "kind": "harm",
    "language": "en",
    "who_reported": "A neighbour",
    "caregivers": [{"name": "Maria"}],
    "action_or_inaction": "left Sofia and Mateo alone overnight",
    "when_or_how_often": "twice in October",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "impact_on_child": "they were scared and hungry",
}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body


async def test_the_worker_reads_the_statements_and_a_worker_not_on_the_case_cannot_tell_it_exists(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    path = "/api/assessment/v1/cases/{}/statements"
    mine = await system.client.get(path.format(demo_case), headers=system.bearer("fsw.rivera"))
    assert mine.status_code == 200, mine.text
    [statement] = mine.json()["items"]
    assert statement["kind"] == "danger" and statement["case_id"] == str(demo_case)

    denied = _problem(await system.client.get(path.format(demo_case), headers=system.bearer("fsw.lindqvist")), 404)
    missing = _problem(await system.client.get(path.format(uuid.uuid4()), headers=system.bearer("fsw.lindqvist")), 404)
    not_a_case = _problem(await system.client.get(path.format("not-a-uuid"), headers=system.bearer("fsw.rivera")), 404)
    for body in (missing, not_a_case):
        assert {k: body[k] for k in ("type", "title", "detail")} == {k: denied[k] for k in ("type", "title", "detail")}
    assert "Lopez" not in str(denied)
    # nor can the unassigned worker write into it
    write = await system.client.post(path.format(demo_case), json=HARM, headers=system.bearer("fsw.lindqvist"))
    _problem(write, 404)


async def test_an_unknown_service_is_404(system: EmbeddedSystem) -> None:
    for path in ("/api/unknown/v1/x", "/api/gateway/v1/cases", "/api/network/v2/cases"):
        _problem(await system.client.get(path, headers=system.bearer("fsw.rivera")), 404)


async def test_etag_and_if_match_pass_through(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    case = await system.client.get(f"/api/network/v1/cases/{demo_case}", headers=system.bearer("fsw.rivera"))
    assert case.status_code == 200 and case.headers["ETag"] == '"1"'
    stale = await system.client.put(
        "/api/network/v1/cases/by-external/CHRIS/DEMO-2026-0001",
        json={**DEMO_CASE_BODY, "county": "Saline"},
        headers={**system.bearer("sacwis.sync"), "If-Match": '"7"'},
    )
    assert _problem(stale, 412)["current_version"] == 1
    fresh = await system.client.put(
        "/api/network/v1/cases/by-external/CHRIS/DEMO-2026-0001",
        json={**DEMO_CASE_BODY, "county": "Saline"},
        headers={**system.bearer("sacwis.sync"), "If-Match": '"1"'},
    )
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"2"' and fresh.json()["county"] == "Saline"


@pytest.mark.sqlite_smoke
async def test_the_same_idempotency_key_twice_creates_one_statement_and_says_it_replayed(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    path = f"/api/assessment/v1/cases/{demo_case}/statements"
    headers = {**system.bearer("fsw.rivera"), "Idempotency-Key": "facade-harm-1"}
    first = await system.client.post(path, json=HARM, headers=headers)
    second = await system.client.post(path, json=HARM, headers=headers)
    assert first.status_code == 201 and second.status_code == 201, (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert first.headers["ETag"] == second.headers["ETag"] == '"1"'
    location = first.headers["Location"]
    assert location.startswith("/api/assessment/v1/")  # where the client reaches it, not the service's own path
    read_back = await system.client.get(location, headers=system.bearer("fsw.rivera"))
    assert read_back.status_code == 200, read_back.text
    assert read_back.json()["id"] == first.json()["id"]
    other_body = await system.client.post(path, json={**HARM, "when_or_how_often": "once"}, headers=headers)
    _problem(other_body, 422)
    listed = await system.client.get(path, params={"kind": "harm"}, headers=system.bearer("fsw.rivera"))
    assert [s["id"] for s in listed.json()["items"]] == [first.json()["id"]]


async def test_facade_calls_are_audited_at_the_edge(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    before = len(await system.audit_rows())
    read = await system.client.get(
        f"/api/assessment/v1/cases/{demo_case}/statements", headers=system.bearer("fsw.rivera")
    )
    created = await system.client.post(
        f"/api/assessment/v1/cases/{demo_case}/statements", json=HARM, headers=system.bearer("fsw.rivera")
    )
    denied = await system.client.get(
        f"/api/assessment/v1/cases/{demo_case}/statements", headers=system.bearer("fsw.lindqvist")
    )
    assert (read.status_code, created.status_code, denied.status_code) == (200, 201, 404)
    rows = (await system.audit_rows())[before:]
    assert [(r.actor_subject, r.resource, r.action, r.case_id) for r in rows] == [
        ("fsw.rivera", "assessment:cases", "read", demo_case),
        ("fsw.rivera", "assessment:cases", "create", demo_case),
        ("fsw.lindqvist", "case", "denied", demo_case),  # the refused attempt too (the caller only sees 404)
    ]
    assert rows[0].request_id == read.headers["X-Request-ID"]
    assert rows[2].request_id == denied.headers["X-Request-ID"]
    assert (await system.verify_audit_chain()).intact


async def test_the_seeded_statement_is_the_demo_statement(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    listed = await system.client.get(
        f"/api/assessment/v1/cases/{demo_case}/statements", headers=system.bearer("sup.okafor")
    )
    [statement] = listed.json()["items"]
    assert statement["caregiver_behaviour"] == DEMO_DANGER_STATEMENT["caregiver_behaviour"]
