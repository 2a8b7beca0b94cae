"""Edge tokens verified once are kept (issue 16), and a kept token is still refused as soon as verification would
refuse it: its key removed from the issuer's keys or replaced, its expiry (or `nbf`, `iat`) passed, its client
no longer registered. The authenticator alone, with an issuer whose keys are given directly."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest

import sop_gateway.identity as identity
from sop_gateway.identity import EdgeAuthenticator, TrustedIssuerKeys
from sop_shared.keys import SigningKey, generate_signing_key
from sop_shared.problems import Unauthenticated

ISSUER, AUDIENCE = "https://idp.example", "sop-platform"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    made = {"iss": ISSUER, "aud": AUDIENCE, "sub": "fsw.rivera", "iat": now, "nbf": now, "exp": now + 600}
    made |= {"jti": str(uuid.uuid4()), "act": "staff", "roles": ["worker"], "client_id": "app"}
    return {name: value for name, value in (made | overrides).items() if value is not None}


def signed(key: SigningKey, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


def issuer_of(*keys: SigningKey) -> TrustedIssuerKeys:
    return TrustedIssuerKeys(ISSUER, AUDIENCE, jwks={"keys": [k.public_jwk() for k in keys]}, clock_skew_seconds=0)


async def authenticator(issuer: TrustedIssuerKeys, **kwargs: Any) -> EdgeAuthenticator:
    edge = EdgeAuthenticator([issuer], **kwargs)
    await edge.load()
    return edge


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(identity.time, "time", lambda: real() + self.offset)


async def test_a_token_is_verified_once_then_taken_from_the_kept_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_signing_key()
    edge = await authenticator(issuer_of(key))
    token = signed(key)
    first = await edge.authenticate(token)
    decoded: list[str] = []
    real_decode = jwt.decode
    monkeypatch.setattr(identity.jwt, "decode", lambda *a, **k: decoded.append("decode") or real_decode(*a, **k))
    assert await edge.authenticate(token) is first
    assert decoded == []
    other = signed(key, sub="sup.okafor", roles=["supervisor"])
    assert (await edge.authenticate(other)).subject == "sup.okafor"
    assert decoded  # a token not kept is verified


async def test_a_kept_token_whose_key_was_removed_is_refused() -> None:
    old, new = generate_signing_key(), generate_signing_key()
    issuer = issuer_of(old, new)
    edge = await authenticator(issuer)
    token = signed(old)
    assert (await edge.authenticate(token)).subject == "fsw.rivera"
    issuer.jwks = {"keys": [new.public_jwk()]}  # the old key rotated out
    await issuer.load()
    with pytest.raises(Unauthenticated, match="unknown key"):
        await edge.authenticate(token)
    assert (await edge.authenticate(signed(new))).subject == "fsw.rivera"


async def test_a_kept_token_whose_key_was_replaced_under_the_same_id_is_verified_again() -> None:
    key, impostor = generate_signing_key(), generate_signing_key()
    issuer = issuer_of(key)
    edge = await authenticator(issuer)
    token = signed(key)
    await edge.authenticate(token)
    issuer.jwks = {"keys": [{**impostor.public_jwk(), "kid": key.kid}]}
    await issuer.load()
    with pytest.raises(Unauthenticated, match="Signature verification failed"):
        await edge.authenticate(token)


@pytest.mark.parametrize(
    ("claim", "message"),
    [("exp", "Signature has expired"), ("nbf", r"not yet valid \(nbf\)"), ("iat", r"not yet valid \(iat\)")],
)
async def test_a_kept_token_is_refused_once_its_time_claims_no_longer_hold(
    monkeypatch: pytest.MonkeyPatch, claim: str, message: str
) -> None:
    key = generate_signing_key()
    edge = await authenticator(issuer_of(key))
    clock = Clock(monkeypatch)
    now = int(time.time())
    token = signed(
        key,
        exp=now + 60,
        nbf={"exp": now, "nbf": now - 5, "iat": None}[claim],
        iat={"exp": now, "nbf": now - 20, "iat": now - 5}[claim],
    )
    await edge.authenticate(token)
    await edge.authenticate(token)  # kept
    assert token in edge._verified
    # The clock moves past the expiry; or back before the token's nbf / iat (a clock set back).
    clock.offset = 61 if claim == "exp" else -10
    with pytest.raises(Unauthenticated, match=message):
        await edge.authenticate(token)
    assert token not in edge._verified


async def test_a_kept_token_of_a_client_no_longer_registered_is_refused() -> None:
    key = generate_signing_key()
    registered = {"app"}

    async def client_is_active(client_id: str) -> bool:
        return client_id in registered

    edge = await authenticator(issuer_of(key), own_issuer=ISSUER, client_is_active=client_is_active)
    token = signed(key)
    await edge.authenticate(token)
    registered.clear()
    with pytest.raises(Unauthenticated, match="no longer registered"):
        await edge.authenticate(token)


async def test_a_refused_token_is_not_kept() -> None:
    key, stranger = generate_signing_key(), generate_signing_key()
    edge = await authenticator(issuer_of(key))
    for token in (signed(stranger), signed(key, aud="someone-else"), signed(key, act="partner")):
        with pytest.raises(Unauthenticated):
            await edge.authenticate(token)
    assert len(edge._verified) == 0


async def test_the_kept_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity, "VERIFIED_TOKENS_KEPT", 3)
    key = generate_signing_key()
    edge = await authenticator(issuer_of(key))
    for n in range(5):
        await edge.authenticate(signed(key, sub=f"worker.{n}"))
    assert len(edge._verified) == 3
