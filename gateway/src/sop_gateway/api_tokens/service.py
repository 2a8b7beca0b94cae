"""Partner API tokens in the gateway's database: issue, list, revoke, and authenticate by hash."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_gateway.api_tokens.rules import PARTNER_SCOPES, expiry_errors, is_live, scope_errors
from sop_gateway.credentials import display_prefix, new_secret, secret_hash
from sop_gateway.identity import PARTNER_TOKEN_PREFIX
from sop_gateway.models import ApiToken
from sop_shared.auth import Principal
from sop_shared.db import Database, utcnow
from sop_shared.pagination import PageRequest
from sop_shared.policy import ActorType, scopes_for
from sop_shared.problems import InvalidInput, NotFound, Unauthenticated

# `last_used_at` is written at most this often per token, so that reads do not become writes.
LAST_USED_RESOLUTION = timedelta(seconds=60)


async def issue_token(
    session: AsyncSession,
    *,
    agency: str,
    purpose: str,
    scopes: list[str],
    expires_at: datetime,
    created_by: str,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    now = now or utcnow()
    errors = [*scope_errors(scopes, PARTNER_SCOPES), *expiry_errors(expires_at, now)]
    if errors:
        raise InvalidInput(errors)
    secret = new_secret(PARTNER_TOKEN_PREFIX)
    token = ApiToken(
        secret_hash=secret_hash(secret),
        display_prefix=display_prefix(secret, PARTNER_TOKEN_PREFIX),
        agency=agency,
        purpose=purpose,
        scopes=sorted(set(scopes)),
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return token, secret


async def list_tokens(session: AsyncSession, page: PageRequest, agency: str | None) -> list[ApiToken]:
    query = select(ApiToken)
    if agency:
        query = query.where(col(ApiToken.agency) == agency)
    return list((await session.execute(page.apply(query, col(ApiToken.id)))).scalars())


async def revoke_token(session: AsyncSession, token_id: uuid.UUID, revoked_by: str) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("no such API token")
    if token.revoked_at is None:  # revoking twice keeps the first revocation
        token.revoked_at, token.revoked_by = utcnow(), revoked_by
        await session.flush()
    return token


def principal_for(token: ApiToken) -> Principal:
    scopes = scopes_for(ActorType.partner, (), token.scopes)
    return Principal(
        subject=f"api-token:{token.id}",
        actor_type=ActorType.partner,
        scopes=frozenset(s.value for s in scopes),
        agency=token.agency,
        client_id=f"api-token:{token.id}",
        name=token.purpose,
    )


async def authenticate_api_token(database: Database, secret: str) -> Principal:
    """The Principal of a live token; any other token (unknown, expired, revoked) is the same 401."""
    now = utcnow()
    async with database.session() as session:
        token = (
            await session.execute(select(ApiToken).where(col(ApiToken.secret_hash) == secret_hash(secret)))
        ).scalar_one_or_none()
        if token is None or not is_live(token.expires_at, token.revoked_at, now):
            raise Unauthenticated("unknown, expired or revoked API token")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            await session.execute(update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used_at=now))
        return principal_for(token)
