"""Staff identity from more than one OIDC issuer: a second identity provider publishes its JWKS over HTTP (a
real server on a loopback port); the gateway follows its key rotation (an unknown key id makes it fetch the
JWKS again, at most once per interval, however many strangers knock), and holds every token to its
issuer's audience, expiry and clock skew."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
import uvicorn

from sop_shared.keys import SigningKey, generate_signing_key

IDP_ISSUER = "https://login.idp.example/dhs"
IDP_AUDIENCE = "sop-platform-prod"
ME = "{ me { subject actorType roles scopes agency } }"


@dataclass
class IdentityProvider:
    """A tiny OIDC provider: serves whatever keys it currently publishes, and counts the fetches."""

    keys: list[SigningKey] = field(default_factory=list)
    fetches: int = 0
    url: str = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.fetches += 1
        body = json.dumps({"keys": [k.public_jwk() for k in self.keys]}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    def token(self, key: SigningKey | None = None, **overrides: Any) -> str:
        key = key or self.keys[-1]
        now = int(time.time())
        claims = {
            "iss": IDP_ISSUER,
            "aud": IDP_AUDIENCE,
            "sub": "fsw.tran",
            "iat": now,
            "nbf": now - 1,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            "roles": ["worker"],
            "agency": "DCFS",
        }
        claims.update(overrides)
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None},
            key.private_key,
            algorithm="EdDSA",
            headers={"kid": key.kid},
        )


@pytest.fixture
async def idp() -> AsyncIterator[IdentityProvider]:
    provider = IdentityProvider([generate_signing_key()])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(provider, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    provider.url = f"http://127.0.0.1:{sock.getsockname()[1]}/.well-known/jwks.json"
    try:
        yield provider
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True)
class Ago:
    """A time relative to when the test runs (not to when the tests were collected)."""

    seconds: int


def _settings(idp: IdentityProvider, **extra: Any) -> dict[str, Any]:
    return {"oidc_extra_issuers": [{"issuer": IDP_ISSUER, "audience": IDP_AUDIENCE, "jwks_url": idp.url}], **extra}


async def _me(system: Any, token: str) -> Any:
    return await system.client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})


async def test_staff_of_a_second_issuer_get_in_beside_the_first(start_system: Any, idp: IdentityProvider) -> None:
    async with start_system(**_settings(idp)) as system:
        response = await _me(system, idp.token())
        assert response.status_code == 200, response.text
        assert response.json()["data"]["me"] == {
            "subject": "fsw.tran",
            "actorType": "STAFF",
            "roles": ["worker"],
            "scopes": ["case:read", "case:write"],
            "agency": "DCFS",
        }
        assert (await system.graphql("{ me { subject } }")).json()["data"]["me"]["subject"] == "fsw.rivera"
        assert idp.fetches == 1  # fetched once at start


async def test_a_rotated_key_is_fetched_once_and_the_retired_key_stops_working(
    start_system: Any,
    idp: IdentityProvider,
) -> None:
    async with start_system(**_settings(idp, jwks_min_refresh_seconds=0)) as system:
        old_key = idp.keys[0]
        assert (await _me(system, idp.token(old_key))).status_code == 200
        new_key = generate_signing_key()
        idp.keys = [new_key]  # the provider rotates: the old key is retired
        assert (await _me(system, idp.token(new_key))).status_code == 200
        assert idp.fetches == 2
        for _ in range(3):
            assert (await _me(system, idp.token(new_key))).status_code == 200
        assert idp.fetches == 2  # a known key id needs no fetch
        assert (await _me(system, idp.token(old_key))).status_code == 401


async def test_strangers_with_made_up_key_ids_cause_at_most_one_fetch_per_interval(
    start_system: Any,
    idp: IdentityProvider,
) -> None:
    async with start_system(**_settings(idp, jwks_min_refresh_seconds=60)) as system:
        issuer = system.gateway.state.authenticator.issuer(IDP_ISSUER)
        issuer._fetched_at -= 61  # the last fetch was over a minute ago
        strangers = [idp.token(generate_signing_key()) for _ in range(20)]
        responses = await asyncio.gather(*(_me(system, token) for token in strangers))
        assert {r.status_code for r in responses} == {401}
        assert idp.fetches == 2  # start + one refresh, not twenty


@pytest.mark.parametrize(
    ("overrides", "accepted"),
    [
        ({"aud": "sop-platform"}, False),  # the other issuer's audience
        ({"aud": None}, False),
        ({"exp": Ago(10), "iat": Ago(310)}, True),  # expired 10 s ago: within the 30 s skew
        ({"exp": Ago(90), "iat": Ago(390)}, False),  # beyond the skew
        ({"nbf": Ago(-20)}, True),  # the provider's clock runs 20 s ahead: fine
        ({"nbf": Ago(-120)}, False),
        ({"sop_actor_type": "partner", "agency": "Ozark Family Counseling"}, False),  # partners come with API tokens
        ({"iss": "https://login.idp.example/other"}, False),
    ],
    ids=[
        "foreign-audience",
        "no-audience",
        "within-skew",
        "expired",
        "clock-ahead",
        "not-yet-valid",
        "partner-actor",
        "unknown-issuer",
    ],
)
async def test_the_second_issuers_tokens_are_held_to_audience_expiry_and_skew(
    start_system: Any,
    idp: IdentityProvider,
    overrides: dict[str, Any],
    accepted: bool,
) -> None:
    async with start_system(**_settings(idp)) as system:
        now = int(time.time())
        claims = {k: now - v.seconds if isinstance(v, Ago) else v for k, v in overrides.items()}
        response = await _me(system, idp.token(**claims))
        assert response.status_code == (200 if accepted else 401), response.text


async def test_a_token_of_the_first_issuer_is_not_valid_for_the_second(
    start_system: Any, idp: IdentityProvider
) -> None:
    async with start_system(**_settings(idp)) as system:
        # signed by the dev issuer's key but claiming the second issuer: that issuer does not know the key
        from sop_shared.keys import DEV_ISSUER_KEY_FILE, load_signing_key

        dev_key = load_signing_key(system.keys_dir / DEV_ISSUER_KEY_FILE)
        assert (await _me(system, idp.token(dev_key))).status_code == 401


def test_an_extra_issuer_without_keys_is_a_settings_error() -> None:
    from pydantic import ValidationError

    from sop_gateway.settings import GatewaySettings

    with pytest.raises(ValidationError, match="give jwks_url or jwks_file"):
        GatewaySettings(oidc_extra_issuers=[{"issuer": IDP_ISSUER, "audience": IDP_AUDIENCE}])


async def test_a_member_portal_issuer_vouches_for_family_members_and_never_for_staff(
    start_system: Any,
    idp: IdentityProvider,
) -> None:
    portal = {
        "oidc_extra_issuers": [
            {"issuer": IDP_ISSUER, "audience": IDP_AUDIENCE, "jwks_url": idp.url, "actor_types": ["family", "network"]}
        ]
    }
    async with start_system(**portal) as system:
        family = await _me(system, idp.token(sub="family:maria.lopez", act="family", roles=[], agency=None))
        assert family.status_code == 200, family.text
        assert family.json()["data"]["me"] == {
            "subject": "family:maria.lopez",
            "actorType": "FAMILY",
            "roles": [],
            "scopes": [],
            "agency": None,
        }
        # the portal's tokens cannot make anyone staff, whatever they claim
        assert (await _me(system, idp.token())).status_code == 401
        assert (await _me(system, idp.token(act="staff"))).status_code == 401


def test_an_issuer_may_not_vouch_for_partners() -> None:
    from pydantic import ValidationError

    from sop_gateway.settings import GatewaySettings

    with pytest.raises(ValidationError, match="API tokens"):
        GatewaySettings(
            oidc_extra_issuers=[
                {"issuer": IDP_ISSUER, "audience": IDP_AUDIENCE, "jwks_url": "x", "actor_types": ["partner"]}
            ]
        )
