"""Principals and the internal service token: minted by the gateway per downstream call, verified by services.

The token names one service (audience), lives about a minute, and may be scoped to one case — or, for the
gateway's bulk reads of a caseload page, to a list of cases the network service has already allowed.
"""

from __future__ import annotations

import binascii
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Request
from jwt.utils import base64url_decode, base64url_encode

from sop_shared.ids import new_id
from sop_shared.keys import SigningKey
from sop_shared.policy import (
    DEFAULT_AUDIENCE,
    DEFAULT_SHARING,
    MEMBER_ACTORS,
    ActorType,
    Audience,
    NetworkSharing,
    Scope,
    Section,
    audiences_allowed,
    may_see_section,
)
from sop_shared.problems import Forbidden, InvalidInput, NotFound, Unauthenticated

INTERNAL_TOKEN_LIFETIME_SECONDS = 60
MAX_CASES_PER_TOKEN = 50  # a caseload page
MAX_SHARED_STATEMENTS = 50  # statements a family may open to their network one by one, on one case
CLOCK_SKEW_SECONDS = 5


# The kind of caller (staff, family, integration, …). RFC 8693 registers `act` for delegation (an object), so the
# platform's own claim has its own name; a plain-string `act` (what tokens said before) is still read, for now.
ACTOR_TYPE_CLAIM = "sop_actor_type"
LEGACY_ACTOR_TYPE_CLAIM = "act"


def actor_type_claim(claims: dict[str, Any]) -> str | None:
    """The actor type a token states: `sop_actor_type`, else a legacy string `act` (an RFC 8693 `act` object is
    a delegation, not an actor type, and is not read), else None."""
    value = claims.get(ACTOR_TYPE_CLAIM)
    if isinstance(value, str):
        return value
    legacy = claims.get(LEGACY_ACTOR_TYPE_CLAIM)
    return legacy if isinstance(legacy, str) else None


@dataclass(frozen=True)
class Principal:
    """Who is acting: a person or a system, with what rights, through which client."""

    subject: str
    actor_type: ActorType
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    agency: str | None = None
    client_id: str | None = None
    name: str | None = None
    case_id: uuid.UUID | None = None  # set on internal tokens scoped to one case
    case_ids: frozenset[uuid.UUID] = frozenset()  # set on bulk-read tokens: cases already allowed, read only
    # A family or network member on an internal token scoped to their case: the person the network service
    # bound their login to. Only the gateway sets it, from the access decision; never from a client's token.
    person_id: uuid.UUID | None = None
    # On an internal token scoped to one case: what the family chose their network sees there beyond the
    # default (the access decision's, set by the gateway for every caller, so a worker's network preview and a
    # network member read the same).
    network_sharing: NetworkSharing = DEFAULT_SHARING

    def has_scope(self, scope: Scope | str) -> bool:
        return str(scope) in self.scopes

    def scoped_to(
        self,
        case_id: uuid.UUID | None,
        scopes: Iterable[str] | None = None,
        *,
        person_id: uuid.UUID | None = None,
        network_sharing: NetworkSharing = DEFAULT_SHARING,
    ) -> Principal:
        return replace(
            self,
            case_id=case_id,
            case_ids=frozenset(),
            scopes=frozenset(scopes) if scopes is not None else self.scopes,
            person_id=person_id if case_id is not None else None,
            network_sharing=network_sharing if case_id is not None else DEFAULT_SHARING,
        )

    def scoped_to_cases(self, case_ids: Iterable[uuid.UUID]) -> Principal:
        """A bulk-read token: read only, for cases the network service allowed this principal to read."""
        ids = frozenset(case_ids)
        if len(ids) > MAX_CASES_PER_TOKEN:
            raise ValueError(f"at most {MAX_CASES_PER_TOKEN} cases per token")
        return replace(
            self,
            case_id=None,
            case_ids=ids,
            scopes=frozenset({Scope.case_read.value}),
            person_id=None,
            network_sharing=DEFAULT_SHARING,
        )


# The claims as PyJWT's `jwt.encode` writes them (`json.dumps` with these separators), by one encoder made once.
_CLAIMS_JSON = json.JSONEncoder(separators=(",", ":"))


@dataclass
class InternalTokenMinter:
    """Mints the token for one call: its own `jti` and request id, signed anew. What is the same for every token
    of a key (the header segment, the key as the algorithm takes it) is made once per key, and the token is put
    together as PyJWT's `jwt.encode` puts it, the same bytes (Ed25519 signatures are deterministic): the library's
    header, JSON, base64 and key checks on every call were a third of minting's CPU and the signature only half
    (issue 16). The signature is still PyJWT's EdDSA algorithm's, with `cryptography`'s key."""

    key: SigningKey
    issuer: str = "sop-gateway"
    lifetime_seconds: int = INTERNAL_TOKEN_LIFETIME_SECONDS
    # (the key they were made for, the header segment and the dot after it, the algorithm, the prepared key)
    _signing: tuple[SigningKey, bytes, Any, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def mint(self, principal: Principal, *, audience: str, request_id: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "sub": principal.subject,
            "iat": now,
            "nbf": now - 1,
            "exp": now + self.lifetime_seconds,
            "jti": str(new_id()),
            ACTOR_TYPE_CLAIM: principal.actor_type.value,
            "roles": sorted(principal.roles),
            "scope": " ".join(sorted(principal.scopes)),
        }
        for claim, value in (
            ("agency", principal.agency),
            ("client_id", principal.client_id),
            ("name", principal.name),
            ("rid", request_id),
        ):
            if value:
                claims[claim] = value
        if principal.case_id is not None:
            claims["case"] = str(principal.case_id)
            if principal.person_id is not None:
                claims["person"] = str(principal.person_id)
            if principal.network_sharing:
                claims["network_sees"] = {
                    "sections": sorted(principal.network_sharing.sections),
                    "statements": sorted(str(i) for i in principal.network_sharing.statement_ids),
                }
        if principal.case_ids:
            claims["cases"] = sorted(str(c) for c in principal.case_ids)
        return self._signed(claims)

    def _signed(self, claims: dict[str, Any]) -> str:
        """`jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})`, its constant parts made once."""
        if not isinstance(claims["iss"], str):
            raise TypeError("Issuer (iss) must be a string.")  # as PyJWT refuses it
        signing = self._signing
        if signing is None or signing[0] is not self.key:
            algorithm = jwt.get_algorithm_by_name("EdDSA")
            header = json.dumps(
                {"typ": "JWT", "alg": "EdDSA", "kid": self.key.kid}, separators=(",", ":"), sort_keys=True
            )
            signing = self._signing = (
                self.key,
                base64url_encode(header.encode()) + b".",
                algorithm,
                algorithm.prepare_key(self.key.private_key),
            )
        _, header_segment, algorithm, prepared_key = signing
        signing_input = header_segment + base64url_encode(_CLAIMS_JSON.encode(claims).encode())
        return (signing_input + b"." + base64url_encode(algorithm.sign(signing_input, prepared_key))).decode()


@dataclass
class InternalTokenVerifier:
    """Checks signature (any key in the JWKS, for rotation), audience, issuer, expiry; builds the Principal."""

    jwks: jwt.PyJWKSet
    audience: str
    issuer: str = "sop-gateway"
    max_lifetime_seconds: int = 300
    _keys: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._keys = {k.key_id: k.key for k in self.jwks.keys if k.key_id}

    def verify(self, token: str) -> Principal:
        try:
            kid = _unverified_kid(token)
            key = self._keys.get(kid) if kid else None
            if key is None:
                raise Unauthenticated("token signed by an unknown key")
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "aud", "iss", "sub"]},
            )
            if claims["exp"] - claims["iat"] > self.max_lifetime_seconds:
                raise Unauthenticated("internal token lifetime too long")
            case = claims.get("case")
            person = claims.get("person") if case else None
            cases = claims.get("cases") or []
            if not isinstance(cases, list) or len(cases) > MAX_CASES_PER_TOKEN:
                raise Unauthenticated("invalid internal token: bad cases claim")
            return Principal(
                subject=claims["sub"],
                actor_type=ActorType(actor_type_claim(claims) or ""),
                roles=frozenset(claims.get("roles", [])),
                scopes=frozenset(claims.get("scope", "").split()),
                agency=claims.get("agency"),
                client_id=claims.get("client_id"),
                name=claims.get("name"),
                case_id=uuid.UUID(case) if case else None,
                case_ids=frozenset(uuid.UUID(c) for c in cases),
                person_id=uuid.UUID(person) if person else None,
                network_sharing=_network_sharing(claims.get("network_sees")) if case else DEFAULT_SHARING,
            )
        except Unauthenticated:
            raise
        except (jwt.PyJWTError, ValueError, KeyError, binascii.Error) as exc:
            raise Unauthenticated(f"invalid internal token: {exc}") from exc


def _unverified_kid(token: str) -> str | None:
    """The key id in a token's header, only to pick the key `jwt.decode` then checks everything with. Read from
    the header segment alone: `jwt.get_unverified_header` decodes and checks every segment, character by
    character in Python, which `jwt.decode` does again (a fifth of a verification's CPU)."""
    header = json.loads(base64url_decode(token.split(".", 1)[0].encode()))
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def _network_sharing(claim: Any) -> NetworkSharing:
    """The `network_sees` claim: the sections and statements the family opened to their network on the case."""
    if claim is None:
        return DEFAULT_SHARING
    if not isinstance(claim, dict) or len(claim.get("statements") or []) > MAX_SHARED_STATEMENTS:
        raise ValueError("bad network_sees claim")
    return NetworkSharing(
        sections=frozenset(Section(s) for s in claim.get("sections") or []),
        statement_ids=frozenset(uuid.UUID(str(i)) for i in claim.get("statements") or []),
    )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <token>")
    return token.strip()


def verified_principal(request: Request) -> Principal:
    """The caller of this request, from its internal token: verified once per request (the case-reference
    check and the endpoint's `CurrentPrincipal` both ask) and kept on `request.state`."""
    held: Principal | None = getattr(request.state, "internal_principal", None)
    if held is not None:
        return held
    verifier: InternalTokenVerifier = request.app.state.token_verifier
    principal = verifier.verify(bearer_token(request))
    request.state.internal_principal = principal
    request.state.principal = principal
    return principal


async def _internal_principal(request: Request) -> Principal:
    return verified_principal(request)


CurrentPrincipal = Annotated[Principal, Depends(_internal_principal)]


def require_case(principal: Principal, case_id: uuid.UUID) -> None:
    """The case in the path must be the case the token was minted for; otherwise it does not exist for you."""
    if principal.case_id is None or principal.case_id != case_id:
        raise NotFound("no such case")


def require_cases_read(principal: Principal, case_ids: Iterable[uuid.UUID]) -> None:
    """A bulk read: every case asked for must be in the token's cases (or be its one case), with case:read.
    Any other case does not exist for this caller."""
    held = principal.case_ids | ({principal.case_id} if principal.case_id else set())
    if not principal.has_scope(Scope.case_read) or any(c not in held for c in case_ids):
        raise NotFound("no such case")


def request_audience(principal: Principal, header: str | None) -> Audience:
    """The audience a request speaks for: the one the gateway set in X-SOP-Audience, or the caller's own kind
    when absent (a family member's call never defaults to the staff view). An audience the caller may not
    speak for is refused."""
    if header is None or not header.strip():
        return DEFAULT_AUDIENCE[principal.actor_type]
    try:
        audience = Audience(header.strip().lower())
    except ValueError:
        raise InvalidInput.field("X-SOP-Audience", f"one of {[a.value for a in Audience]}") from None
    if audience not in audiences_allowed(principal.actor_type, principal.roles):
        raise Forbidden(f"this caller cannot ask for the {audience.value} view")
    return audience


async def _request_audience(request: Request) -> Audience:
    # The principal from `verified_principal`, not as a `CurrentPrincipal` sub-dependency: FastAPI solves a
    # sub-dependency's own parameters again for every dependency that names it, before it finds the cached value.
    return request_audience(verified_principal(request), request.headers.get("X-SOP-Audience"))


RequestAudience = Annotated[Audience, Depends(_request_audience)]


def require_member(principal: Principal, case_id: uuid.UUID) -> uuid.UUID:
    """A family or network member acting as themselves on their own case: the person id their login is bound
    to (from the internal token, never from a request body). Staff, partners and systems are refused (403):
    they record what a member said through the staff routes."""
    require_case_scope(principal, case_id, Scope.case_participate)
    if principal.actor_type not in MEMBER_ACTORS or principal.person_id is None:
        raise Forbidden("only a family or network member acts here, as themselves")
    return principal.person_id


def require_scope(principal: Principal, scope: Scope) -> None:
    if not principal.has_scope(scope):
        raise Forbidden(f"this operation needs the {scope.value} scope")


def require_case_scope(principal: Principal, case_id: uuid.UUID, scope: Scope) -> None:
    require_case(principal, case_id)
    if not principal.has_scope(scope):
        # Read access but no write access: the case is known to exist for this caller, so 403 is honest.
        if principal.has_scope(Scope.case_read):
            raise Forbidden(f"this operation needs the {scope.value} scope")
        raise NotFound("no such case")


def require_section(section: Section) -> Callable[..., Awaitable[None]]:
    """A dependency: the request's audience must see `section` (with the family's choice on the case the token
    is for), else the route does not exist for it (404, like a case it may not see) and the refusal is audited."""

    async def check(request: Request) -> None:
        principal = verified_principal(request)  # as `_request_audience` reads it
        audience = request_audience(principal, request.headers.get("X-SOP-Audience"))
        if not may_see_section(section, audience, principal.network_sharing):
            from sop_shared.audit import audit_refusal  # the audit module builds on this one

            await audit_refusal(request, principal, resource=f"section:{section.value}", case_id=principal.case_id)
            raise NotFound("no such record")

    return check


def section_router(router: APIRouter, section: Section) -> APIRouter:
    """`router`'s routes, each refused (404) to an audience that may not see `section` (`require_section`)."""
    guarded = APIRouter(dependencies=[Depends(require_section(section))])
    guarded.include_router(router)
    return guarded
