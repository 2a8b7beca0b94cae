"""Authentication at the edge: staff bearer JWTs from the configured OIDC issuer, verified against its JWKS
(rotation: an unknown key id triggers one refresh of a JWKS URL), turned into a Principal."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from sop_shared.auth import CLOCK_SKEW_SECONDS, Principal
from sop_shared.policy import ActorType, scopes_for
from sop_shared.problems import Unauthenticated

ALGORITHMS = ["EdDSA", "RS256", "ES256", "PS256"]
JWKS_REFRESH_MIN_SECONDS = 30


@dataclass
class EdgeAuthenticator:
    issuer: str
    audience: str
    jwks_file: Path | None = None
    jwks_url: str = ""
    _keys: dict[str, Any] = field(default_factory=dict)
    _fetched_at: float = 0.0

    async def load(self) -> None:
        if self.jwks_file is not None:
            self._set(jwt.PyJWKSet.from_json(self.jwks_file.read_text()))
        elif self.jwks_url:
            await self._refresh()

    def _set(self, jwks: jwt.PyJWKSet) -> None:
        self._keys = {k.key_id: k for k in jwks.keys if k.key_id}

    async def _refresh(self) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
        self._set(jwt.PyJWKSet.from_dict(response.json()))
        self._fetched_at = time.monotonic()

    async def _key(self, kid: str | None) -> Any:
        if kid and kid in self._keys:
            return self._keys[kid]
        if self.jwks_url and time.monotonic() - self._fetched_at > JWKS_REFRESH_MIN_SECONDS:
            await self._refresh()
            if kid and kid in self._keys:
                return self._keys[kid]
        raise Unauthenticated("token signed by an unknown key")

    async def authenticate(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            jwk = await self._key(header.get("kid"))
            claims = jwt.decode(token, jwk.key, algorithms=[jwk.algorithm_name] if jwk.algorithm_name else ALGORITHMS,
                                audience=self.audience, issuer=self.issuer, leeway=CLOCK_SKEW_SECONDS,
                                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except Unauthenticated:
            raise
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from exc
        try:
            actor_type = ActorType(claims.get("act", "staff"))
        except ValueError as exc:
            raise Unauthenticated("unknown actor type") from exc
        if actor_type not in (ActorType.staff, ActorType.integration):
            # Partner, family and network principals arrive through their own credentials (API tokens).
            raise Unauthenticated("this issuer may only vouch for staff and integration clients")
        roles = frozenset(r for r in claims.get("roles", []) if isinstance(r, str))
        scopes = scopes_for(actor_type, roles, str(claims.get("scope", "")).split())
        return Principal(subject=str(claims["sub"]), actor_type=actor_type, roles=roles,
                         scopes=frozenset(s.value for s in scopes), agency=claims.get("agency"),
                         client_id=claims.get("client_id") or claims.get("azp"), name=claims.get("name"))
