"""Secrets the gateway hands out (partner API tokens, integration client secrets) and how it keeps them:
256 random bits behind a recognisable prefix, shown once; only the SHA-256 is stored. A slow password hash
is not needed for secrets of this entropy, and a plain digest can be looked up by an index."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request

from sop_shared.auth import Principal, bearer_token
from sop_shared.policy import ActorType, StaffRole
from sop_shared.problems import Forbidden

SECRET_BYTES = 32


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def display_prefix(secret: str, prefix: str) -> str:
    """Enough of the secret to tell tokens apart in a list (8 of its ~43 random characters)."""
    return secret[: len(prefix) + 8]


async def _edge_principal(request: Request) -> Principal:
    principal: Principal = await request.app.state.authenticator.authenticate(bearer_token(request))
    request.state.principal = principal
    return principal


EdgePrincipal = Annotated[Principal, Depends(_edge_principal)]


def require_admin(principal: Principal) -> None:
    """Credentials for other organisations and systems are issued by platform administrators (staff with the
    admin role), never by the callers themselves."""
    if principal.actor_type != ActorType.staff or StaffRole.admin not in principal.roles:
        raise Forbidden("only platform administrators manage API tokens and integration clients")
