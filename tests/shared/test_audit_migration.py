"""The migration that brings chain keys leaves the records written before it as they are, and they verify as
the chain's legacy prefix, followed by keyed records (docs/identity.md: not re-keyed, on purpose), on SQLite
and PostgreSQL, for every component's migration history."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from sqlalchemy import column, insert, select, table

from sop_shared.audit import GENESIS_HASH, AuditEntry, AuditWriter
from sop_shared.audit_keys import AuditKeyring
from sop_shared.component import load_component
from sop_shared.db import Database, utcnow
from sop_shared.migrations import upgrade

# Runs on SQLite too by default: migrations on SQLite (batch mode).
pytestmark = pytest.mark.sqlite_smoke

# The last revision of each component before chain keys.
BEFORE_KEYS = {
    "network": "e768f203f2be",
    "assessment": "05512dfe5168",
    "plans": "d0168d82a932",
    "gateway": "9c464fe6e5b0",
}
KEYRING = AuditKeyring({"k-2026": bytes(range(100, 132))}, "k-2026")


def plain_hash(prev: str, seq: int, record_id: uuid.UUID, occurred_at: object, content: dict) -> str:
    canonical = json.dumps(
        {"seq": seq, "id": str(record_id), "occurred_at": occurred_at.isoformat(), "prev": prev, **content},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize("name", list(BEFORE_KEYS))
async def test_records_from_before_keys_survive_the_migration_and_verify(database_url: str, name: str) -> None:
    component = load_component(name)
    await upgrade(component.package, database_url, BEFORE_KEYS[name])
    audit, head = component.metadata.tables["audit_record"], component.metadata.tables["audit_chain_head"]
    # the table as it was before the migration: no key columns yet
    legacy_table = table(
        audit.name, *[column(c.name, c.type) for c in audit.c if c.name not in ("key_id", "client_request_id")]
    )
    database = Database(database_url)
    try:
        prev, occurred_at = GENESIS_HASH, utcnow()
        async with database.session() as session:
            for seq in (1, 2, 3):
                content = {
                    "actor_subject": "fsw.rivera",
                    "actor_type": "staff",
                    "resource": "case",
                    "action": "read",
                    "case_id": None,
                    "resource_id": f"r{seq}",
                    "client_id": None,
                    "fields": [],
                    "purpose": "whatever a client once sent",
                    "audience": None,
                    "request_id": f"client-chosen-{seq}",
                }
                record_id = uuid.uuid4()
                digest = plain_hash(prev, seq, record_id, occurred_at, content)
                await session.execute(
                    insert(legacy_table).values(
                        seq=seq, id=record_id, occurred_at=occurred_at, prev_hash=prev, hash=digest, **content
                    )
                )
                prev = digest
            await session.execute(insert(head).values(id=1, seq=3, hash=prev))
        await upgrade(component.package, database_url)
        tables = type("Tables", (), {"audit": audit, "audit_head": head})()
        writer = AuditWriter(tables, KEYRING)  # type: ignore[arg-type]
        async with database.session() as session:
            verdict = await writer.verify(session)
            assert verdict.intact and verdict.records == 3 and verdict.legacy_records == 3
            await writer.record(
                session,
                AuditEntry(
                    actor_subject="sup.okafor",
                    actor_type="staff",
                    resource="case",
                    action="read",
                    purpose="supervision",
                    client_request_id="c-1",
                ),
            )
        async with database.session() as session:
            verdict = await writer.verify(session)
            assert verdict.intact and verdict.records == 4 and verdict.legacy_records == 3
            rows = (
                await session.execute(select(audit.c.key_id, audit.c.client_request_id).order_by(audit.c.seq))
            ).all()
        assert [tuple(r) for r in rows] == [(None, None)] * 3 + [("k-2026", "c-1")]
    finally:
        await database.dispose()
