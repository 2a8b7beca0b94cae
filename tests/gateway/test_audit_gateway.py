"""The audit trail at the gateway and through it (issue 10, finding 3), on SQLite and PostgreSQL:

* a refused attempt on a case is recorded (`denied`: who, which case, what was asked), while the caller hears
  exactly what it would for a case that does not exist;
* the purpose is one of a closed set: anything else (a typo, 300 characters) is a 422 naming the header,
  at the gateway and at a service, never a 500;
* the request id in every audit row is the gateway's own (a UUIDv7); the caller's id is kept beside it,
  bounded and of safe characters only;
* every chain — the gateway's and each service's — can be verified, by auditors and administrators only.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, update

from sop_gateway.demo.network import seed_network
from sop_gateway.demo.seeding import DemoSeed
from sop_gateway.models import platform
from sop_shared.audit import AccessPurpose

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

CHAIN = """query($c: String!) { auditChain(component: $c) {
  component intact records brokenAt reason legacyRecords checkpointSeq } }"""
CASE_VIEW = "query($id: ID!) { caseView(caseId: $id) { case { recordId } } }"


async def seeded_case(system: EmbeddedSystem) -> str:
    seed = DemoSeed(system.keys_dir)
    await seed_network(system.client, seed)
    return seed.case_id


async def service_audit_rows(system: EmbeddedSystem, service: str) -> list[Any]:
    app = system.services[service]
    audit = app.state.platform.audit
    async with app.state.database.session() as session:
        return list((await session.execute(select(audit).order_by(audit.c.seq))).all())


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("request_id", "instance")}


# --- denied attempts ------------------------------------------------------------------------------------------


async def test_a_refused_case_is_audited_as_denied_and_answered_as_if_it_did_not_exist(
    system: EmbeddedSystem,
) -> None:
    case_id = await seeded_case(system)
    random_case = str(uuid.uuid4())
    stranger = system.bearer("fsw.lindqvist")  # a worker not assigned to the family
    refused = await system.client.get(f"/api/network/v1/cases/{case_id}", headers=stranger)
    missing = await system.client.get(f"/api/network/v1/cases/{random_case}", headers=stranger)
    assert refused.status_code == missing.status_code == 404
    assert without_ids(refused.json()) == without_ids(missing.json())
    graphql = (await system.graphql(CASE_VIEW, {"id": case_id}, user="fsw.lindqvist")).json()
    assert graphql["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    denied = [r for r in await system.audit_rows() if r.action == "denied"]
    on_the_case = [r for r in denied if r.case_id == uuid.UUID(case_id)]
    assert [(r.actor_subject, r.actor_type, r.resource) for r in on_the_case] == [
        ("fsw.lindqvist", "staff", "case"),
        ("fsw.lindqvist", "staff", "case"),
    ]
    assert on_the_case[0].resource_id == f"GET /api/network/v1/cases/{case_id}"
    assert on_the_case[1].resource_id == "POST /graphql"
    assert on_the_case[0].request_id == refused.headers["X-Request-ID"]
    # a case that does not exist is refused and recorded the same way: the record tells nothing either
    assert [r.actor_subject for r in denied if r.case_id == uuid.UUID(random_case)] == ["fsw.lindqvist"]
    assert (await system.verify_audit_chain()).intact


# --- purpose ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["curiosity", "x" * 300, "casework; DROP TABLE"])
async def test_a_purpose_outside_the_closed_set_is_refused_by_name(sqlite_system: EmbeddedSystem, purpose: str) -> None:
    case_id = await seeded_case(sqlite_system)
    before = len(await sqlite_system.audit_rows())
    for response in (
        await sqlite_system.client.get(
            f"/api/network/v1/cases/{case_id}", headers={**sqlite_system.bearer("fsw.rivera"), "X-SOP-Purpose": purpose}
        ),
        await sqlite_system.graphql(CASE_VIEW, {"id": case_id}, headers={"X-SOP-Purpose": purpose}),
    ):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == "X-SOP-Purpose"
        assert "casework" in response.json()["errors"][0]["message"]  # the allowed values are named
    assert len(await sqlite_system.audit_rows()) == before  # nothing written


async def test_a_service_refuses_an_unknown_purpose_too_never_with_a_500(system: EmbeddedSystem) -> None:
    import httpx

    network = system.services["network"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network), base_url="http://network") as client:
        response = await client.get(f"/v1/cases/{uuid.uuid4()}", headers={"X-SOP-Purpose": "p" * 300})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "X-SOP-Purpose"


async def test_a_declared_purpose_is_recorded_at_the_service(system: EmbeddedSystem) -> None:
    case_id = await seeded_case(system)
    response = await system.client.get(
        f"/api/network/v1/cases/{case_id}", headers={**system.bearer("fsw.rivera"), "X-SOP-Purpose": "Court"}
    )
    assert response.status_code == 200, response.text
    rows = [r for r in await service_audit_rows(system, "network") if r.request_id == response.headers["X-Request-ID"]]
    assert rows and {r.purpose for r in rows} == {AccessPurpose.court.value}
    at_the_edge = [r for r in await system.audit_rows() if r.request_id == response.headers["X-Request-ID"]]
    assert at_the_edge and {r.purpose for r in at_the_edge} == {AccessPurpose.court.value}


# --- request ids -----------------------------------------------------------------------------------------------


async def test_the_request_id_is_the_gateways_and_the_clients_id_is_kept_apart(system: EmbeddedSystem) -> None:
    case_id = await seeded_case(system)
    response = await system.client.get(
        f"/api/network/v1/cases/{case_id}", headers={**system.bearer("fsw.rivera"), "X-Request-ID": "my-app:42"}
    )
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert request_id != "my-app:42" and uuid.UUID(request_id).version == 7
    [gateway_row] = [r for r in await system.audit_rows() if r.request_id == request_id]
    assert gateway_row.client_request_id == "my-app:42"
    service_rows = [r for r in await service_audit_rows(system, "network") if r.request_id == request_id]
    assert service_rows and {r.client_request_id for r in service_rows} == {"my-app:42"}


@pytest.mark.parametrize("client_id", ["a" * 129, "spaces are not safe", "<script>", "ünïcode"])
async def test_an_unsafe_or_overlong_client_request_id_is_not_kept(
    sqlite_system: EmbeddedSystem, client_id: str
) -> None:
    case_id = await seeded_case(sqlite_system)
    response = await sqlite_system.client.get(
        f"/api/network/v1/cases/{case_id}",
        headers={**sqlite_system.bearer("fsw.rivera"), "X-Request-ID": client_id.encode()},
    )
    assert response.status_code == 200
    [row] = [r for r in await sqlite_system.audit_rows() if r.request_id == response.headers["X-Request-ID"]]
    assert row.client_request_id is None


# --- verifying chains ------------------------------------------------------------------------------------------


@pytest.mark.sqlite_smoke
async def test_auditors_and_administrators_verify_every_chain(system: EmbeddedSystem) -> None:
    case_id = await seeded_case(system)
    await system.client.get(f"/api/network/v1/cases/{case_id}", headers=system.bearer("fsw.rivera"))
    await system.gateway.state.audit_trail.checkpoint()
    for user in ("audit.byrne", "admin.hughes"):
        for component in ("gateway", "network", "assessment", "plans"):
            body = (await system.graphql(CHAIN, {"c": component}, user=user)).json()
            verdict = body["data"]["auditChain"]
            assert verdict["component"] == component and verdict["intact"], body
    gateway = (await system.graphql(CHAIN, {"c": "gateway"}, user="audit.byrne")).json()["data"]["auditChain"]
    assert gateway["checkpointSeq"] is not None and gateway["legacyRecords"] == 0
    rest = await system.client.get("/api/network/v1/audit/verify", headers=system.bearer("audit.byrne"))
    assert rest.status_code == 200 and rest.json()["intact"] and rest.json()["component"] == "network"


async def test_a_tampered_service_chain_shows_through_the_gateway(system: EmbeddedSystem) -> None:
    case_id = await seeded_case(system)
    await system.client.get(f"/api/network/v1/cases/{case_id}", headers=system.bearer("fsw.rivera"))
    network = system.services["network"]
    audit = network.state.platform.audit
    async with network.state.database.session() as session:
        await session.execute(update(audit).where(audit.c.seq == 1).values(actor_subject="someone.else"))
    verdict = (await system.graphql(CHAIN, {"c": "network"}, user="audit.byrne")).json()["data"]["auditChain"]
    assert (verdict["intact"], verdict["brokenAt"]) == (False, 1)
    assert verdict["reason"] == "a record's content does not match its hash"


async def test_no_one_else_may_verify_a_chain(sqlite_system: EmbeddedSystem) -> None:
    for user in ("fsw.rivera", "sup.okafor", "sacwis.sync"):
        body = (await sqlite_system.graphql(CHAIN, {"c": "network"}, user=user)).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (user, body)
        rest = await sqlite_system.client.get("/api/network/v1/audit/verify", headers=sqlite_system.bearer(user))
        assert rest.status_code == 403, (user, rest.text)
    unknown = (await sqlite_system.graphql(CHAIN, {"c": "billing"}, user="audit.byrne")).json()
    assert unknown["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "component"}


async def test_the_gateway_chain_is_keyed_and_rows_name_their_key(sqlite_system: EmbeddedSystem) -> None:
    await seeded_case(sqlite_system)
    rows = await sqlite_system.audit_rows()
    current = sqlite_system.gateway.state.audit_trail.keys.keyring.current_id
    assert rows and {r.key_id for r in rows} == {current}
    assert platform.audit.c.key_id is not None
