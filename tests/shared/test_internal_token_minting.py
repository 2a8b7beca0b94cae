"""Minting an internal token: the token PyJWT's `jwt.encode` makes of the same claims, byte for byte (an Ed25519
signature is deterministic), with a fresh `jti` and request id each time, though what is the same for every token
of a key (the header segment, the prepared key) is made once (issue 16)."""

from __future__ import annotations

import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from sop_shared.auth import InternalTokenMinter, InternalTokenVerifier, Principal
from sop_shared.keys import SigningKey, generate_signing_key
from sop_shared.policy import ActorType, NetworkSharing, Section

CASE = uuid.UUID("01890000-0000-7000-8000-000000000001")
MARIA = uuid.UUID("01890000-0000-7000-8000-0000000000a1")
STATEMENT = uuid.UUID("01890000-0000-7000-8000-0000000000b1")

WORKER = Principal(
    subject="fsw.rivera",
    actor_type=ActorType.staff,
    roles=frozenset({"worker", "supervisor"}),
    scopes=frozenset({"case:write", "case:read"}),
    agency="DCFS",
    client_id="web",
    name='Ána Rivera-Núñez "Ani"',  # escaped in the JSON as the standard library escapes it
)
PRINCIPALS = {
    "a worker on the case": WORKER.scoped_to(CASE),
    "a worker, no case": WORKER.scoped_to(None),
    "a caseload page": WORKER.scoped_to_cases([CASE, STATEMENT]),
    "Maria on her case, what her network sees": Principal(
        subject="maria@example.org", actor_type=ActorType.family, scopes=frozenset({"case:participate"})
    ).scoped_to(
        CASE,
        person_id=MARIA,
        network_sharing=NetworkSharing(
            sections=frozenset({Section.harm_statements}), statement_ids=frozenset({STATEMENT})
        ),
    ),
}


@pytest.fixture
def key() -> SigningKey:
    return generate_signing_key()


@pytest.mark.parametrize("who", PRINCIPALS)
def test_a_minted_token_is_the_one_jwt_encode_makes_of_its_claims(key: SigningKey, who: str) -> None:
    minter = InternalTokenMinter(key)
    token = minter.mint(PRINCIPALS[who], audience="plans", request_id="req-1")
    claims = jwt.decode(token, key.public_key, algorithms=["EdDSA"], audience="plans", issuer="sop-gateway")
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    assert token == jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    assert claims["rid"] == "req-1" and claims["exp"] - claims["iat"] == 60 and claims["nbf"] == claims["iat"] - 1
    verified = InternalTokenVerifier(jwt.PyJWKSet.from_dict({"keys": [key.public_jwk()]}), audience="plans")
    assert verified.verify(token) == PRINCIPALS[who]


def test_each_token_is_new_and_the_key_is_prepared_once(key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
    prepared: list[object] = []
    prepare = OKPAlgorithm.prepare_key

    def counted(self: OKPAlgorithm, given: object) -> object:
        if isinstance(given, Ed25519PrivateKey):  # signing (decoding prepares the public key)
            prepared.append(given)
        return prepare(self, given)  # type: ignore[arg-type]

    monkeypatch.setattr(OKPAlgorithm, "prepare_key", counted)
    minter = InternalTokenMinter(key)
    first, second = (minter.mint(WORKER, audience="plans", request_id=rid) for rid in ("req-1", "req-2"))
    claims = [jwt.decode(t, key.public_key, algorithms=["EdDSA"], audience="plans") for t in (first, second)]
    assert claims[0]["jti"] != claims[1]["jti"] and [c["rid"] for c in claims] == ["req-1", "req-2"]
    assert prepared == [key.private_key]  # once for the minter's key, not per token

    # Another key (a rotation): its own header and key from then on.
    rotated = generate_signing_key()
    minter.key = rotated
    token = minter.mint(WORKER, audience="network")
    assert jwt.get_unverified_header(token)["kid"] == rotated.kid
    assert jwt.decode(token, rotated.public_key, algorithms=["EdDSA"], audience="network")["sub"] == "fsw.rivera"
    assert prepared == [key.private_key, rotated.private_key]


def test_the_issuer_and_lifetime_are_read_for_each_token(key: SigningKey) -> None:
    minter = InternalTokenMinter(key)
    minter.mint(WORKER, audience="plans")
    minter.issuer, minter.lifetime_seconds = "sop-gateway-2", 30
    claims = jwt.decode(minter.mint(WORKER, audience="plans"), key.public_key, algorithms=["EdDSA"], audience="plans")
    assert claims["iss"] == "sop-gateway-2" and claims["exp"] - claims["iat"] == 30
    minter.issuer = 7  # type: ignore[assignment]
    with pytest.raises(TypeError):  # as jwt.encode refuses it
        minter.mint(WORKER, audience="plans")
