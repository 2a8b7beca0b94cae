"""Partner API tokens: an administrator issues one to a partner agency with scopes, a purpose and an expiry;
the secret is shown once and only its hash is stored; it authenticates as a `partner` of that agency until
it expires or is revoked; the list shows when each was last used, never a secret."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from sqlalchemy import func, select, update

from sop_gateway.models import ApiToken
from sop_shared.dev_identity import DEV_AUDIENCE, DEV_ISSUER
from sop_shared.keys import DEV_ISSUER_KEY_FILE, load_signing_key

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ME = "{ me { subject name actorType roles scopes agency } }"


def staff_bearer(system: EmbeddedSystem, subject: str, roles: list[str]) -> dict[str, str]:
    """A staff token from the development issuer for someone who is not a demo user (e.g. an administrator)."""
    key = load_signing_key(system.keys_dir / DEV_ISSUER_KEY_FILE)
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": subject,
        "iat": now,
        "nbf": now - 1,
        "exp": now + 600,
        "act": "staff",
        "roles": roles,
        "name": subject,
        "agency": "DCFS",
    }
    token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    return {"Authorization": f"Bearer {token}"}


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def token_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "agency": "Ozark Family Counseling",
        "purpose": "Counseling referrals for families on a safety plan",
        "scopes": ["case:read"],
        "expires_at": in_days(90),
    }
    body.update(overrides)
    return body


async def issue(system: EmbeddedSystem, **overrides: Any) -> dict[str, Any]:
    response = await system.client.post(
        "/v1/api-tokens", json=token_body(**overrides), headers=staff_bearer(system, "admin.hughes", ["admin"])
    )
    assert response.status_code == 201, response.text
    return response.json()


async def token_rows(system: EmbeddedSystem) -> list[ApiToken]:
    async with system.gateway.state.database.session() as session:
        return list((await session.execute(select(ApiToken))).scalars())


async def count_tokens(system: EmbeddedSystem) -> int:
    async with system.gateway.state.database.session() as session:
        return (await session.execute(select(func.count()).select_from(ApiToken))).scalar_one()


async def me(system: EmbeddedSystem, secret: str) -> Any:
    return await system.client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {secret}"})


async def test_an_administrator_issues_a_partner_token_whose_secret_is_shown_once_and_stored_only_as_a_hash(
    system: EmbeddedSystem,
) -> None:
    issued = await issue(system)
    secret = issued["token"]
    assert secret.startswith("sopp_") and len(secret) >= 45
    assert issued["display_prefix"] == secret[:13] and issued["agency"] == "Ozark Family Counseling"
    assert issued["scopes"] == ["case:read"] and issued["created_by"] == "admin.hughes"
    assert issued["last_used_at"] is None and issued["revoked_at"] is None
    [row] = await token_rows(system)
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row.model_dump())
    listed = await system.client.get("/v1/api-tokens", headers=staff_bearer(system, "admin.hughes", ["admin"]))
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert item["id"] == issued["id"] and "token" not in item and secret not in listed.text


@pytest.mark.sqlite_smoke
async def test_a_partner_token_authenticates_as_its_agency_with_partner_scopes_and_records_its_last_use(
    system: EmbeddedSystem,
) -> None:
    issued = await issue(system)
    response = await me(system, issued["token"])
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"] == {
        "subject": f"api-token:{issued['id']}",
        "name": "Counseling referrals for families on a safety plan",
        "actorType": "PARTNER",
        "roles": [],
        "scopes": ["case:read"],
        "agency": "Ozark Family Counseling",
    }
    [row] = await token_rows(system)
    assert row.last_used_at is not None and (datetime.now(UTC) - row.last_used_at) < timedelta(minutes=1)
    listed = (
        await system.client.get(
            "/v1/api-tokens",
            params={"agency": "Ozark Family Counseling"},
            headers=staff_bearer(system, "admin.hughes", ["admin"]),
        )
    ).json()
    assert listed["items"][0]["last_used_at"] is not None
    other_agency = (
        await system.client.get(
            "/v1/api-tokens", params={"agency": "Someone Else"}, headers=staff_bearer(system, "admin.hughes", ["admin"])
        )
    ).json()
    assert other_agency["items"] == []


async def test_a_revoked_an_expired_or_an_unknown_partner_token_is_401(system: EmbeddedSystem) -> None:
    revoked, expired, live = await issue(system), await issue(system), await issue(system)
    admin = staff_bearer(system, "admin.hughes", ["admin"])
    response = await system.client.delete(f"/v1/api-tokens/{revoked['id']}", headers=admin)
    assert response.status_code == 200 and response.json()["revoked_by"] == "admin.hughes"
    first_revocation = response.json()["revoked_at"]
    again = await system.client.delete(f"/v1/api-tokens/{revoked['id']}", headers=admin)
    assert again.json()["revoked_at"] == first_revocation  # revoking twice keeps the first revocation
    async with system.gateway.state.database.session() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == uuid.UUID(expired["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    for secret in (revoked["token"], expired["token"], "sopp_" + "x" * 43, live["token"][:-1]):
        response = await me(system, secret)
        assert response.status_code == 401, response.text
        assert response.json()["type"].endswith("/unauthenticated")
    assert (await me(system, live["token"])).status_code == 200  # the control
    missing = await system.client.delete(f"/v1/api-tokens/{uuid.uuid4()}", headers=admin)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("subject", "roles"), [("fsw.rivera", ["worker"]), ("sup.okafor", ["supervisor"]), ("audit.byrne", ["auditor"])]
)
async def test_only_administrators_issue_list_or_revoke_tokens(
    system: EmbeddedSystem, subject: str, roles: list[str]
) -> None:
    existing = await issue(system)
    headers = staff_bearer(system, subject, roles)
    assert (await system.client.post("/v1/api-tokens", json=token_body(), headers=headers)).status_code == 403
    assert (await system.client.get("/v1/api-tokens", headers=headers)).status_code == 403
    assert (await system.client.delete(f"/v1/api-tokens/{existing['id']}", headers=headers)).status_code == 403
    partner = {"Authorization": f"Bearer {existing['token']}"}
    assert (await system.client.post("/v1/api-tokens", json=token_body(), headers=partner)).status_code == 403
    assert (await system.client.post("/v1/api-tokens", json=token_body())).status_code == 401
    assert await count_tokens(system) == 1
    assert all(row.revoked_at is None for row in await token_rows(system))


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"scopes": ["case:write"]}, ["scopes"]),
        ({"scopes": []}, ["scopes"]),
        ({"scopes": ["audit:read"], "expires_at": in_days(-1)}, ["scopes", "expires_at"]),
        ({"expires_at": in_days(400)}, ["expires_at"]),
        ({"expires_at": "2027-01-01T00:00:00"}, ["expires_at"]),
        ({"agency": "", "purpose": ""}, ["agency", "purpose"]),
        ({"surprise": True}, ["surprise"]),
    ],
    ids=[
        "write-scope",
        "no-scopes",
        "staff-scope-and-past",
        "beyond-a-year",
        "no-time-zone",
        "blank-names",
        "unknown-field",
    ],
)
async def test_a_bad_token_request_is_422_naming_each_field_and_stores_nothing(
    system: EmbeddedSystem,
    overrides: dict[str, Any],
    fields: list[str],
) -> None:
    response = await system.client.post(
        "/v1/api-tokens", json=token_body(**overrides), headers=staff_bearer(system, "admin.hughes", ["admin"])
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert sorted({e["field"] for e in response.json()["errors"]}) == sorted(fields)
    assert await count_tokens(system) == 0


async def test_a_partner_cannot_ask_for_the_staff_view_and_sees_no_case_without_a_grant(
    system: EmbeddedSystem,
) -> None:
    issued = await issue(system)
    headers = {"Authorization": f"Bearer {issued['token']}"}
    query = "query($id: ID!, $a: Audience!) { caseView(caseId: $id, audience: $a) { case { recordId } } }"
    for audience, code in (("STAFF", "FORBIDDEN"), ("PARTNER", "NOT_FOUND")):
        body = (
            await system.client.post(
                "/graphql",
                headers=headers,
                json={"query": query, "variables": {"id": str(uuid.uuid4()), "a": audience}},
            )
        ).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code, body
    facade = await system.client.get(f"/api/network/v1/cases/{uuid.uuid4()}", headers=headers)
    assert facade.status_code == 404
