"""Tables every component keeps in its own database: outbox, processed events, idempotency keys, audit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from sop_shared.db import UTCDateTime
from sop_shared.tracing import current_trace_context


@dataclass(frozen=True)
class PlatformTables:
    outbox: Table
    processed_events: Table
    idempotency: Table
    audit: Table
    audit_head: Table


def define_platform_tables(metadata: MetaData) -> PlatformTables:
    """Declare the shared tables on a component's own MetaData, so its migrations create them."""
    outbox = Table(
        "outbox_event",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("case_id", Uuid, nullable=True),
        Column("payload", JSON, nullable=False),
        Column("occurred_at", UTCDateTime, nullable=False),
        Column("published_at", UTCDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        # The producing write's trace context ("traceparent[;tracestate]"), sent in the message's headers; taken
        # from the writing request by default, so every writer of outbox rows (emit, bulk inserts) keeps it.
        Column("trace_context", String(600), nullable=True, default=current_trace_context),
        Index("ix_outbox_event_unpublished", "published_at", "id"),
    )
    processed = Table(
        "processed_event",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("processed_at", UTCDateTime, nullable=False),
    )
    idempotency = Table(
        "idempotency_record",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("principal_subject", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("method", String(10), nullable=False),
        Column("path", String(500), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response_body", JSON, nullable=False),
        Column("response_headers", JSON, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        UniqueConstraint("principal_subject", "key"),
    )
    audit = Table(
        "audit_record",
        metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
        Column("id", Uuid, nullable=False, unique=True),
        Column("occurred_at", UTCDateTime, nullable=False),
        Column("actor_subject", String(200), nullable=False),
        Column("actor_type", String(20), nullable=False),
        Column("client_id", String(200), nullable=True),
        Column("case_id", Uuid, nullable=True, index=True),
        Column("resource", String(100), nullable=False),
        Column("resource_id", String(100), nullable=True),
        Column("action", String(20), nullable=False),
        Column("fields", JSON, nullable=False),
        Column("purpose", String(200), nullable=True),
        Column("audience", String(20), nullable=True),
        Column("request_id", String(100), nullable=True),
        Column("client_request_id", String(128), nullable=True),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        # The chain key the hash is an HMAC under; NULL for the legacy (plain SHA-256) records before keys.
        Column("key_id", String(40), nullable=True),
        # The OpenTelemetry trace id of the request (or event) that wrote the record: logs and spans by it.
        Column("trace_id", String(32), nullable=True),
    )
    audit_head = Table(
        "audit_chain_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
        Column("hash", String(64), nullable=False),
    )
    return PlatformTables(outbox, processed, idempotency, audit, audit_head)


def platform_tables_of(metadata: MetaData) -> PlatformTables:
    """The shared tables a component already declared on its MetaData (e.g. for `sop audit verify`)."""
    t = metadata.tables
    return PlatformTables(
        t["outbox_event"], t["processed_event"], t["idempotency_record"], t["audit_record"], t["audit_chain_head"]
    )
