"""OAuth2 client credentials: an administrator registers an integration client (secret shown once, only its
hash kept); the client trades id and secret at `/oauth/token` for a short-lived token the gateway signs and
accepts; a revoked client's tokens stop at once; the gateway's issuer vouches for integration clients only."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from sqlalchemy import func, select

from sop_gateway.models import IntegrationClient
from sop_gateway.settings import OAUTH_KEY_FILE
from sop_shared.dev_identity import DEV_AUDIENCE, DEV_ISSUER
from sop_shared.keys import DEV_ISSUER_KEY_FILE, load_signing_key

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

ME = "{ me { subject actorType roles scopes } }"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def staff_bearer(system: EmbeddedSystem, subject: str, roles: list[str]) -> dict[str, str]:
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
    }
    token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    return {"Authorization": f"Bearer {token}"}


async def register(
    system: EmbeddedSystem, client_id: str = "chris-sync", scopes: tuple[str, ...] = ("cases:sync", "case:read")
) -> dict[str, Any]:
    response = await system.client.post(
        "/v1/integration-clients",
        json={"client_id": client_id, "name": "CHRIS nightly sync", "scopes": list(scopes)},
        headers=staff_bearer(system, "admin.hughes", ["admin"]),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def token_response(system: EmbeddedSystem, data: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    return await system.client.post("/oauth/token", data=data, headers=headers)


async def get_token(system: EmbeddedSystem, client: dict[str, Any], **extra: str) -> str:
    response = await token_response(
        system,
        {
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            **extra,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def me(system: EmbeddedSystem, token: str) -> Any:
    return await system.client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})


async def client_count(system: EmbeddedSystem) -> int:
    async with system.gateway.state.database.session() as session:
        return (await session.execute(select(func.count()).select_from(IntegrationClient))).scalar_one()


@pytest.mark.sqlite_smoke
async def test_a_registered_client_trades_its_secret_for_a_short_lived_gateway_token(system: EmbeddedSystem) -> None:
    client = await register(system)
    assert client["client_secret"].startswith("sopc_")
    async with system.gateway.state.database.session() as session:
        row = (await session.execute(select(IntegrationClient))).scalar_one()
    assert row.secret_hash == hashlib.sha256(client["client_secret"].encode()).hexdigest()
    response = await token_response(
        system,
        {"grant_type": "client_credentials", "client_id": "chris-sync", "client_secret": client["client_secret"]},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600 and body["scope"] == "case:read cases:sync"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["sub"], claims["sop_actor_type"]) == (
        "sop-gateway-oauth",
        "sop-gateway",
        "chris-sync",
        "integration",
    )
    assert claims["exp"] - claims["iat"] == 600
    who = (await me(system, body["access_token"])).json()["data"]["me"]
    assert who == {
        "subject": "chris-sync",
        "actorType": "INTEGRATION",
        "roles": [],
        "scopes": ["case:read", "cases:sync"],
    }
    listed = (
        await system.client.get("/v1/integration-clients", headers=staff_bearer(system, "admin.hughes", ["admin"]))
    ).json()
    assert listed["items"][0]["last_used_at"] is not None and "client_secret" not in listed["items"][0]


async def test_http_basic_client_authentication_and_a_narrower_scope_work(system: EmbeddedSystem) -> None:
    client = await register(system)
    basic = base64.b64encode(f"chris-sync:{client['client_secret']}".encode()).decode()
    response = await token_response(
        system, {"grant_type": "client_credentials", "scope": "case:read"}, {"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "case:read"
    assert (await me(system, response.json()["access_token"])).json()["data"]["me"]["scopes"] == ["case:read"]


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "chris-sync", "client_secret": "sopc_wrong"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "SECRET"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "chris-sync"}, 401, "invalid_client"),
        (
            {"grant_type": "password", "client_id": "chris-sync", "client_secret": "SECRET"},
            400,
            "unsupported_grant_type",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "chris-sync",
                "client_secret": "SECRET",
                "scope": "case:write",
            },
            400,
            "invalid_scope",
        ),
    ],
    ids=["wrong-secret", "unknown-client", "no-secret", "password-grant", "scope-beyond-the-client"],
)
async def test_bad_token_requests_get_oauth_errors_and_no_token(
    system: EmbeddedSystem, data: dict[str, str], status: int, error: str
) -> None:
    client = await register(system)
    data = {k: v.replace("SECRET", client["client_secret"]) for k, v in data.items()}
    response = await token_response(system, data)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and "access_token" not in response.json()


async def test_the_token_endpoint_takes_only_form_posts(sqlite_system: EmbeddedSystem) -> None:
    client = await register(sqlite_system)
    response = await sqlite_system.client.post(
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": "chris-sync", "client_secret": client["client_secret"]},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_a_revoked_client_gets_no_new_tokens_and_its_live_ones_stop(system: EmbeddedSystem) -> None:
    client = await register(system)
    token = await get_token(system, client)
    assert (await me(system, token)).status_code == 200
    revoked = await system.client.delete(
        f"/v1/integration-clients/{client['id']}", headers=staff_bearer(system, "admin.hughes", ["admin"])
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await me(system, token)).status_code == 401
    again = await token_response(
        system,
        {"grant_type": "client_credentials", "client_id": "chris-sync", "client_secret": client["client_secret"]},
    )
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"


def _signed_by_gateway(system: EmbeddedSystem, **overrides: Any) -> str:
    key = load_signing_key(system.keys_dir / OAUTH_KEY_FILE)
    now = int(time.time())
    claims = {
        "iss": "sop-gateway-oauth",
        "aud": "sop-gateway",
        "sub": "chris-sync",
        "client_id": "chris-sync",
        "act": "integration",
        "scope": "case:read",
        "iat": now,
        "nbf": now - 1,
        "exp": now + 600,
    }
    claims.update(overrides)
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None}, key.private_key, algorithm="EdDSA", headers={"kid": key.kid}
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"act": "staff", "roles": ["supervisor"]},
        {"act": "partner"},
        {"aud": "sop-platform"},
        {"exp": int(time.time()) - 120, "iat": int(time.time()) - 720},
        {"exp": int(time.time()) + 86_400},
        {"client_id": "someone-unregistered", "sub": "someone-unregistered"},
    ],
    ids=["as-staff", "as-partner", "wrong-audience", "expired", "too-long-lived", "unregistered-client"],
)
async def test_the_gateway_issuer_vouches_only_for_registered_integration_clients(
    sqlite_system: EmbeddedSystem,
    overrides: dict[str, Any],
) -> None:
    await register(sqlite_system)
    assert (await me(sqlite_system, _signed_by_gateway(sqlite_system))).status_code == 200  # the control
    response = await me(sqlite_system, _signed_by_gateway(sqlite_system, **overrides))
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"client_id": "CHRIS Sync!", "name": "x", "scopes": ["cases:sync"]}, ["client_id"]),
        ({"client_id": "chris-sync", "name": "x", "scopes": ["case:write", "approvals:decide"]}, ["scopes"]),
        ({"client_id": "c", "name": "", "scopes": []}, ["client_id", "name", "scopes"]),
    ],
    ids=["bad-client-id", "staff-scopes", "all-wrong"],
)
async def test_a_bad_client_registration_is_422_naming_each_field_and_stores_nothing(
    system: EmbeddedSystem,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    response = await system.client.post(
        "/v1/integration-clients", json=body, headers=staff_bearer(system, "admin.hughes", ["admin"])
    )
    assert response.status_code == 422, response.text
    assert sorted({e["field"] for e in response.json()["errors"]}) == sorted(fields)
    assert await client_count(system) == 0


async def test_a_client_id_is_registered_once_and_only_by_an_administrator(system: EmbeddedSystem) -> None:
    await register(system)
    duplicate = await system.client.post(
        "/v1/integration-clients",
        json={"client_id": "chris-sync", "name": "again", "scopes": ["case:read"]},
        headers=staff_bearer(system, "admin.hughes", ["admin"]),
    )
    assert duplicate.status_code == 409
    by_supervisor = await system.client.post(
        "/v1/integration-clients",
        json={"client_id": "other-sync", "name": "x", "scopes": ["case:read"]},
        headers=staff_bearer(system, "sup.okafor", ["supervisor"]),
    )
    assert by_supervisor.status_code == 403
    assert await client_count(system) == 1


async def test_an_integration_client_reads_a_case_through_the_gateway_and_is_audited_by_client(
    system: EmbeddedSystem,
) -> None:
    from sop_gateway.demo.network import seed_network
    from sop_gateway.demo.seeding import DemoSeed

    seed = DemoSeed(system.keys_dir)
    await seed_network(system.client, seed)
    token = await get_token(system, await register(system))
    response = await system.client.get(
        f"/api/network/v1/cases/{seed.case_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    rows = [r for r in await system.audit_rows() if r.case_id == uuid.UUID(seed.case_id)]
    assert rows[-1].actor_subject == "chris-sync" and rows[-1].client_id == "chris-sync"
    assert rows[-1].actor_type == "integration"


async def test_without_a_signing_key_in_production_client_credentials_are_off(start_system: Any) -> None:
    async with start_system(production=True) as system:
        response = await system.client.post("/oauth/token", data={"grant_type": "client_credentials"})
        assert response.status_code == 404
