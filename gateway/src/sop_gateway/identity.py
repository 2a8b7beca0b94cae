"""Authentication at the edge, for three kinds of caller (see docs/identity.md):

- staff (and integration systems the state's IdP vouches for): OIDC JWTs from one or more configured
  issuers, verified against each issuer's JWKS (rotation: an unknown key id triggers one refresh of a JWKS
  URL, at most once per `jwks_min_refresh_seconds`), audience, expiry and clock skew;
- integration clients: short-lived JWTs the gateway itself signed at `/oauth/token` (client credentials);
  the gateway is one more trusted issuer, and a revoked client's tokens stop at once;
- partner agencies: opaque API tokens `sopp_…`, looked up by their hash.

Each becomes a Principal; then the caller's rate-limit window is counted.

A JWT verified once is kept (bounded, by its exact text, `VERIFIED_TOKENS_KEPT`) with the key that verified it
and its claims: a client sends the same token with every request until it expires. Taken from there, it is
accepted only while that same key is still in its issuer's current keys (a key removed or replaced, by a JWKS
refresh or a reload, sends the token through the whole verification again) and while its time claims still hold
as verification checks them (`exp`, `nbf`, `iat`, with the issuer's clock skew). What does not change with time
(signature, issuer, audience, required claims, lifetime, actor type) was checked when it was kept; what can change
otherwise (the client's registration, the rate limit) is checked on every request as before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cachetools import LRUCache

from sop_shared.auth import Principal, actor_type_claim
from sop_shared.policy import ActorType, scopes_for
from sop_shared.problems import Unauthenticated

ALGORITHMS = ["EdDSA", "RS256", "ES256", "PS256"]
JWKS_REFRESH_MIN_SECONDS = 30
PARTNER_TOKEN_PREFIX = "sopp_"
VERIFIED_TOKENS_KEPT = 4096


@dataclass
class TrustedIssuerKeys:
    """One issuer the gateway trusts: its name, the audience its tokens must carry, its keys, and which kinds
    of actor it may vouch for."""

    issuer: str
    audience: str
    jwks_file: Path | None = None
    jwks_url: str = ""
    jwks: dict[str, Any] | None = None  # keys given directly (the gateway's own issuer)
    actor_types: frozenset[ActorType] = frozenset({ActorType.staff, ActorType.integration})
    min_refresh_seconds: float = JWKS_REFRESH_MIN_SECONDS
    clock_skew_seconds: int = 30
    max_lifetime_seconds: int | None = None
    _keys: dict[str, Any] = field(default_factory=dict)
    _fetched_at: float = float("-inf")
    _refresh_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    fetches: int = 0

    async def load(self) -> None:
        if self.jwks is not None:
            self._set(jwt.PyJWKSet.from_dict(self.jwks))
        elif self.jwks_file is not None:
            self._set(jwt.PyJWKSet.from_json(self.jwks_file.read_text()))
        elif self.jwks_url:
            await self._refresh()

    def _set(self, jwks: jwt.PyJWKSet) -> None:
        self._keys = {k.key_id: k for k in jwks.keys if k.key_id}

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()  # also on failure: a dead JWKS URL is not hammered
        self.fetches += 1
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
        self._set(jwt.PyJWKSet.from_dict(response.json()))

    async def _key(self, kid: str | None) -> Any:
        if kid and kid in self._keys:
            return self._keys[kid]
        if kid and self.jwks_url:
            async with self._refresh_lock:  # many requests with a new kid: one fetch
                if kid not in self._keys and time.monotonic() - self._fetched_at >= self.min_refresh_seconds:
                    try:
                        await self._refresh()
                    except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                        raise Unauthenticated("the issuer's keys cannot be fetched right now") from exc
            if kid in self._keys:
                return self._keys[kid]
        raise Unauthenticated("token signed by an unknown key")

    async def verify(self, token: str) -> dict[str, Any]:
        return (await self.verified(token))[0]

    async def verified(self, token: str) -> tuple[dict[str, Any], str | None, Any]:
        """The token's claims once verified, with the key id and the key that verified it."""
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            jwk = await self._key(kid)
            claims: dict[str, Any] = jwt.decode(
                token,
                jwk.key,
                algorithms=[jwk.algorithm_name] if jwk.algorithm_name else ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.clock_skew_seconds,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except Unauthenticated:
            raise
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from exc
        if self.max_lifetime_seconds is not None and claims["exp"] - claims["iat"] > self.max_lifetime_seconds:
            raise Unauthenticated("token lifetime too long")
        return claims, kid, jwk

    def holds(self, known: VerifiedToken, now: float) -> bool:
        """Whether a token verified earlier still verifies with the same key: that key is still one of this
        issuer's; raises as verification would when a time claim no longer holds (PyJWT's own checks)."""
        if known.kid is None or self._keys.get(known.kid) is not known.key:
            return False
        claims, leeway = known.claims, self.clock_skew_seconds
        if "iat" in claims and claims["iat"] > now + leeway:
            raise Unauthenticated("invalid bearer token: The token is not yet valid (iat)")
        if "nbf" in claims and claims["nbf"] > now + leeway:
            raise Unauthenticated("invalid bearer token: The token is not yet valid (nbf)")
        if claims["exp"] <= now - leeway:
            raise Unauthenticated("invalid bearer token: Signature has expired")
        return True

    def principal(self, claims: dict[str, Any]) -> Principal:
        try:
            actor_type = ActorType(actor_type_claim(claims) or "staff")
        except ValueError as exc:
            raise Unauthenticated("unknown actor type") from exc
        if actor_type not in self.actor_types:
            # Partner, family and network principals arrive through their own credentials (API tokens).
            raise Unauthenticated(f"this issuer may only vouch for {', '.join(sorted(self.actor_types))}")
        roles = frozenset(r for r in claims.get("roles", []) if isinstance(r, str))
        if actor_type != ActorType.staff:
            roles = frozenset()  # roles are staff roles; a system holds what its grant (scope) says
        scopes = scopes_for(actor_type, roles, str(claims.get("scope", "")).split())
        client_id = claims.get("client_id") or claims.get("azp")
        return Principal(
            subject=str(claims["sub"]),
            actor_type=actor_type,
            roles=roles,
            scopes=frozenset(s.value for s in scopes),
            agency=claims.get("agency"),
            client_id=str(client_id) if client_id else None,
            name=claims.get("name"),
        )


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A JWT that passed verification: its issuer, the key (and key id) that verified it, its claims and the
    principal they make."""

    issuer: TrustedIssuerKeys
    kid: str | None
    key: Any
    claims: dict[str, Any]
    principal: Principal


@dataclass
class EdgeAuthenticator:
    """Turns a bearer credential into a Principal, or refuses it (401) before any service is asked."""

    issuers: list[TrustedIssuerKeys]
    # A partner API token -> its Principal (raises Unauthenticated); None: partner tokens are refused.
    api_tokens: Callable[[str], Awaitable[Principal]] | None = None
    # The gateway's own issuer name, and a check that the client its token names is still registered.
    own_issuer: str | None = None
    client_is_active: Callable[[str], Awaitable[bool]] | None = None
    rate_limits: Any = None  # EdgeRateLimits
    _by_issuer: dict[str, TrustedIssuerKeys] = field(default_factory=dict)
    # Tokens verified already, by their exact text (see the module's docstring).
    _verified: LRUCache[str, VerifiedToken] = field(default_factory=lambda: LRUCache(maxsize=VERIFIED_TOKENS_KEPT))

    def __post_init__(self) -> None:
        self._by_issuer = {i.issuer: i for i in self.issuers}
        if len(self._by_issuer) != len(self.issuers):
            raise ValueError("two trusted issuers share a name")

    async def load(self) -> None:
        await asyncio.gather(*(issuer.load() for issuer in self.issuers))

    def issuer(self, name: str) -> TrustedIssuerKeys:
        return self._by_issuer[name]

    async def authenticate(self, token: str) -> Principal:
        principal = await self._identify(token)
        if self.rate_limits is not None:
            await self.rate_limits.check(principal)
        return principal

    async def _identify(self, token: str) -> Principal:
        if token.startswith(PARTNER_TOKEN_PREFIX):
            if self.api_tokens is None:
                raise Unauthenticated("API tokens are not accepted here")
            return await self.api_tokens(token)
        known = self._verified.get(token)
        if known is not None:
            try:
                holds = known.issuer.holds(known, time.time())
            except Unauthenticated:
                del self._verified[token]
                raise
            if not holds:
                del self._verified[token]
                known = None
        if known is None:
            known = await self._verify(token)
            if known.kid:
                self._verified[token] = known
        principal, issuer_name = known.principal, known.issuer.issuer
        if issuer_name == self.own_issuer and self.client_is_active is not None:
            if principal.client_id is None or not await self.client_is_active(principal.client_id):
                raise Unauthenticated("this client is no longer registered")
        return principal

    async def _verify(self, token: str) -> VerifiedToken:
        try:
            issuer_name = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from exc
        issuer = self._by_issuer.get(issuer_name) if isinstance(issuer_name, str) else None
        if issuer is None:
            raise Unauthenticated("token from an issuer this platform does not trust")
        claims, kid, key = await issuer.verified(token)
        return VerifiedToken(issuer, kid, key, claims, issuer.principal(claims))

    @property
    def issuer_names(self) -> Iterable[str]:
        return self._by_issuer.keys()
