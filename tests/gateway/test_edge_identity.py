"""Authentication at the edge: only bearer JWTs of the configured issuer, for this platform, unexpired and
signed by a key in its JWKS, get in; everything else is a 401 problem+json before any service is asked."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import jwt
import pytest

from sop_shared.dev_identity import DEV_AUDIENCE, DEV_ISSUER, mint_dev_token
from sop_shared.keys import DEV_ISSUER_KEY_FILE, ensure_keys, generate_signing_key, load_signing_key

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import EmbeddedSystem

ME = "{ me { subject name actorType roles scopes agency } }"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": "fsw.rivera",
        "iat": now,
        "nbf": now - 1,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        "act": "staff",
        "roles": ["worker"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed_by_dev_issuer(system: EmbeddedSystem, **overrides: Any) -> str:
    key = load_signing_key(system.keys_dir / DEV_ISSUER_KEY_FILE)
    return jwt.encode(_claims(**overrides), key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


async def _me(system: EmbeddedSystem, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await system.graphql(ME, user=None, headers=headers)


def _assert_401(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 401 and body["type"].endswith("/unauthenticated")
    assert "data" not in body


async def test_me_is_who_the_token_says(sqlite_system: EmbeddedSystem) -> None:
    response = await _me(sqlite_system, sqlite_system.token("fsw.rivera"))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"] == {
        "subject": "fsw.rivera",
        "name": "Dana Rivera",
        "actorType": "STAFF",
        "roles": ["worker"],
        "scopes": ["case:read", "case:write"],
        "agency": "DCFS",
    }
    supervisor = (await _me(sqlite_system, sqlite_system.token("sup.okafor"))).json()["data"]["me"]
    assert supervisor["roles"] == ["supervisor"]
    assert supervisor["scopes"] == ["approvals:decide", "audit:read", "case:read", "case:write"]
    sacwis = (await _me(sqlite_system, sqlite_system.token("sacwis.sync"))).json()["data"]["me"]
    assert (sacwis["subject"], sacwis["actorType"], sacwis["roles"]) == ("sacwis.sync", "INTEGRATION", [])
    assert sacwis["scopes"] == ["case:read", "cases:sync"]


async def test_a_hand_made_token_with_the_right_issuer_and_audience_is_accepted(
    sqlite_system: EmbeddedSystem,
) -> None:
    # The control for the refusals below: the crafting itself is sound.
    response = await _me(sqlite_system, _signed_by_dev_issuer(sqlite_system))
    assert response.status_code == 200 and response.json()["data"]["me"]["subject"] == "fsw.rivera"


async def test_no_authorization_header_is_401(sqlite_system: EmbeddedSystem) -> None:
    _assert_401(await _me(sqlite_system, None))
    basic = {"Authorization": f"Basic {sqlite_system.token('fsw.rivera')}"}
    _assert_401(await sqlite_system.client.post("/graphql", json={"query": ME}, headers=basic))
    _assert_401(await _me(sqlite_system, "not-a-jwt"))


async def test_a_token_signed_by_another_key_is_401(sqlite_system: EmbeddedSystem, tmp_path: Path) -> None:
    other_keys = tmp_path / "elsewhere" / "keys"
    ensure_keys(other_keys)
    _assert_401(await _me(sqlite_system, mint_dev_token(other_keys, "fsw.rivera")))  # unknown key id
    # the same key id in the header, but another key's signature
    kid = load_signing_key(sqlite_system.keys_dir / DEV_ISSUER_KEY_FILE).kid
    forged = jwt.encode(_claims(), generate_signing_key().private_key, algorithm="EdDSA", headers={"kid": kid})
    _assert_401(await _me(sqlite_system, forged))
    # and no key id at all
    unsigned_kid = jwt.encode(_claims(), generate_signing_key().private_key, algorithm="EdDSA")
    _assert_401(await _me(sqlite_system, unsigned_kid))


async def test_an_expired_token_is_401(sqlite_system: EmbeddedSystem) -> None:
    _assert_401(await _me(sqlite_system, sqlite_system.token("fsw.rivera", lifetime_seconds=-100)))


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "some-other-platform"},
        {"iss": "https://evil.example"},
        {"aud": None},
        {"iss": None},
        {"exp": None},
        {"sub": None},
        {"act": "partner"},
        {"act": "family"},
        {"act": "superuser"},
    ],
    ids=[
        "wrong-audience",
        "wrong-issuer",
        "no-audience",
        "no-issuer",
        "no-expiry",
        "no-subject",
        "partner-actor",
        "family-actor",
        "unknown-actor",
    ],
)
async def test_a_dev_issuer_token_with_wrong_claims_is_401(
    sqlite_system: EmbeddedSystem, overrides: dict[str, Any]
) -> None:
    _assert_401(await _me(sqlite_system, _signed_by_dev_issuer(sqlite_system, **overrides)))


async def test_an_hs256_token_using_the_public_key_as_secret_is_401(sqlite_system: EmbeddedSystem) -> None:
    key = load_signing_key(sqlite_system.keys_dir / DEV_ISSUER_KEY_FILE)
    public_x = key.public_jwk()["x"].encode()  # public: anyone could compute this MAC
    token = jwt.encode(_claims(), public_x, algorithm="HS256", headers={"kid": key.kid})
    _assert_401(await _me(sqlite_system, token))


async def test_the_rest_facade_demands_the_same_identity(sqlite_system: EmbeddedSystem) -> None:
    path = f"/api/assessment/v1/cases/{uuid.uuid4()}/statements"
    _assert_401(await sqlite_system.client.get(path))
    expired = sqlite_system.token("fsw.rivera", lifetime_seconds=-100)
    _assert_401(await sqlite_system.client.get(path, headers={"Authorization": f"Bearer {expired}"}))
