"""The audit writer: append-only records of every access to case data, hash-chained so tampering shows.

Each record's hash covers its content and the previous record's hash. The chain head is one row that each
writer updates first (UPDATE ... RETURNING), which serialises appends on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.auth import Principal
from sop_shared.db import before_commit, utcnow
from sop_shared.ids import new_id
from sop_shared.platform_tables import PlatformTables

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    actor_subject: str
    actor_type: str
    resource: str
    action: str  # read | create | update | delete | decide
    case_id: uuid.UUID | None = None
    resource_id: str | None = None
    client_id: str | None = None
    fields: list[str] = field(default_factory=list)  # sensitive fields/labels returned
    purpose: str | None = None
    audience: str | None = None
    request_id: str | None = None

    @classmethod
    def for_principal(cls, principal: Principal, **kwargs: Any) -> AuditEntry:
        return cls(actor_subject=principal.subject, actor_type=principal.actor_type.value,
                   client_id=principal.client_id, **kwargs)


def _record_hash(prev_hash: str, seq: int, record_id: uuid.UUID, occurred_at: datetime, entry: AuditEntry) -> str:
    content = asdict(entry)
    content["case_id"] = str(entry.case_id) if entry.case_id else None
    canonical = json.dumps(
        {"seq": seq, "id": str(record_id), "occurred_at": occurred_at.isoformat(), "prev": prev_hash, **content},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class AuditWriter:
    tables: PlatformTables

    async def record(self, session: AsyncSession, entry: AuditEntry) -> int:
        """Append one record in the caller's transaction; returns its sequence number."""
        return (await self.record_many(session, [entry]))[0]

    async def record_many(self, session: AsyncSession, entries: list[AuditEntry]) -> list[int]:
        """Append records in order in the caller's transaction, in three statements however many there are
        (a bulk read of a caseload page audits each case); returns their sequence numbers. In a request's
        session the append waits until just before the commit (and returns []): the chain head is a row lock
        every request of the component queues on, so it is held from there to the commit only."""
        if not entries:
            return []
        if before_commit(session, lambda: self._append(session, entries)):
            return []
        return await self._append(session, entries)

    async def _append(self, session: AsyncSession, entries: list[AuditEntry]) -> list[int]:
        head = self.tables.audit_head
        advance = update(head).where(head.c.id == 1).values(seq=head.c.seq + len(entries)).returning(
            head.c.seq, head.c.hash)
        row = (await session.execute(advance)).first()
        if row is None:
            # The very first append: create the head (at 0) without racing another first append (a plain
            # INSERT made every concurrent first writer but one fail), then advance it like any other.
            await session.execute(_insert_ignoring_conflict(session, head).values(id=1, seq=0, hash=GENESIS_HASH))
            row = (await session.execute(advance)).one()
        first_seq, prev_hash = row.seq - len(entries) + 1, row.hash
        occurred_at, rows = utcnow(), []
        for seq, entry in enumerate(entries, start=first_seq):
            record_id = new_id()
            digest = _record_hash(prev_hash, seq, record_id, occurred_at, entry)
            rows.append({"seq": seq, "id": record_id, "occurred_at": occurred_at, "prev_hash": prev_hash,
                         "hash": digest, **asdict(entry)})
            prev_hash = digest
        await session.execute(insert(self.tables.audit), rows)
        await session.execute(update(head).where(head.c.id == 1).values(hash=prev_hash))
        return [r["seq"] for r in rows]

    async def verify(self, session: AsyncSession) -> ChainVerdict:
        """Recompute the chain from the start; report the first record that does not match."""
        audit = self.tables.audit
        prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
        result = await session.stream(select(audit).order_by(audit.c.seq))
        async for row in result:
            entry = AuditEntry(**{f: getattr(row, f) for f in AuditEntry.__dataclass_fields__})
            digest = _record_hash(prev_hash, row.seq, row.id, row.occurred_at, entry)
            if row.seq != expected_seq or row.prev_hash != prev_hash or row.hash != digest:
                return ChainVerdict(False, count, broken_at=row.seq)
            prev_hash, expected_seq, count = row.hash, expected_seq + 1, count + 1
        head = (await session.execute(select(self.tables.audit_head))).first()
        if head is not None and (head.seq != count or head.hash != prev_hash):
            return ChainVerdict(False, count, broken_at=count + 1 if head.seq > count else head.seq)
        return ChainVerdict(True, count)


def _insert_ignoring_conflict(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=["id"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["id"])
    return insert(table)


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    records: int
    broken_at: int | None = None


async def audit_request(request: Any, session: AsyncSession, principal: Principal, *, resource: str, action: str,
                        case_id: uuid.UUID | None = None, resource_id: Any = None,
                        fields: list[str] | None = None) -> None:
    """Audit an access made by the current request (its principal, client and request id)."""
    await audit_request_many(request, session, principal, [
        RequestAccess(resource=resource, action=action, case_id=case_id, resource_id=resource_id, fields=fields)])


@dataclass(frozen=True)
class RequestAccess:
    """One access of a request, for `audit_request_many` (e.g. one case of a bulk read)."""

    resource: str
    action: str
    case_id: uuid.UUID | None = None
    resource_id: Any = None
    fields: list[str] | None = None


async def audit_request_many(request: Any, session: AsyncSession, principal: Principal,
                             accesses: list[RequestAccess]) -> None:
    """Audit several accesses made by the current request, appended together (a constant number of
    statements for a bulk read, however many cases it covers)."""
    writer: AuditWriter = request.app.state.audit
    await writer.record_many(session, [AuditEntry.for_principal(
        principal, resource=a.resource, action=a.action, case_id=a.case_id,
        resource_id=str(a.resource_id) if a.resource_id is not None else None, fields=a.fields or [],
        request_id=getattr(request.state, "request_id", None),
        audience=request.headers.get("X-SOP-Audience"), purpose=request.headers.get("X-SOP-Purpose"),
    ) for a in accesses])
