"""Partner grants and family/network members as principals: expiry on the service's clock, revocation at
once, deny by default — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sop_shared.clock import FixedClock
from sop_shared.db import utcnow
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0100"


@pytest.fixture
async def case_id(network: RunningService, sacwis: dict[str, str], maria_and_the_children: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID((await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"])


def grant_body(**changes: Any) -> dict[str, Any]:
    return {
        "agency": "HOPE-COUNSELING",
        "scopes": ["case:read"],
        "audience": "partner",
        "purpose": "family counseling referral",
        "consent_reference": "CONSENT-2026-77",
        "expires_at": (utcnow() + timedelta(days=30)).isoformat(),
        **changes,
    }


def partner(tokens: InternalTokens, case_id: uuid.UUID, agency: str = "HOPE-COUNSELING") -> dict[str, str]:
    return tokens.headers(
        "network",
        subject="counselor.ames",
        actor_type=ActorType.partner,
        roles=(),
        scopes=("case:read",),
        agency=agency,
        case_id=case_id,
    )


async def _access(network: RunningService, case_id: uuid.UUID, headers: dict[str, str]) -> dict[str, Any]:
    return (await network.client.get(f"/v1/cases/{case_id}/access", headers=headers)).json()


async def test_a_partner_with_a_grant_reads_the_case_for_its_audience(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    worker = tokens.headers("network", case_id=case_id)
    created = await network.client.post(
        f"/v1/cases/{case_id}/grants", json=grant_body(audience="court"), headers=worker
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active" and created.json()["granted_by"] == "fsw.rivera"
    access = await _access(network, case_id, partner(tokens, case_id))
    assert access["allowed"] and access["relationships"] == ["partner_grant"]
    assert access["scopes"] == ["case:read"] and access["audiences"] == ["court"]
    assert not (await _access(network, case_id, partner(tokens, case_id, "OTHER-AGENCY")))["allowed"]


@pytest.mark.sqlite_smoke("timestamps compared in SQL (SQLite keeps them as text)")
async def test_an_expired_grant_denies_at_once_on_the_services_clock(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    expires = utcnow() + timedelta(hours=1)
    await network.client.post(
        f"/v1/cases/{case_id}/grants",
        json=grant_body(expires_at=expires.isoformat()),
        headers=tokens.headers("network", case_id=case_id),
    )
    network.app.state.clock = FixedClock(expires - timedelta(seconds=1))
    assert (await _access(network, case_id, partner(tokens, case_id)))["allowed"]
    network.app.state.clock = FixedClock(expires)
    assert not (await _access(network, case_id, partner(tokens, case_id)))["allowed"]
    listed = (
        await network.client.get(f"/v1/cases/{case_id}/grants", headers=tokens.headers("network", case_id=case_id))
    ).json()
    assert [g["status"] for g in listed] == ["expired"]
    read = await network.client.get(f"/v1/cases/{case_id}", headers=partner(tokens, case_id))
    assert read.status_code == 404


async def test_a_revoked_grant_denies_the_very_next_request_and_the_revocation_is_an_event(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
    sacwis: dict[str, str],
) -> None:
    worker = tokens.headers("network", case_id=case_id)
    grant = (await network.client.post(f"/v1/cases/{case_id}/grants", json=grant_body(), headers=worker)).json()
    assert (await network.client.get(f"/v1/cases/{case_id}/view", headers=partner(tokens, case_id))).json()["case"]
    revoked = await network.client.post(
        f"/v1/cases/{case_id}/grants/{grant['id']}/revoke", json={"reason": "consent withdrawn"}, headers=worker
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    view = (await network.client.get(f"/v1/cases/{case_id}/view", headers=partner(tokens, case_id))).json()
    assert view["case"] is None and not view["access"]["allowed"]
    again = await network.client.post(
        f"/v1/cases/{case_id}/grants/{grant['id']}/revoke", json={"reason": "twice"}, headers=worker
    )
    assert again.status_code == 409
    feed = (await network.client.get("/v1/changes", headers=sacwis)).json()["items"]
    assert "sop.network.grant.revoked" in [c["subject"] for c in feed]


async def test_a_bad_grant_is_422_naming_each_field_and_nothing_is_written(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
    row_counts: Any,
) -> None:
    before = await row_counts(network.database_url)
    body = grant_body(
        scopes=["case:write", "wizardry"], audience="staff", expires_at=(utcnow() - timedelta(days=1)).isoformat()
    )
    response = await network.client.post(
        f"/v1/cases/{case_id}/grants", json=body, headers=tokens.headers("network", case_id=case_id)
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {"scopes.0", "scopes.1", "audience", "expires_at"}
    missing = await network.client.post(
        f"/v1/cases/{case_id}/grants", json={"agency": "X"}, headers=tokens.headers("network", case_id=case_id)
    )
    assert {"scopes", "purpose", "expires_at"} <= {e["field"] for e in missing.json()["errors"]}
    after = await row_counts(network.database_url)
    assert after["grants"] == 0 and after["events"] == before["events"]


async def test_only_assigned_staff_manage_grants(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    stranger = tokens.headers("network", subject="fsw.lindqvist", case_id=case_id)
    assert (
        await network.client.post(f"/v1/cases/{case_id}/grants", json=grant_body(), headers=stranger)
    ).status_code == 404
    assert (
        await network.client.get(f"/v1/cases/{case_id}/grants", headers=partner(tokens, case_id))
    ).status_code == 404


async def test_a_caregiver_with_a_login_reads_her_own_case_and_only_hers(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
    bind_login: Any,
) -> None:
    worker = tokens.headers("network", case_id=case_id)
    case = (await network.client.get(f"/v1/cases/{case_id}", headers=worker)).json()
    maria = next(m["person"] for m in case["members"] if m["person"]["first_name"] == "Maria")
    sofia = next(m["person"] for m in case["members"] if m["person"]["first_name"] == "Sofia")
    family = tokens.headers(
        "network",
        subject="family:maria.lopez",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        agency=None,
        case_id=case_id,
    )
    assert not (await _access(network, case_id, family))["allowed"]  # deny by default
    response = await bind_login(case_id, maria["id"], "family:maria.lopez")
    assert response.status_code == 200 and response.json()["person_id"] == maria["id"]
    shown = (await network.client.get(f"/v1/cases/{case_id}", headers=worker)).json()
    assert (
        next(m["person"] for m in shown["members"] if m["person"]["id"] == maria["id"])["principal_subject"]
        == "family:maria.lopez"
    )
    access = await _access(network, case_id, family)
    assert access["allowed"] and access["relationships"] == ["family_member"] and access["audiences"] == ["family"]
    as_network = tokens.headers(
        "network",
        subject="family:maria.lopez",
        actor_type=ActorType.network,
        roles=(),
        scopes=("case:read",),
        agency=None,
        case_id=case_id,
    )
    assert not (await _access(network, case_id, as_network))["allowed"]
    # a child is not given the family relationship by a login alone
    assert (await bind_login(case_id, sofia["id"], "family:sofia")).status_code == 200
    child = tokens.headers(
        "network",
        subject="family:sofia",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        agency=None,
        case_id=case_id,
    )
    assert not (await _access(network, case_id, child))["allowed"]
    # a login already bound to someone answers like an unknown code: nothing says it exists elsewhere
    mateo = next(m["person"] for m in case["members"] if m["person"]["first_name"] == "Mateo")
    taken = await bind_login(case_id, mateo["id"], "family:maria.lopez")
    unknown = await network.client.post("/v1/login-invitations/redeem", json={"code": "x" * 32}, headers=family)
    assert taken.status_code == unknown.status_code == 404
    assert {k: v for k, v in taken.json().items() if k != "request_id"} == {
        k: v for k, v in unknown.json().items() if k != "request_id"
    }


async def test_a_dv_confidential_address_is_shown_to_staff_and_never_to_family_or_partners(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    tokens: InternalTokens,
    bind_login: Any,
) -> None:
    maria_and_the_children["members"][0]["person"]["contact_methods"] = [
        {"kind": "address", "value": "12 Hidden Lane", "dv_confidential": True},
        {"kind": "phone", "value": "501-555-0142"},
    ]
    case_id = uuid.UUID((await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"])
    worker = tokens.headers("network", case_id=case_id)
    await network.client.post(f"/v1/cases/{case_id}/grants", json=grant_body(), headers=worker)

    def maria(body: dict[str, Any]) -> dict[str, Any]:
        return next(m["person"] for m in body["members"] if m["person"]["first_name"] == "Maria")

    staff_view = maria((await network.client.get(f"/v1/cases/{case_id}", headers=worker)).json())
    partner_view = maria((await network.client.get(f"/v1/cases/{case_id}", headers=partner(tokens, case_id))).json())
    assert {c["value"] for c in staff_view["contact_methods"]} == {"12 Hidden Lane", "501-555-0142"}
    assert {c["value"] for c in partner_view["contact_methods"]} == {"501-555-0142"}
    assert (await bind_login(case_id, staff_view["id"], "family:maria.lopez")).status_code == 200
    assert (
        maria((await network.client.get(f"/v1/cases/{case_id}", headers=worker)).json())["principal_subject"]
        == "family:maria.lopez"
    )
    partner_view = maria((await network.client.get(f"/v1/cases/{case_id}", headers=partner(tokens, case_id))).json())
    assert partner_view["principal_subject"] is None  # a login identity is for staff to see


def test_grant_expiry_and_revocation_are_judged_by_the_rule() -> None:
    from sop_network.grants.rules import grant_status

    now = datetime(2026, 10, 2, 12, tzinfo=UTC)
    assert grant_status(None, now + timedelta(seconds=1), now) == "active"
    assert grant_status(None, now, now) == "expired"
    assert grant_status(now - timedelta(days=1), now + timedelta(days=1), now) == "revoked"


async def test_a_caregiver_who_leaves_the_case_in_sacwis_loses_access_at_once(
    network: RunningService,
    case_id: uuid.UUID,
    tokens: InternalTokens,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    bind_login: Any,
) -> None:
    worker = tokens.headers("network", case_id=case_id)
    case = (await network.client.get(f"/v1/cases/{case_id}", headers=worker)).json()
    maria = next(m["person"] for m in case["members"] if m["person"]["first_name"] == "Maria")
    assert (await bind_login(case_id, maria["id"], "family:maria.lopez")).status_code == 200
    family = tokens.headers(
        "network",
        subject="family:maria.lopez",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        agency=None,
        case_id=case_id,
    )
    assert (await _access(network, case_id, family))["allowed"]
    without_maria = {
        **maria_and_the_children,
        "members": [m for m in maria_and_the_children["members"] if m["person"].get("first_name") != "Maria"],
    }
    assert len(without_maria["members"]) < len(maria_and_the_children["members"])
    assert (await network.client.put(UPSERT, json=without_maria, headers=sacwis)).status_code == 200
    assert not (await _access(network, case_id, family))["allowed"]  # an ended membership grants nothing
