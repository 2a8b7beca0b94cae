"""The gateway's access matrix: every kind of caller, every way in, three cases, on SQLite and PostgreSQL.

Callers sign in through the gateway's real edge (tests/gateway/principals.py). The expected outcome of every
cell is written out by hand below from the policy table (`sop_shared.policy`: staff through an active
assignment, partners through a live grant to their agency, family and network members through their login
on the case, integration clients through `cases:sync`; writes need `case:write`, which only assigned workers
and supervisors hold; the access log needs `audit:read`) — the test never asks the policy code, so it fails
when the code drifts from the table. A denial on an existing case must look exactly like the same request
about a case that does not exist.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import real_services

from sop_gateway.demo.network import seed_network
from sop_gateway.demo.seeding import DemoSeed
from sop_shared.clock import FixedClock, SystemClock
from sop_shared.policy import ActorType
from tests.gateway.conftest import COMPONENTS, EmbeddedSystem, embedded_system, sqlite_urls
from tests.gateway.principals import (
    grant_partner,
    integration_bearer,
    member_bearer,
    partner_bearer,
    revoke_grant,
    staff_bearer,
    trust_member_portal,
)

ALLOW, NOT_FOUND, FORBIDDEN = "allow", "not_found", "forbidden"

# Who asks, and the case-view audience their kind of caller speaks for by default.
PRINCIPALS: dict[str, str] = {
    "worker": "STAFF",  # fsw.rivera, the demo family's worker
    "worker_elsewhere": "STAFF",  # fsw.lindqvist, worker on the second case only
    "supervisor": "STAFF",  # sup.okafor, the demo case's supervisor
    "auditor": "STAFF",  # audit.byrne, on no case
    "partner_live_grant": "PARTNER",  # a live case:read grant to its agency on the demo case
    "partner_no_grant": "PARTNER",  # another agency, no grant anywhere
    "partner_expired_grant": "PARTNER",  # its agency's grant on the demo case has expired
    "partner_revoked_grant": "PARTNER",  # its agency's grant on the demo case was revoked
    "family_member": "FAMILY",  # Maria Lopez, caregiver, with her login set on the demo case
    "network_member": "NETWORK",  # Rosa Delgado, safety network member, with her login set
    "integration": "STAFF",  # an OAuth client with cases:sync
}
CASES = ("demo", "other", "missing")  # the demo case; a case only its own worker is on; a random UUID
OPERATIONS = ("case_view", "read_statements", "read_safety_plans", "read_case", "write_statement", "access_log")

_READS = ("case_view", "read_statements", "read_safety_plans", "read_case")


def _row(reads: str, write: str, log: str) -> dict[str, str]:
    return {**dict.fromkeys(_READS, reads), "write_statement": write, "access_log": log}


NO_CASE = _row(NOT_FOUND, NOT_FOUND, FORBIDDEN)  # no relationship to the case, no audit:read
NO_CASE_AUDITED = _row(NOT_FOUND, NOT_FOUND, NOT_FOUND)  # audit:read, but only for a case one may read

# Derived by hand from the policy table; see the module docstring.
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("worker", "demo"): _row(ALLOW, ALLOW, FORBIDDEN),
    ("worker", "other"): NO_CASE,
    ("worker", "missing"): NO_CASE,
    ("worker_elsewhere", "demo"): NO_CASE,
    ("worker_elsewhere", "other"): _row(ALLOW, ALLOW, FORBIDDEN),
    ("worker_elsewhere", "missing"): NO_CASE,
    ("supervisor", "demo"): _row(ALLOW, ALLOW, ALLOW),
    ("supervisor", "other"): NO_CASE_AUDITED,
    ("supervisor", "missing"): NO_CASE_AUDITED,
    # An auditor reads no case's content, but the trail of any case id (an unknown one is an empty trail).
    ("auditor", "demo"): _row(NOT_FOUND, NOT_FOUND, ALLOW),
    ("auditor", "other"): _row(NOT_FOUND, NOT_FOUND, ALLOW),
    ("auditor", "missing"): _row(NOT_FOUND, NOT_FOUND, ALLOW),
    # A caller who may read the case knows it exists: a write it may not make is an honest 403.
    ("partner_live_grant", "demo"): _row(ALLOW, FORBIDDEN, FORBIDDEN),
    ("partner_live_grant", "other"): NO_CASE,
    ("partner_live_grant", "missing"): NO_CASE,
    **{
        (who, case): NO_CASE
        for who in ("partner_no_grant", "partner_expired_grant", "partner_revoked_grant")
        for case in CASES
    },
    ("family_member", "demo"): _row(ALLOW, FORBIDDEN, FORBIDDEN),
    ("family_member", "other"): NO_CASE,
    ("family_member", "missing"): NO_CASE,
    ("network_member", "demo"): _row(ALLOW, FORBIDDEN, FORBIDDEN),
    ("network_member", "other"): NO_CASE,
    ("network_member", "missing"): NO_CASE,
    # cases:sync reaches every case that exists, read only.
    ("integration", "demo"): _row(ALLOW, FORBIDDEN, FORBIDDEN),
    ("integration", "other"): _row(ALLOW, FORBIDDEN, FORBIDDEN),
    ("integration", "missing"): NO_CASE,
}

CELLS = [(who, case, op) for who in PRINCIPALS for case in CASES for op in OPERATIONS]

CASE_VIEW = "query($id: ID!, $a: Audience!) { caseView(caseId: $id, audience: $a) { case { recordId } } }"
ACCESS_LOG = "query($id: ID!) { caseAccessLog(caseId: $id) { edges { node { seq actorSubject } } } }"
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
OTHER_CASE_BODY: dict[str, Any] = {
    "case_type": "in_home",
    "status": "open",
    "county": "Faulkner",
    "opened_on": "2026-11-02",
    "members": [
        {
            "role": "child",
            "relationship_to_children": "son",
            "person": {
                "external_id": "MATRIX-P-1",
                "first_name": "Eli",
                "last_name": "Marsh",
                "date_of_birth": "2018-04-11",
            },
        }
    ],
    "assignments": [{"staff_subject": "fsw.lindqvist", "role": "worker"}],
}


@dataclass
class MatrixWorld:
    system: EmbeddedSystem
    cases: dict[str, uuid.UUID]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    kind: str
    status: int
    body: Any  # with the case id, request id and instance path taken out


async def _build_world(system: EmbeddedSystem) -> MatrixWorld:
    seed = DemoSeed(system.keys_dir)
    await seed_network(system.client, seed)
    demo = uuid.UUID(seed.case_id)
    other = await system.client.put(
        "/api/network/v1/cases/by-external/CHRIS/MATRIX-2026-0002",
        json=OTHER_CASE_BODY,
        headers=system.bearer("sacwis.sync"),
    )
    assert other.status_code in (200, 201), other.text
    world = MatrixWorld(system, {"demo": demo, "other": uuid.UUID(other.json()["id"]), "missing": uuid.uuid4()})
    worker = staff_bearer(system, "fsw.rivera", ["worker"])
    world.headers.update(
        {
            "worker": worker,
            "worker_elsewhere": staff_bearer(system, "fsw.lindqvist", ["worker"]),
            "supervisor": staff_bearer(system, "sup.okafor", ["supervisor"]),
            "auditor": staff_bearer(system, "audit.byrne", ["auditor"]),
            "partner_live_grant": await partner_bearer(system, "Harbor House Counseling"),
            "partner_no_grant": await partner_bearer(system, "Ozark Family Counseling"),
            "partner_expired_grant": await partner_bearer(system, "Delta Parenting Partners"),
            "partner_revoked_grant": await partner_bearer(system, "River Valley Advocates"),
            "integration": await integration_bearer(system, "matrix-sync"),
        }
    )
    await grant_partner(system, demo, "Harbor House Counseling", by=worker)
    revoked = await grant_partner(system, demo, "River Valley Advocates", by=worker)
    await revoke_grant(system, demo, revoked["id"], by=worker)
    # An expired grant: made while the network service's clock stood two months back, expired a month ago.
    network = system.services["network"]
    network.state.clock = FixedClock(datetime.now(UTC) - timedelta(days=60))
    try:
        await grant_partner(
            system, demo, "Delta Parenting Partners", by=worker, expires_at=datetime.now(UTC) - timedelta(days=30)
        )
    finally:
        network.state.clock = SystemClock()
    # Maria (caregiver) and Rosa (safety network) bind the logins they will sign in with: the worker invites,
    # each redeems her invitation signed in through the member portal.
    await trust_member_portal(system)
    world.headers["family_member"] = member_bearer(system, "family:maria.lopez", ActorType.family)
    world.headers["network_member"] = member_bearer(system, "network:rosa.delgado", ActorType.network)
    case = (await system.client.get(f"/api/network/v1/cases/{demo}", headers=worker)).json()
    people = {m["person"]["first_name"]: m["person"]["id"] for m in case["members"]}
    for name, member in (("Maria", "family_member"), ("Rosa", "network_member")):
        invited = await system.client.post(
            f"/api/network/v1/cases/{demo}/people/{people[name]}/login-invitations", json={}, headers=worker
        )
        assert invited.status_code == 201, invited.text
        redeemed = await system.client.post(
            "/api/network/v1/login-invitations/redeem",
            json={"code": invited.json()["code"]},
            headers=world.headers[member],
        )
        assert redeemed.status_code == 200, redeemed.text
    system.forget_access_decisions()
    return world


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[MatrixWorld]:
    """One embedded system per backend for the whole matrix: the cells only read, or add statements."""
    base = tmp_path_factory.mktemp(f"matrix-{request.param}")
    with pytest.MonkeyPatch.context() as env:  # settings from the test alone (as the autouse fixture does)
        for name in [n for n in os.environ if n.startswith("SOP_") and not n.startswith("SOP_TEST_")]:
            env.delenv(name)
        admin_url = "" if request.param == "sqlite" else request.getfixturevalue("postgres_admin_url")
        if request.param == "sqlite":
            urls, databases = sqlite_urls(base), {}
        else:
            databases = {
                name: await real_services.create_test_database(admin_url, prefix=f"mx_{name}") for name in COMPONENTS
            }
            urls = {name: db.url for name, db in databases.items()}
        try:
            async with embedded_system(base / "data", urls) as system:
                yield await _build_world(system)
        finally:
            for db in databases.values():
                await real_services.drop_database(admin_url, db.name)


def _scrub(value: Any, case_id: uuid.UUID) -> Any:
    """The response without what differs between any two requests: request id, instance path, case id."""
    if isinstance(value, dict):
        return {k: _scrub(v, case_id) for k, v in value.items() if k not in ("request_id", "requestId", "instance")}
    if isinstance(value, list):
        return [_scrub(v, case_id) for v in value]
    if isinstance(value, str):
        return re.sub(re.escape(str(case_id)), "<case>", value)
    return value


async def _ask(world: MatrixWorld, who: str, case_id: uuid.UUID, operation: str) -> Outcome:
    client, headers = world.system.client, world.headers[who]
    if operation in ("case_view", "access_log"):
        query, variables = (
            (CASE_VIEW, {"id": str(case_id), "a": PRINCIPALS[who]})
            if operation == "case_view"
            else (ACCESS_LOG, {"id": str(case_id)})
        )
        response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if body.get("errors"):
            assert body["data"] is None, body
            code = body["errors"][0]["extensions"]["code"]
            kind = {"NOT_FOUND": NOT_FOUND, "FORBIDDEN": FORBIDDEN}.get(code, f"unexpected {code}")
        elif operation == "case_view":
            kind = ALLOW if body["data"]["caseView"]["case"]["recordId"] == str(case_id) else "wrong case"
        else:
            kind = ALLOW if isinstance(body["data"]["caseAccessLog"]["edges"], list) else "no log"
        return Outcome(kind, response.status_code, _scrub(body, case_id))
    path = {
        "read_statements": f"/api/assessment/v1/cases/{case_id}/statements",
        "read_safety_plans": f"/api/plans/v1/cases/{case_id}/safety-plans",
        "read_case": f"/api/network/v1/cases/{case_id}",
        "write_statement": f"/api/assessment/v1/cases/{case_id}/statements",
    }[operation]
    if operation == "write_statement":
        response = await client.post(path, json=HARM, headers=headers)
    else:
        response = await client.get(path, headers=headers)
    kind = {200: ALLOW, 201: ALLOW, 403: FORBIDDEN, 404: NOT_FOUND}.get(
        response.status_code, f"status {response.status_code}"
    )
    if kind in (FORBIDDEN, NOT_FOUND):
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return Outcome(kind, response.status_code, _scrub(_json(response), case_id))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def test_the_expected_table_covers_every_cell() -> None:
    assert set(EXPECTED) == {(who, case) for who in PRINCIPALS for case in CASES}
    assert all(set(row) == set(OPERATIONS) for row in EXPECTED.values())


@pytest.mark.parametrize(("who", "case", "operation"), CELLS, ids=["-".join(cell) for cell in CELLS])
async def test_access_matrix_cell(world: MatrixWorld, who: str, case: str, operation: str) -> None:
    expected = EXPECTED[(who, case)][operation]
    outcome = await _ask(world, who, world.cases[case], operation)
    assert outcome.kind == expected, (
        f"{who} {operation} on the {case} case: expected {expected}, got "
        f"{outcome.kind} ({outcome.status} {outcome.body})"
    )
    may_read_case = EXPECTED[(who, case)]["case_view"] == ALLOW
    if case != "missing" and expected != ALLOW and not may_read_case:
        # Indistinguishable from asking about a case that does not exist — both asked with a cold access
        # cache, so that even the development-only count of upstream calls must match.
        world.system.forget_access_decisions()
        denied = await _ask(world, who, world.cases[case], operation)
        world.system.forget_access_decisions()
        missing = await _ask(world, who, world.cases["missing"], operation)
        assert (denied.status, denied.body) == (missing.status, missing.body)
