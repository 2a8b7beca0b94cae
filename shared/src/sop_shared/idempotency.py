"""`Idempotency-Key` on creates: a repeat with the same key and body returns the first response and
creates nothing; the same key with another body is refused (422)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.auth import CurrentPrincipal, Principal
from sop_shared.db import utcnow
from sop_shared.ids import new_id
from sop_shared.platform_tables import PlatformTables
from sop_shared.problems import InvalidInput

MAX_KEY_LENGTH = 200


def request_fingerprint(body: Any) -> str:
    canonical = json.dumps(jsonable_encoder(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class IdempotentCreate:
    key: str | None
    subject: str
    method: str
    path: str
    tables: PlatformTables

    async def replay(self, session: AsyncSession, body: Any) -> JSONResponse | None:
        """The stored first response for this key, if any (refusing a different body under the same key)."""
        if self.key is None:
            return None
        await _wait_for_same_key(session, self.subject, self.key)
        table = self.tables.idempotency
        row = (
            await session.execute(
                select(table).where(table.c.principal_subject == self.subject, table.c.key == self.key)
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != request_fingerprint(body) or row.path != self.path:
            raise InvalidInput.field("Idempotency-Key", "this key was already used with a different request")
        headers = dict(row.response_headers or {})
        headers["Idempotent-Replayed"] = "true"
        return JSONResponse(row.response_body, status_code=row.status_code, headers=headers)

    async def replay_audited(
        self, request: Any, session: AsyncSession, principal: Principal, body: Any, *, resource: str, case_id: Any
    ) -> JSONResponse | None:
        """`replay`, and a replayed response audited as a read of the record it names (its `id`)."""
        replayed = await self.replay(session, body)
        if replayed is not None:
            from sop_shared.audit import audit_request  # the audit writer imports this module's neighbours

            resource_id = json.loads(bytes(replayed.body)).get("id")
            await audit_request(
                request, session, principal, resource=resource, action="read", case_id=case_id, resource_id=resource_id
            )
        return replayed

    async def remember(
        self, session: AsyncSession, body: Any, *, status_code: int, content: Any, headers: dict[str, str] | None = None
    ) -> None:
        if self.key is None:
            return
        await session.execute(
            insert(self.tables.idempotency).values(
                id=new_id(),
                principal_subject=self.subject,
                key=self.key,
                method=self.method,
                path=self.path,
                request_hash=request_fingerprint(body),
                status_code=status_code,
                response_body=jsonable_encoder(content),
                response_headers=headers or {},
                created_at=utcnow(),
            )
        )


async def _wait_for_same_key(session: AsyncSession, subject: str, key: str) -> None:
    """Hold this key for the rest of the transaction. A repeat that arrives while the first request is still
    being written (the gateway timed out and asked again, or the client did) waits here until the first
    commits, then finds its stored response and replays it, instead of writing the record a second time or
    failing on the unique key. SQLite needs nothing: its single connection already serialises transactions."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:subject || ' ' || :key, 0))"),
            {"subject": subject, "key": key},
        )


async def _idempotent_create(
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> IdempotentCreate:
    """Keys are per principal: one caller's key can never replay another caller's response."""
    if idempotency_key is not None and not (0 < len(idempotency_key) <= MAX_KEY_LENGTH):
        raise InvalidInput.field("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    return IdempotentCreate(
        key=idempotency_key,
        subject=f"{principal.actor_type.value}:{principal.subject}",
        method=request.method,
        path=request.url.path,
        tables=request.app.state.platform,
    )


IdempotencyDep = Annotated[IdempotentCreate, Depends(_idempotent_create)]
