"""Revoked access stops at once at this gateway: a grant revoked or an assignment ended through the gateway
drops that case's cached access decisions before the answer goes back; a change made elsewhere does the same
as soon as its event reaches the gateway's bus (embedded mode). Otherwise a decision lives 5 seconds."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from sop_gateway.access import AccessCache, CaseAccess, forget_after_write
from sop_gateway.demo.network import DEMO_CASE_BODY, seed_network
from sop_gateway.demo.seeding import DemoSeed
from sop_shared.auth import Principal
from sop_shared.events import Event
from sop_shared.policy import ActorType
from tests.gateway.principals import admin_bearer, grant_partner, revoke_grant, staff_bearer

if TYPE_CHECKING:
    from tests.gateway.conftest import EmbeddedSystem

CASE_VIEW = "query($id: ID!, $a: Audience!) { caseView(caseId: $id, audience: $a) { case { recordId } } }"
WORKER = Principal(subject="fsw.rivera", actor_type=ActorType.staff, roles=frozenset({"worker"}))
PARTNER = Principal(subject="api-token:x", actor_type=ActorType.partner, agency="Harbor House Counseling")


def allowed(case_id: uuid.UUID) -> CaseAccess:
    return CaseAccess(case_id, True, frozenset({"case:read"}), ("partner_grant",))


def test_forgetting_a_case_drops_every_callers_decision_on_it_and_no_other() -> None:
    cache = AccessCache()
    demo, other = uuid.uuid4(), uuid.uuid4()
    for principal in (WORKER, PARTNER):
        cache.put(principal, allowed(demo))
        cache.put(principal, allowed(other))
    cache.forget_case(demo)
    assert cache.get(WORKER, demo) is None and cache.get(PARTNER, demo) is None
    assert cache.get(WORKER, other) == allowed(other) and cache.get(PARTNER, other) == allowed(other)


def test_a_full_cache_forgets_the_least_recently_used_decision_and_keeps_the_newest() -> None:
    cache = AccessCache(max_entries=3)
    cases = [uuid.uuid4() for _ in range(5)]
    for case_id in cases[:3]:
        cache.put(WORKER, allowed(case_id))
    assert cache.get(WORKER, cases[0]) is not None  # just used: it stays
    cache.put(WORKER, allowed(cases[3]))
    cache.put(WORKER, allowed(cases[4]))
    assert len(cache) == 3
    assert [cache.get(WORKER, c) is not None for c in cases] == [True, False, False, True, True]


def test_a_decision_expires_after_its_seconds() -> None:
    now = [1000.0]
    cache = AccessCache(ttl_seconds=5, clock=lambda: now[0])
    demo = uuid.uuid4()
    cache.put(WORKER, allowed(demo))
    now[0] += 4.9
    assert cache.get(WORKER, demo) == allowed(demo)
    now[0] += 0.2
    assert cache.get(WORKER, demo) is None and len(cache) == 0


def test_only_a_successful_write_to_the_network_service_forgets_decisions() -> None:
    demo, other = uuid.uuid4(), uuid.uuid4()

    def after(**write: Any) -> tuple[bool, bool]:
        cache = AccessCache()
        cache.put(PARTNER, allowed(demo))
        cache.put(PARTNER, allowed(other))
        forget_after_write(
            cache, **{"service": "network", "method": "POST", "case_id": demo, "status_code": 200, **write}
        )
        return cache.get(PARTNER, demo) is None, cache.get(PARTNER, other) is None

    assert after() == (True, False)  # a grant revoked on the demo case
    assert after(case_id=None, method="PUT") == (True, True)  # a SACWIS upsert: which case is not in the path
    assert after(method="GET") == (False, False)
    assert after(status_code=409) == (False, False)
    assert after(service="assessment") == (False, False)


async def _partner(system: EmbeddedSystem, agency: str) -> tuple[dict[str, str], Principal]:
    issued = await system.client.post(
        "/v1/api-tokens",
        headers=admin_bearer(system),
        json={
            "agency": agency,
            "purpose": "parenting classes",
            "scopes": ["case:read"],
            "expires_at": "2027-06-30T00:00:00Z",
        },
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    return (
        {"Authorization": f"Bearer {body['token']}"},
        Principal(subject=f"api-token:{body['id']}", actor_type=ActorType.partner, agency=agency),
    )


async def _reads(system: EmbeddedSystem, case_id: uuid.UUID, headers: dict[str, str], audience: str) -> tuple[int, str]:
    # The assessment service trusts the gateway's case-scoped token: a stale allow here would show statements.
    rest = await system.client.get(f"/api/assessment/v1/cases/{case_id}/statements", headers=headers)
    view = (
        await system.client.post(
            "/graphql", headers=headers, json={"query": CASE_VIEW, "variables": {"id": str(case_id), "a": audience}}
        )
    ).json()
    return rest.status_code, view["errors"][0]["extensions"]["code"] if view.get("errors") else "ALLOWED"


async def _seeded(system: EmbeddedSystem) -> uuid.UUID:
    """The demo case, behind a cache whose decisions would live an hour: whatever stops access below, it is
    not a decision expiring (and a slow run cannot expire one early)."""
    system.gateway.state.access_cache = AccessCache(ttl_seconds=3600)
    seed = DemoSeed(system.keys_dir)
    await seed_network(system.client, seed)
    await system.events_delivered()  # seeding's own events reach the cache before the test's reads
    return uuid.UUID(seed.case_id)


async def test_a_grant_revoked_through_the_gateway_stops_the_partners_very_next_read(system: EmbeddedSystem) -> None:
    case_id = await _seeded(system)
    worker = staff_bearer(system, "fsw.rivera", ["worker"])
    headers, partner = await _partner(system, "Harbor House Counseling")
    grant = await grant_partner(system, case_id, "Harbor House Counseling", by=worker)
    assert await _reads(system, case_id, headers, "PARTNER") == (200, "ALLOWED")
    cache: AccessCache = system.gateway.state.access_cache
    assert cache.get(partner, case_id) is not None  # warm: the next read would not ask the network service

    await revoke_grant(system, case_id, grant["id"], by=worker)

    assert cache.get(partner, case_id) is None
    assert await _reads(system, case_id, headers, "PARTNER") == (404, "NOT_FOUND")


async def test_an_assignment_ended_through_the_gateway_stops_the_workers_very_next_read(
    system: EmbeddedSystem,
) -> None:
    case_id = await _seeded(system)
    worker = staff_bearer(system, "fsw.rivera", ["worker"])
    assert await _reads(system, case_id, worker, "STAFF") == (200, "ALLOWED")
    cache: AccessCache = system.gateway.state.access_cache
    assert cache.get(WORKER, case_id) is not None
    # SACWIS moves the case to another worker.
    moved = {
        **DEMO_CASE_BODY,
        "assignments": [
            {"staff_subject": "fsw.lindqvist", "role": "worker"},
            {"staff_subject": "sup.okafor", "role": "supervisor"},
        ],
    }
    response = await system.client.put(
        "/api/network/v1/cases/by-external/CHRIS/DEMO-2026-0001", json=moved, headers=system.bearer("sacwis.sync")
    )
    assert response.status_code == 200, response.text
    assert cache.get(WORKER, case_id) is None
    assert await _reads(system, case_id, worker, "STAFF") == (404, "NOT_FOUND")
    assert await _reads(system, case_id, staff_bearer(system, "fsw.lindqvist", ["worker"]), "STAFF") == (200, "ALLOWED")


@pytest.mark.sqlite_smoke("the SQLite relay's events reaching the gateway")
async def test_a_grant_revoked_elsewhere_stops_the_partner_once_its_event_reaches_the_gateway(
    system: EmbeddedSystem,
) -> None:
    case_id = await _seeded(system)
    worker = staff_bearer(system, "fsw.rivera", ["worker"])
    headers, partner = await _partner(system, "Harbor House Counseling")
    grant = await grant_partner(system, case_id, "Harbor House Counseling", by=worker)
    assert await _reads(system, case_id, headers, "PARTNER") == (200, "ALLOWED")
    revoked = asyncio.Event()

    async def seen(event: Event) -> None:  # subscribed after the gateway: runs once the gateway has forgotten
        if event.data.get("grant_id") == grant["id"]:
            revoked.set()

    await system.gateway.state.bus.subscribe("sop.network.grant.revoked", "test-revocation-seen", seen)
    # Straight to the network service (as another gateway replica would), not through this gateway's façade.
    direct = await system.gateway.state.services.request(
        "network",
        "POST",
        f"/v1/cases/{case_id}/grants/{grant['id']}/revoke",
        WORKER.scoped_to(case_id, {"case:read", "case:write"}),
        json={"reason": "referral closed"},
    )
    assert direct.status_code == 200, direct.text
    await system.services["network"].state.relay.drain()
    await asyncio.wait_for(revoked.wait(), timeout=30)  # a safety net, not a timing assertion

    assert system.gateway.state.access_cache.get(partner, case_id) is None
    assert await _reads(system, case_id, headers, "PARTNER") == (404, "NOT_FOUND")
