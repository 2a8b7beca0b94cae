"""Internal service tokens: what the gateway mints a service can verify, and nothing else gets through —
wrong audience or issuer, expired beyond the clock-skew leeway, unknown key, tampered, too long-lived,
another algorithm. Rotation: a JWKS with two keys accepts tokens signed by either."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from sop_shared.auth import (
    CLOCK_SKEW_SECONDS,
    CurrentPrincipal,
    InternalTokenMinter,
    InternalTokenVerifier,
    Principal,
    RequestAudience,
    _internal_principal,
    request_audience,
    require_case,
    require_case_scope,
    require_cases_read,
    require_section,
)
from sop_shared.keys import SigningKey, generate_signing_key, load_jwks, load_signing_key, write_signing_key
from sop_shared.policy import ActorType, Scope, Section
from sop_shared.problems import Forbidden, NotFound, Unauthenticated, install_problem_handlers
from sop_shared.query_params import known_query_params

CASE = uuid.UUID("01890000-0000-7000-8000-000000000001")


def jwks_of(*keys: SigningKey) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict({"keys": [k.public_jwk() for k in keys]})


def principal(**overrides: Any) -> Principal:
    values: dict[str, Any] = dict(
        subject="fsw.rivera",
        actor_type=ActorType.staff,
        roles=frozenset({"worker"}),
        scopes=frozenset({"case:read", "case:write"}),
        agency="DCFS",
        client_id="web",
        name="Ana Rivera",
        case_id=CASE,
    )
    values.update(overrides)
    return Principal(**values)


def forge(key: SigningKey, **claims: Any) -> str:
    """A token with exactly these claims (over sensible defaults), signed by `key`."""
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": "sop-gateway",
        "aud": "plans",
        "sub": "fsw.rivera",
        "iat": now,
        "exp": now + 60,
        "sop_actor_type": "staff",
        "roles": ["worker"],
        "scope": "case:read",
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


@pytest.fixture
def key() -> SigningKey:
    return generate_signing_key()


@pytest.fixture
def verifier(key: SigningKey) -> InternalTokenVerifier:
    return InternalTokenVerifier(jwks_of(key), audience="plans")


def test_mint_and_verify_round_trip(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    original = principal()
    token = InternalTokenMinter(key).mint(original, audience="plans", request_id="req-1")
    assert verifier.verify(token) == original
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["case"] == str(CASE)
    assert claims["rid"] == "req-1"
    assert claims["exp"] - claims["iat"] == 60
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}


def test_a_token_without_a_case_verifies_to_no_case(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    integration = principal(
        subject="client:chris",
        actor_type=ActorType.integration,
        roles=frozenset(),
        scopes=frozenset({"cases:sync"}),
        agency=None,
        name=None,
        case_id=None,
    )
    assert verifier.verify(InternalTokenMinter(key).mint(integration, audience="plans")) == integration


def test_wrong_audience_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    token = InternalTokenMinter(key).mint(principal(), audience="network")
    with pytest.raises(Unauthenticated, match=r"(?i)audience"):
        verifier.verify(token)


def test_wrong_issuer_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    with pytest.raises(Unauthenticated, match="issuer"):
        verifier.verify(InternalTokenMinter(key, issuer="someone-else").mint(principal(), audience="plans"))


def test_expiry_allows_the_clock_skew_leeway_and_no_more(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    now = int(time.time())
    just_expired = forge(key, iat=now - 62, exp=now - (CLOCK_SKEW_SECONDS - 3))
    assert verifier.verify(just_expired).subject == "fsw.rivera"  # within the skew leeway
    long_expired = forge(key, iat=now - 70, exp=now - (CLOCK_SKEW_SECONDS + 3))
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(long_expired)


def test_a_token_from_the_future_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    now = int(time.time())
    with pytest.raises(Unauthenticated):
        verifier.verify(forge(key, iat=now + 30, nbf=now + 30, exp=now + 90))


def test_unknown_kid_is_refused(verifier: InternalTokenVerifier) -> None:
    stranger = generate_signing_key()
    with pytest.raises(Unauthenticated, match="unknown key"):
        verifier.verify(InternalTokenMinter(stranger).mint(principal(), audience="plans"))


def test_no_kid_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    token = jwt.encode(
        {
            "iss": "sop-gateway",
            "aud": "plans",
            "sub": "x",
            "sop_actor_type": "staff",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        key.private_key,
        algorithm="EdDSA",
    )
    with pytest.raises(Unauthenticated, match="unknown key"):
        verifier.verify(token)


@pytest.mark.parametrize(
    "header",
    ["", "not base64!", base64.urlsafe_b64encode(b"not json").decode(), base64.urlsafe_b64encode(b"[1]").decode()],
)
def test_a_header_that_is_not_a_json_object_is_refused_as_unauthenticated(
    key: SigningKey, verifier: InternalTokenVerifier, header: str
) -> None:
    _, payload, signature = InternalTokenMinter(key).mint(principal(), audience="plans").split(".")
    for token in (f"{header}.{payload}.{signature}", header):
        with pytest.raises(Unauthenticated):
            verifier.verify(token)


def test_a_known_kid_with_another_keys_signature_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    impostor = SigningKey(generate_signing_key().private_key, key.kid)  # claims to be the trusted key
    with pytest.raises(Unauthenticated, match=r"[Ss]ignature"):
        verifier.verify(InternalTokenMinter(impostor).mint(principal(), audience="plans"))


def _flip(segment: str, index: int) -> str:
    chars = list(segment)
    chars[index] = "A" if chars[index] != "A" else "B"
    return "".join(chars)


def test_a_tampered_signature_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    header, payload, signature = InternalTokenMinter(key).mint(principal(), audience="plans").split(".")
    with pytest.raises(Unauthenticated):
        verifier.verify(".".join([header, payload, _flip(signature, len(signature) // 2)]))


def test_tampered_claims_are_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    header, payload, signature = InternalTokenMinter(key).mint(principal(), audience="plans").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "case:read case:write approvals:decide"  # escalate
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(Unauthenticated, match=r"[Ss]ignature"):
        verifier.verify(".".join([header, forged, signature]))


def test_a_lifetime_beyond_the_maximum_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    with pytest.raises(Unauthenticated, match="lifetime"):
        verifier.verify(InternalTokenMinter(key, lifetime_seconds=301).mint(principal(), audience="plans"))
    assert verifier.verify(InternalTokenMinter(key, lifetime_seconds=300).mint(principal(), audience="plans"))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "sop_actor_type", "aud", "iss"])
def test_a_required_claim_missing_is_refused(key: SigningKey, verifier: InternalTokenVerifier, missing: str) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(forge(key, **{missing: None}))


def test_an_unknown_actor_type_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(forge(key, sop_actor_type="superuser"))


def test_another_algorithm_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    now = int(time.time())
    claims = {"iss": "sop-gateway", "aud": "plans", "sub": "x", "sop_actor_type": "staff", "iat": now, "exp": now + 60}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": key.kid})
    hmac = jwt.encode(claims, "shared-secret-of-at-least-32-bytes!!", algorithm="HS256", headers={"kid": key.kid})
    for token in (unsigned, hmac):
        with pytest.raises(Unauthenticated):
            verifier.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
def test_garbage_is_refused(verifier: InternalTokenVerifier, garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(garbage)


def test_rotation_a_jwks_with_two_keys_verifies_tokens_from_both(tmp_path) -> None:
    old, new = generate_signing_key(), generate_signing_key()
    assert old.kid != new.kid
    # the JWKS file as the gateway publishes it during a rotation: both public keys
    write_signing_key(new, tmp_path / "new.pem", tmp_path / "jwks.json")
    both = {"keys": [old.public_jwk(), *json.loads((tmp_path / "jwks.json").read_text())["keys"]]}
    (tmp_path / "jwks.json").write_text(json.dumps(both))
    verifier = InternalTokenVerifier(load_jwks(tmp_path / "jwks.json"), audience="plans")
    assert load_signing_key(tmp_path / "new.pem").kid == new.kid
    for signer in (old, new):
        assert verifier.verify(InternalTokenMinter(signer).mint(principal(), audience="plans")) == principal()
    # after the rotation ends the old key is dropped, and its tokens with it
    only_new = InternalTokenVerifier(jwks_of(new), audience="plans")
    with pytest.raises(Unauthenticated, match="unknown key"):
        only_new.verify(InternalTokenMinter(old).mint(principal(), audience="plans"))


def test_case_and_scope_checks() -> None:
    reader = principal(scopes=frozenset({"case:read"}))
    require_case(reader, CASE)
    with pytest.raises(NotFound):
        require_case(reader, uuid.UUID(int=CASE.int + 1))  # another case does not exist for you
    with pytest.raises(NotFound):
        require_case(principal(case_id=None), CASE)
    with pytest.raises(Forbidden):  # can read, so 403 is honest
        require_case_scope(reader, CASE, Scope.case_write)
    with pytest.raises(NotFound):  # cannot even read: indistinguishable from missing
        require_case_scope(principal(scopes=frozenset()), CASE, Scope.case_write)
    require_case_scope(principal(), CASE, Scope.case_write)


async def test_a_service_route_refuses_requests_without_a_valid_token(
    key: SigningKey, verifier: InternalTokenVerifier
) -> None:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/me")
    async def me(who: CurrentPrincipal) -> dict[str, str]:
        return {"subject": who.subject}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans") as client:
        none = await client.get("/me")
        assert none.status_code == 401
        assert none.headers["WWW-Authenticate"] == "Bearer"
        other = await client.get(
            "/me", headers={"Authorization": "Bearer " + InternalTokenMinter(key).mint(principal(), audience="network")}
        )
        assert other.status_code == 401
        ok = await client.get(
            "/me", headers={"Authorization": "Bearer " + InternalTokenMinter(key).mint(principal(), audience="plans")}
        )
        assert ok.status_code == 200 and ok.json() == {"subject": "fsw.rivera"}


def principal_solves(app: FastAPI, path: str) -> int:
    """How many times FastAPI solves the principal's dependency for the route at `path` (each place in its tree of
    dependencies that names `CurrentPrincipal` is solved again before the request's cached value is found)."""
    route = next(r for r in app.routes if getattr(r, "path", "") == path)
    calls, pending = [], list(route.dependant.dependencies)  # type: ignore[attr-defined]
    while pending:
        dependant = pending.pop()
        calls.append(dependant.call)
        pending.extend(dependant.dependencies)
    return calls.count(_internal_principal)


async def test_the_audience_and_section_checks_verify_the_token_once_and_refuse_without_one(
    key: SigningKey, verifier: InternalTokenVerifier
) -> None:
    """`RequestAudience` and `require_section` read the request's principal themselves (verified once per request,
    `verified_principal`): a route naming them and `CurrentPrincipal` solves the principal's dependency once, and
    a request without a valid token is refused by whichever runs first."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = verifier
    verified: list[str] = []
    verify = verifier.verify

    def counted(token: str) -> Principal:
        verified.append(token)
        return verify(token)

    verifier.verify = counted  # type: ignore[method-assign]

    @app.get("/view", dependencies=[Depends(require_section(Section.every_rater))])
    async def view(who: CurrentPrincipal, audience: RequestAudience) -> dict[str, str]:
        return {"subject": who.subject, "audience": audience.value}

    @app.get("/audience")
    async def audience_only(audience: RequestAudience) -> dict[str, str]:
        return {"audience": audience.value}

    assert principal_solves(app, "/view") == 1

    token = InternalTokenMinter(key).mint(principal(), audience="plans")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans") as client:
        for path in ("/view", "/audience"):
            refused = await client.get(path)
            assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
        ok = await client.get("/view", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json() == {"subject": "fsw.rivera", "audience": "staff"}
        assert verified == [token]
        family = await client.get("/audience", headers={"Authorization": f"Bearer {token}", "X-SOP-Audience": "family"})
        assert family.status_code == 200 and family.json() == {"audience": "family"}


async def test_the_query_check_verifies_the_token_once_and_refuses_without_one_first(
    key: SigningKey, verifier: InternalTokenVerifier
) -> None:
    """`known_query_params` reads the request's principal itself, as the audience check does: a route with it and
    `CurrentPrincipal` solves the principal's dependency once, and a caller without a valid token gets 401 before
    anything about its query is said."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/cases", dependencies=[known_query_params()])
    async def cases(who: CurrentPrincipal, limit: int = 50) -> dict[str, Any]:
        return {"subject": who.subject, "limit": limit}

    assert principal_solves(app, "/cases") == 1

    token = InternalTokenMinter(key).mint(principal(), audience="plans")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans") as client:
        refused = await client.get("/cases", params={"stauts": "open"})
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
        headers = {"Authorization": f"Bearer {token}"}
        unknown = await client.get("/cases", params={"stauts": "open"}, headers=headers)
        assert unknown.status_code == 400 and unknown.json()["errors"] == [
            {"field": "stauts", "message": "unknown query parameter"}
        ]
        ok = await client.get("/cases", params={"limit": 5}, headers=headers)
        assert ok.status_code == 200 and ok.json() == {"subject": "fsw.rivera", "limit": 5}


def test_a_bulk_read_token_carries_its_cases_read_only(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    others = [uuid.UUID(f"01890000-0000-7000-8000-00000000010{i}") for i in range(3)]
    bulk = principal().scoped_to_cases(others)
    got = verifier.verify(InternalTokenMinter(key).mint(bulk, audience="plans"))
    assert got.case_ids == frozenset(others) and got.case_id is None
    assert got.scopes == frozenset({"case:read"})  # a bulk token never writes
    require_cases_read(got, others[:2])
    with pytest.raises(NotFound):
        require_cases_read(got, [*others, CASE])  # a case outside the token does not exist for it
    with pytest.raises(NotFound):
        require_case(got, others[0])  # single-case routes still need a token scoped to that one case
    with pytest.raises(ValueError):
        principal().scoped_to_cases(uuid.uuid4() for _ in range(51))


def test_a_cases_claim_that_is_not_a_short_list_is_refused(key: SigningKey, verifier: InternalTokenVerifier) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(forge(key, cases=str(CASE)))
    with pytest.raises(Unauthenticated):
        verifier.verify(forge(key, cases=[str(uuid.uuid4()) for _ in range(51)]))


@pytest.mark.parametrize(
    ("actor", "header", "expected"),
    [
        (ActorType.family, None, "family"),
        (ActorType.partner, "", "partner"),
        (ActorType.staff, "FAMILY", "family"),
    ],
)
def test_request_audience_defaults_to_the_callers_own_kind(actor: ActorType, header: str | None, expected: str) -> None:
    assert request_audience(principal(actor_type=actor, roles=frozenset()), header).value == expected


def test_request_audience_refuses_an_audience_above_the_caller() -> None:
    with pytest.raises(Forbidden):
        request_audience(principal(actor_type=ActorType.partner, roles=frozenset()), "staff")


def test_the_actor_type_has_its_own_claim_and_an_rfc8693_act_is_not_read_as_one(
    key: SigningKey, verifier: InternalTokenVerifier
) -> None:
    minted = InternalTokenMinter(key).mint(principal(), audience="plans")
    claims = jwt.decode(minted, options={"verify_signature": False})
    assert claims["sop_actor_type"] == "staff" and "act" not in claims
    # a token from before the rename (a plain-string act) is still understood
    assert verifier.verify(forge(key, sop_actor_type=None, act="staff")).actor_type.value == "staff"
    # RFC 8693's act is a delegation (an object), never an actor type
    with pytest.raises(Unauthenticated):
        verifier.verify(forge(key, sop_actor_type=None, act={"sub": "fsw.rivera"}))


def test_the_familys_choice_of_what_their_network_sees_travels_with_a_case_token_only(
    key: SigningKey, verifier: InternalTokenVerifier
) -> None:
    from sop_shared.policy import NetworkSharing, Section

    harm = uuid.uuid4()
    sharing = NetworkSharing(sections=frozenset({Section.every_rater}), statement_ids=frozenset({harm}))
    scoped = principal().scoped_to(CASE, network_sharing=sharing)
    token = InternalTokenMinter(key).mint(scoped, audience="plans")
    assert verifier.verify(token).network_sharing == sharing
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["network_sees"] == {"sections": ["every_rater"], "statements": [str(harm)]}
    # no case, no choice: a token for no case (or a bulk read) never carries one
    assert principal().scoped_to(None, network_sharing=sharing).network_sharing == NetworkSharing()
    unscoped = InternalTokenMinter(key).mint(scoped.scoped_to_cases([CASE]), audience="plans")
    assert "network_sees" not in jwt.decode(unscoped, options={"verify_signature": False})
