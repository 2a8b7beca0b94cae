"""Integration clients and the gateway's own short-lived access tokens."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_gateway.api_tokens.rules import scope_errors
from sop_gateway.credentials import new_secret, secret_hash, secret_matches
from sop_gateway.models import IntegrationClient
from sop_shared.auth import ACTOR_TYPE_CLAIM
from sop_shared.db import Database, utcnow
from sop_shared.ids import new_id
from sop_shared.keys import SigningKey
from sop_shared.pagination import PageRequest
from sop_shared.policy import ACTOR_SCOPE_CEILING, ActorType
from sop_shared.problems import Conflict, InvalidInput, NotFound

CLIENT_SECRET_PREFIX = "sopc_"
CLIENT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{2,62}$")
INTEGRATION_SCOPES = frozenset(s.value for s in ACTOR_SCOPE_CEILING[ActorType.integration])


@dataclass
class GatewayTokenSigner:
    """Signs the gateway's own access tokens (EdDSA); its public key is the gateway issuer's JWKS."""

    key: SigningKey
    issuer: str
    audience: str
    lifetime_seconds: int

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}

    def mint(self, client: IntegrationClient, scopes: list[str]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client.client_id,
            "client_id": client.client_id,
            "name": client.name,
            ACTOR_TYPE_CLAIM: ActorType.integration.value,
            "scope": " ".join(scopes),
            "iat": now,
            "nbf": now - 1,
            "exp": now + self.lifetime_seconds,
            "jti": str(new_id()),
        }
        return jwt.encode(claims, self.key.private_key, algorithm="EdDSA", headers={"kid": self.key.kid})


async def register_client(
    session: AsyncSession, *, client_id: str, name: str, scopes: list[str], created_by: str
) -> tuple[IntegrationClient, str]:
    errors = scope_errors(scopes, INTEGRATION_SCOPES)
    if not CLIENT_ID_PATTERN.match(client_id):
        errors.insert(0, {"field": "client_id", "message": "3-63 characters: lower-case letters, digits, '.', '-'"})
    if errors:
        raise InvalidInput(errors)
    existing = (
        await session.execute(select(col(IntegrationClient.id)).where(col(IntegrationClient.client_id) == client_id))
    ).first()
    if existing is not None:
        raise Conflict(f"a client {client_id!r} is already registered")
    secret = new_secret(CLIENT_SECRET_PREFIX)
    client = IntegrationClient(
        client_id=client_id,
        name=name,
        secret_hash=secret_hash(secret),
        scopes=sorted(set(scopes)),
        created_by=created_by,
    )
    session.add(client)
    await session.flush()
    return client, secret


async def list_clients(session: AsyncSession, page: PageRequest) -> list[IntegrationClient]:
    return list((await session.execute(page.apply(select(IntegrationClient), col(IntegrationClient.id)))).scalars())


async def revoke_client(session: AsyncSession, client_uuid: uuid.UUID, revoked_by: str) -> IntegrationClient:
    client = await session.get(IntegrationClient, client_uuid)
    if client is None:
        raise NotFound("no such integration client")
    if client.revoked_at is None:
        client.revoked_at, client.revoked_by = utcnow(), revoked_by
        await session.flush()
    return client


async def client_for_credentials(session: AsyncSession, client_id: str, secret: str) -> IntegrationClient | None:
    """The live client these credentials prove, or None (unknown id, wrong secret, revoked: all alike)."""
    client = (
        await session.execute(select(IntegrationClient).where(col(IntegrationClient.client_id) == client_id))
    ).scalar_one_or_none()
    # Compare against something even for an unknown id, so timing does not tell ids apart.
    stored = client.secret_hash if client is not None else secret_hash("")
    if not secret_matches(secret, stored) or client is None or client.revoked_at is not None:
        return None
    await session.execute(
        update(IntegrationClient).where(col(IntegrationClient.id) == client.id).values(last_used_at=utcnow())
    )
    return client


async def client_is_active(database: Database, client_id: str) -> bool:
    async with database.session() as session:
        revoked = (
            await session.execute(
                select(col(IntegrationClient.revoked_at)).where(col(IntegrationClient.client_id) == client_id)
            )
        ).first()
    return revoked is not None and revoked[0] is None
