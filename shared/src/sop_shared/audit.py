"""The audit writer: append-only records of every access to case data, keyed and chained so tampering shows.

Each record's hash is an HMAC-SHA256, under the component's current chain key (its id is stored on the row),
of the record's content and the previous record's hash. The keys live in files, not in the database, so
someone who can write the database can neither rewrite a record and re-hash the rest nor forge a new one.
The chain head is one row that each writer updates first (UPDATE ... RETURNING), which serialises appends
on PostgreSQL and SQLite alike.

Cutting off the tail (or rewriting the chain with a stolen key) is caught by checkpoints: the component
periodically signs its chain head (sequence number and hash) with its Ed25519 key and publishes it to
JetStream (`sop.<component>.audit.checkpoint`), which the database's writers cannot rewrite; `verify`
compares the chain with the newest checkpoint.

Records written before chain keys existed (no key id) were plain SHA-256. They still verify, but only as the
chain's first, *legacy* part: an unkeyed record after a keyed one breaks the chain (docs/identity.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol

import orjson
import structlog
from cryptography.exceptions import InvalidSignature
from sqlalchemy import String, bindparam, cast, exists, func, insert, select, union_all, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.audit_keys import AuditKeyring, AuditKeys, load_audit_keys
from sop_shared.auth import Principal
from sop_shared.compiled_statements import CompiledStatement
from sop_shared.db import after_reads, before_commit, utcnow
from sop_shared.events import Event, EventBus
from sop_shared.ids import new_id
from sop_shared.keys import SigningKey
from sop_shared.observability import ComponentMetrics, client_request_id_var, purpose_var, request_id_var
from sop_shared.platform_tables import PlatformTables
from sop_shared.problems import ServiceUnavailable
from sop_shared.tracing import current_trace_id

log = structlog.get_logger("sop.audit")

GENESIS_HASH = "0" * 64
# The most records appended by a statement of their own count (`AuditWriter._append_if_head`), each value a
# parameter; more are one statement of arrays. Each count is a statement of its own, kept compiled and prepared on
# every pooled connection: 1 to 64 held some 76 MB of statements alone (the network service's RSS grew by 17 MB in
# one bench run), 1 to 8 under 2 MB.
MOST_RECORDS_IN_ONE_STATEMENT = 8
CHECKPOINT_NAMESPACE = uuid.UUID("5b0f3d0e-6a51-4c57-9b7e-2a0d3f6c1a11")


class AccessPurpose(StrEnum):
    """Why a caller looks at or changes a family's record (header `X-SOP-Purpose`). A closed set, so audits
    can be grouped and questioned; each is described in docs/identity.md. Anything else is refused (422)."""

    casework = "casework"  # assessing, planning, visiting: a worker's everyday work on an assigned case
    supervision = "supervision"  # a supervisor reviewing, consulting or approving
    family_participation = "family_participation"  # the family or its network reading their own plan
    partner_service = "partner_service"  # a partner agency delivering a service under its grant
    court = "court"  # preparing for, or reporting to, a court hearing
    audit = "audit"  # an auditor or quality reviewer examining the record or its trail
    records_sync = "records_sync"  # SACWIS and other system-to-system synchronisation
    emergency = "emergency"  # an urgent safety concern outside the usual assignment


@dataclass(frozen=True)
class AuditEntry:
    actor_subject: str
    actor_type: str
    resource: str
    action: str  # read | create | update | delete | decide | denied
    case_id: uuid.UUID | None = None
    resource_id: str | None = None
    client_id: str | None = None
    fields: list[str] = field(default_factory=list)  # sensitive fields/labels returned
    purpose: str | None = None  # an AccessPurpose value
    audience: str | None = None
    request_id: str | None = None  # the id the gateway generated for the request
    client_request_id: str | None = None  # the caller's own id for it (bounded, safe characters)
    trace_id: str | None = None  # the OpenTelemetry trace of the request (or event) that wrote it

    @classmethod
    def for_principal(cls, principal: Principal, **kwargs: Any) -> AuditEntry:
        """An access by `principal`; the request ids and the declared purpose come from the current request
        unless given."""
        kwargs.setdefault("request_id", request_id_var.get())
        kwargs.setdefault("client_request_id", client_request_id_var.get())
        kwargs.setdefault("purpose", purpose_var.get())
        return cls(
            actor_subject=principal.subject,
            actor_type=principal.actor_type.value,
            client_id=principal.client_id,
            **kwargs,
        )


# The content fields of the first (unkeyed) records: their hashes cover exactly these.
_LEGACY_FIELDS = (
    "actor_subject",
    "actor_type",
    "resource",
    "action",
    "case_id",
    "resource_id",
    "client_id",
    "fields",
    "purpose",
    "audience",
    "request_id",
)
_ENTRY_FIELDS = tuple(f.name for f in fields(AuditEntry))
_RECORD_COLUMNS = ("seq", "id", "occurred_at", "prev_hash", "hash", "key_id", *_ENTRY_FIELDS)


def _values(entry: AuditEntry) -> dict[str, Any]:
    """The entry's fields by name: `asdict` without its deep copy (the values are strings, ids, times and lists
    of strings nothing here changes), which a caseload page's 50 records a request made noticeable."""
    return {name: getattr(entry, name) for name in _ENTRY_FIELDS}


def _canonical(
    prev_hash: str, seq: int, record_id: uuid.UUID, occurred_at: datetime, entry: AuditEntry, key_id: str | None
) -> bytes:
    content = _values(entry)
    content["case_id"] = str(entry.case_id) if entry.case_id else None
    if content.get("trace_id") is None:  # records from before trace ids hash as they did
        content.pop("trace_id", None)
    if key_id is None:
        content = {k: content[k] for k in _LEGACY_FIELDS}
    else:
        content["key_id"] = key_id
    return canonical_json(
        {"seq": seq, "id": str(record_id), "occurred_at": occurred_at.isoformat(), "prev": prev_hash, **content}
    )


def canonical_json(document: dict[str, Any]) -> bytes:
    """The bytes a record's hash covers: `json.dumps(document, sort_keys=True, separators=(",", ":"))`, ASCII
    with every other character escaped, as the chain has always hashed them. orjson writes the same bytes, several
    times faster, for what a record holds (strings, integers, None, lists of strings) as long as they are ASCII
    without DEL (it writes other characters as UTF-8); anything else is left to the standard library."""
    if all(_plain(value) for value in document.values()):
        try:
            written = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer beyond 64 bits
            pass
        else:
            if written.isascii() and b"\x7f" not in written:
                return written
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _plain(value: Any) -> bool:
    """A value orjson and `json.dumps` write alike (but for their characters): a str, an int (not a bool), None,
    or a list of str. Not their subclasses, floats, or what orjson writes and the standard library refuses (UUIDs,
    datetimes)."""
    kind = type(value)
    return kind is str or kind is int or value is None or (kind is list and all(type(v) is str for v in value))


def _legacy_hash(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()


@dataclass(frozen=True)
class AuditCheckpoint:
    """A signed statement "the chain of `component` had `seq` records ending in `head_hash` at `at`"."""

    component: str
    seq: int
    head_hash: str
    at: datetime
    key_id: str  # the Ed25519 signing key's id (kid in the component's audit JWKS)
    signature: str = ""  # base64url Ed25519 signature over `signed_bytes()`

    def signed_bytes(self) -> bytes:
        return json.dumps(
            {
                "component": self.component,
                "seq": self.seq,
                "head_hash": self.head_hash,
                "at": self.at.isoformat(),
                "key_id": self.key_id,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def sign(cls, key: SigningKey, *, component: str, seq: int, head_hash: str, at: datetime) -> AuditCheckpoint:
        unsigned = cls(component, seq, head_hash, at, key.kid)
        signature = base64.urlsafe_b64encode(key.private_key.sign(unsigned.signed_bytes())).decode()
        return cls(component, seq, head_hash, at, key.kid, signature)

    def signature_valid(self, public_keys: dict[str, Any]) -> bool:
        key = public_keys.get(self.key_id)
        if key is None:
            return False
        try:
            key.verify(base64.urlsafe_b64decode(self.signature.encode()), self.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "at": self.at.isoformat(),
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditCheckpoint:
        return cls(
            str(data["component"]),
            int(data["seq"]),
            str(data["head_hash"]),
            datetime.fromisoformat(data["at"]),
            str(data["key_id"]),
            str(data["signature"]),
        )

    def to_event(self) -> Event:
        # The same head published twice (two replicas, a restart) is one message: JetStream de-duplicates by id.
        event_id = uuid.uuid5(CHECKPOINT_NAMESPACE, f"{self.component}:{self.seq}:{self.head_hash}")
        return Event(id=event_id, subject=checkpoint_subject(self.component), occurred_at=self.at, data=self.to_dict())


def checkpoint_subject(component: str) -> str:
    return f"sop.{component}.audit.checkpoint"


class CheckpointBus(Protocol):
    """What the trail needs of a bus: publish (an `EventBus`, or the trail's own lazily connected one).
    Reading the newest checkpoint also uses `last_event` where the bus has it."""

    async def publish(self, event: Event) -> None: ...


async def newest_checkpoint(bus: CheckpointBus, component: str) -> AuditCheckpoint | None:
    """The newest checkpoint the bus holds for `component` (None if it never published one)."""
    last_event = getattr(bus, "last_event", None)
    if last_event is None:
        return None
    event = await last_event(checkpoint_subject(component))
    return AuditCheckpoint.from_dict(event.data) if event is not None else None


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    records: int
    broken_at: int | None = None
    reason: str | None = None
    legacy_records: int = 0  # records from before chain keys (plain SHA-256), all at the start
    checkpoint_seq: int | None = None  # the newest checkpoint the chain was compared with
    checkpoint_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["checkpoint_at"] = self.checkpoint_at.isoformat() if self.checkpoint_at else None
        return body


@dataclass
class AuditWriter:
    tables: PlatformTables
    keyring: AuditKeyring | None = None  # None only until the app's lifespan loads the keys
    # The records waiting to be appended apart, and the task appending them (`record_apart`).
    _waiting: list[tuple[list[AuditEntry], asyncio.Future[list[int]]]] = field(default_factory=list, repr=False)
    _appending: asyncio.Task[None] | None = field(default=None, repr=False)
    # The chain head as this process last advanced it (seq, hash): where its next append expects to go.
    _head: tuple[int, str] | None = field(default=None, repr=False)
    _append_if_head_statements: dict[int, CompiledStatement] = field(default_factory=dict, repr=False)

    def _keys(self) -> AuditKeyring:
        if self.keyring is None:
            raise RuntimeError("audit chain keys are not loaded (the app has not started)")
        return self.keyring

    async def record(self, session: AsyncSession, entry: AuditEntry) -> int:
        """Append one record in the caller's transaction; returns its sequence number."""
        return (await self.record_many(session, [entry]))[0]

    async def record_many(self, session: AsyncSession, entries: list[AuditEntry]) -> list[int]:
        """Append records in order in the caller's transaction, in a fixed number of statements however many
        there are (a bulk read of a caseload page audits each case): advance the head and read its hash, insert
        the records, set the head's hash (for one record on PostgreSQL the last two are one statement); returns
        their sequence numbers. In a request's
        session the append waits until just before the commit (and returns []): the chain head is a row lock
        every request of the component queues on, so it is held from there to the commit only. In a read
        session (`Database.read_session`) it waits until the reads are done and is made in a unit of its own
        (`record_apart`), still before the response."""
        if not entries:
            return []
        for entry in entries:
            if entry.purpose is not None:
                AccessPurpose(entry.purpose)  # the edge refuses others (422); reaching here is a bug
        if after_reads(session, lambda database: self.record_apart(database, entries)):
            return []
        if before_commit(session, lambda: self._append(session, entries)):
            return []
        return await self._append(session, entries)

    async def record_apart(self, database: Any, entries: list[AuditEntry]) -> list[int]:
        """Append records in a unit of their own (a read's, after its reads; an access audited with no
        transaction of its own to join), waiting until they are stored; returns their sequence numbers. The
        records of this process asked for meanwhile are appended together, by one task, one unit after another
        (see `_append_waiting`): they wait for one round trip, not for each other's row lock."""
        if not entries:
            return []
        trace_id = current_trace_id()  # the caller's: the append runs in a task of its own
        entries = [entry if entry.trace_id or not trace_id else replace(entry, trace_id=trace_id) for entry in entries]
        loop = asyncio.get_running_loop()
        stored: asyncio.Future[list[int]] = loop.create_future()
        self._waiting.append((entries, stored))
        if self._appending is None or self._appending.done() or self._appending.get_loop() is not loop:
            # In a context of its own: it appends other requests' records too, so it carries none's trace.
            self._appending = asyncio.create_task(
                self._append_waiting(database), name="audit-append-apart", context=contextvars.Context()
            )
        return await stored

    async def _append_waiting(self, database: Any) -> None:
        """Append the waiting records, all of them at once, until none wait; each waiter gets its sequence
        numbers, or the error that stopped its append (its request fails: nothing shown unaudited). When
        appending them together fails, each waiter's records are appended alone, so that one request's record
        the database refuses fails that request only."""
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self._append_batch(database, batch)
            except Exception:
                if len(batch) == 1:
                    continue
                for one in batch:
                    with contextlib.suppress(Exception):  # told to its waiter
                        await self._append_batch(database, [one])

    async def _append_batch(
        self, database: Any, batch: list[tuple[list[AuditEntry], asyncio.Future[list[int]]]]
    ) -> None:
        try:
            seqs = await self._append_apart(database, [e for entries, _ in batch for e in entries])
        except BaseException as exc:
            if isinstance(exc, Exception) and len(batch) > 1:
                raise  # appended one by one, each waiter told its own outcome
            for _, stored in batch:
                if stored.done():
                    continue
                if isinstance(exc, Exception):
                    stored.set_exception(exc)
                else:
                    stored.cancel()
            raise
        at = 0
        for entries, stored in batch:
            if not stored.done():
                stored.set_result(seqs[at : at + len(entries)])
            at += len(entries)

    async def _append_apart(self, database: Any, entries: list[AuditEntry]) -> list[int]:
        """Append in a unit of their own: on PostgreSQL one statement where this process knows the chain head
        (the usual case: it wrote the last record), however many records, else a transaction that reads the head
        under its lock."""
        if self._head is not None and database.dialect == "postgresql":
            seqs = await self._append_if_head(database, entries, self._head)
            if seqs:
                return seqs
        async with database.session() as session:
            return await self._append(session, entries)

    async def _append_if_head(self, database: Any, entries: list[AuditEntry], head: tuple[int, str]) -> list[int]:
        """One statement, its own transaction: advance the chain head from `head` (seq, hash) to the new
        records' last and insert them, chained from `head`, only if the head is still `head` (another process
        or a write's transaction may have moved it: then nothing is written and [] returned). The compare is
        made under the head's row lock, after any transaction holding it has ended, so two appends never
        chain from the same record. Up to MOST_RECORDS_IN_ONE_STATEMENT records are a statement of their count,
        each value a parameter; more, the statement of arrays (`_append_many_if_head_statement`)."""
        rows = self._chained(entries, first_seq=head[0] + 1, prev_hash=head[1])
        values: dict[str, Any] = {"head_seq": head[0], "head_hash": head[1], "new_seq": rows[-1]["seq"]}
        values["new_hash"] = rows[-1]["hash"]
        if len(rows) <= MOST_RECORDS_IN_ONE_STATEMENT:
            statement = self._append_if_head_statement(len(rows))
            for i, row in enumerate(rows):
                values.update({f"r{i}_{k}": v for k, v in row.items()})
        else:
            statement = self._append_many_if_head_statement
            for column in _RECORD_COLUMNS:
                values[f"records_{column}"] = [row[column] for row in rows]
        async with database.read_engine.connect() as connection:  # AUTOCOMMIT: the statement commits itself
            appended = await statement.rows(connection, values)
        if len(appended) != len(rows):
            self._head = None
            return []
        self._head = (rows[-1]["seq"], rows[-1]["hash"])
        return [r["seq"] for r in rows]

    def _head_advanced(self) -> Any:
        """The CTE that advances the chain head to (`new_seq`, `new_hash`) if it is still (`head_seq`,
        `head_hash`), returning its row then (none otherwise)."""
        head = self.tables.audit_head
        return (
            update(head)
            .where(
                head.c.id == 1,
                head.c.seq == bindparam("head_seq", type_=head.c.seq.type),
                head.c.hash == bindparam("head_hash", type_=head.c.hash.type),
            )
            .values(seq=bindparam("new_seq", type_=head.c.seq.type), hash=bindparam("new_hash", type_=head.c.hash.type))
            .returning(head.c.id)
            .cte("advanced")
        )

    def _append_if_head_statement(self, count: int) -> CompiledStatement:
        """`count` records inserted by a data-modifying CTE that advances the head if it is where it was; all
        values bound parameters, so it is compiled once per count (and run as asyncpg's prepared statement)."""
        statement = self._append_if_head_statements.get(count)
        if statement is not None:
            return statement
        audit, advanced = self.tables.audit, self._head_advanced()
        records = [
            select(*(bindparam(f"r{i}_{c}", type_=audit.c[c].type).label(c) for c in _RECORD_COLUMNS))
            for i in range(count)
        ]
        source = (records[0] if count == 1 else union_all(*records)).subquery("records")
        statement = CompiledStatement(
            insert(audit)
            .from_select(_RECORD_COLUMNS, select(*source.c).where(exists(select(advanced.c.id))))
            .returning(audit.c.seq)
        )
        self._append_if_head_statements[count] = statement
        return statement

    @cached_property
    def _append_many_if_head_statement(self) -> CompiledStatement:
        """Any number of records inserted by a data-modifying CTE that advances the head if it is where it was,
        the records given as one array per column (`records_<column>`, unnested together into rows): one statement,
        compiled once and prepared once per connection, for every count above MOST_RECORDS_IN_ONE_STATEMENT (a
        caseload page's 50, reads finishing together), which took a transaction's five round trips. Not for fewer:
        for one record it costs the service and PostgreSQL about a third more than the statement of its count."""
        audit, advanced = self.tables.audit, self._head_advanced()
        # One dimension each: a record's `fields` (a list) is one JSON value, not a nested array. Strings without
        # their length: a cast to VARCHAR(n) would cut a longer value silently (its hash then no longer matching),
        # where inserting it into the column refuses it, as inserting a plain parameter does.
        arrays = {
            c: ARRAY(String() if isinstance(audit.c[c].type, String) else audit.c[c].type, dimensions=1)
            for c in _RECORD_COLUMNS
        }
        records = (
            func.unnest(*(cast(bindparam(f"records_{c}", type_=array), array) for c, array in arrays.items()))
            .table_valued(*_RECORD_COLUMNS)
            .render_derived(name="records")
        )
        return CompiledStatement(
            insert(audit)
            .from_select(_RECORD_COLUMNS, select(*records.c).where(exists(select(advanced.c.id))))
            .returning(audit.c.seq)
        )

    def _chained(self, entries: list[AuditEntry], *, first_seq: int, prev_hash: str) -> list[dict[str, Any]]:
        """The records' rows, numbered from `first_seq` and chained from `prev_hash`, keyed with the current key."""
        keyring = self._keys()
        occurred_at, rows, key_id = utcnow(), [], keyring.current_id
        for seq, entry in enumerate(entries, start=first_seq):
            record_id = new_id()
            digest = keyring.mac(key_id, _canonical(prev_hash, seq, record_id, occurred_at, entry, key_id))
            rows.append(
                {
                    "seq": seq,
                    "id": record_id,
                    "occurred_at": occurred_at,
                    "prev_hash": prev_hash,
                    "hash": digest,
                    "key_id": key_id,
                    **_values(entry),
                }
            )
            prev_hash = digest
        return rows

    async def _append(self, session: AsyncSession, entries: list[AuditEntry]) -> list[int]:
        self._keys()  # before the head moves
        head = self.tables.audit_head
        advance = (
            update(head).where(head.c.id == 1).values(seq=head.c.seq + len(entries)).returning(head.c.seq, head.c.hash)
        )
        row = (await session.execute(advance)).first()
        if row is None:
            # The very first append: create the head (at 0) without racing another first append (a plain
            # INSERT made every concurrent first writer but one fail), then advance it like any other.
            await session.execute(_insert_ignoring_conflict(session, head).values(id=1, seq=0, hash=GENESIS_HASH))
            row = (await session.execute(advance)).one()
        trace_id = current_trace_id()  # every record gets the trace it was written in, however it was made
        entries = [entry if entry.trace_id or not trace_id else replace(entry, trace_id=trace_id) for entry in entries]
        rows = self._chained(entries, first_seq=row.seq - len(entries) + 1, prev_hash=row.hash)
        prev_hash = rows[-1]["hash"]
        if len(rows) == 1 and session.get_bind().dialect.name == "postgresql":
            # One statement, one round trip: the row inserted by a data-modifying CTE of the head's update. Only for
            # one record: a multi-row VALUES is compiled anew every time (about 50 ms of CPU for a caseload page's
            # 50 records), where the executemany below is cached.
            await session.execute(
                self._append_one, {**{f"record_{k}": v for k, v in rows[0].items()}, "head_hash": prev_hash}
            )
        else:  # SQLite has no data-modifying CTE (and no round trip: it is in process)
            await session.execute(insert(self.tables.audit), rows)
            await session.execute(update(head).where(head.c.id == 1).values(hash=prev_hash))
        # Where this process expects the head next: right once this transaction commits (an append that finds
        # it elsewhere, because this one rolled back or another moved it, writes nothing and learns it again).
        self._head = (rows[-1]["seq"], prev_hash)
        return [r["seq"] for r in rows]

    @cached_property
    def _append_one(self) -> Any:
        """One record and the head's new hash in one statement, its values bound parameters (`record_<column>`,
        `head_hash`), so SQLAlchemy compiles it once: with the values inlined by `.values(rows)` it cannot be keyed
        and was compiled anew on every request (about 1.5 ms of CPU per read in every component)."""
        audit, head = self.tables.audit, self.tables.audit_head
        appended = insert(audit).values({c: bindparam(f"record_{c}", type_=audit.c[c].type) for c in _RECORD_COLUMNS})
        return (
            update(head)
            .where(head.c.id == 1)
            .values(hash=bindparam("head_hash", type_=head.c.hash.type))
            .add_cte(appended.cte("appended"))
        )

    async def verify(
        self,
        session: AsyncSession,
        checkpoint: AuditCheckpoint | None = None,
        public_keys: dict[str, Any] | None = None,
    ) -> ChainVerdict:
        """Recompute the chain from the start (legacy part, then keyed part); report the first record that
        does not match. With a checkpoint (and the public keys to check its signature), the chain must also
        reach the checkpoint's sequence number with the checkpoint's hash there."""
        keyring = self._keys()
        audit = self.tables.audit
        prev_hash, expected_seq, count, legacy, keyed_seen = GENESIS_HASH, 1, 0, 0, False
        hash_at_checkpoint = None

        def broken(at: int, reason: str) -> ChainVerdict:
            return ChainVerdict(
                False,
                count,
                broken_at=at,
                reason=reason,
                legacy_records=legacy,
                checkpoint_seq=checkpoint.seq if checkpoint else None,
                checkpoint_at=checkpoint.at if checkpoint else None,
            )

        if checkpoint is not None and not checkpoint.signature_valid(public_keys or {}):
            return broken(checkpoint.seq, "the checkpoint's signature does not verify with the component's key")
        result = await session.stream(select(audit).order_by(audit.c.seq))
        async for row in result:
            entry = AuditEntry(**{f: getattr(row, f) for f in _ENTRY_FIELDS})
            if row.seq != expected_seq or row.prev_hash != prev_hash:
                return broken(row.seq, "a record is missing or out of order")
            message = _canonical(prev_hash, row.seq, row.id, row.occurred_at, entry, row.key_id)
            if row.key_id is None:
                if keyed_seen:
                    return broken(row.seq, "an unkeyed record after keyed ones")
                digest = _legacy_hash(message)
                legacy += 1
            else:
                if not keyring.knows(row.key_id):
                    return broken(row.seq, f"keyed with an unknown key ({row.key_id})")
                digest, keyed_seen = keyring.mac(row.key_id, message), True
            if row.hash != digest:
                return broken(row.seq, "a record's content does not match its hash")
            prev_hash, expected_seq, count = row.hash, expected_seq + 1, count + 1
            if checkpoint is not None and row.seq == checkpoint.seq:
                hash_at_checkpoint = row.hash
        head = (await session.execute(select(self.tables.audit_head))).first()
        if head is not None and (head.seq != count or head.hash != prev_hash):
            return broken(count + 1 if head.seq > count else head.seq, "the chain head does not match the records")
        if checkpoint is not None:
            if count < checkpoint.seq:
                return broken(count + 1, f"records after {count} are gone (a checkpoint vouches for {checkpoint.seq})")
            if hash_at_checkpoint != checkpoint.head_hash:
                return broken(checkpoint.seq, "the chain differs from its signed checkpoint")
        return ChainVerdict(
            True,
            count,
            legacy_records=legacy,
            checkpoint_seq=checkpoint.seq if checkpoint else None,
            checkpoint_at=checkpoint.at if checkpoint else None,
        )


def _insert_ignoring_conflict(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=["id"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["id"])
    return insert(table)


@dataclass
class AuditTrail:
    """One component's trail: its writer, its keys, where its checkpoints go, and how to check it all."""

    component: str
    database: Any  # sop_shared.db.Database
    tables: PlatformTables
    keys: AuditKeys
    bus: CheckpointBus
    _last_published: tuple[int, str] | None = None
    metrics: ComponentMetrics | None = None

    @property
    def writer(self) -> AuditWriter:
        return AuditWriter(self.tables, self.keys.keyring)

    async def checkpoint(self) -> AuditCheckpoint | None:
        """Sign and publish the chain head if it moved since the last checkpoint from this process."""
        if self.keys.signing_key is None:
            return None
        head = self.tables.audit_head
        async with self.database.session() as session:
            row = (await session.execute(select(head.c.seq, head.c.hash).where(head.c.id == 1))).first()
        if row is None or row.seq == 0 or (row.seq, row.hash) == self._last_published:
            return None
        checkpoint = AuditCheckpoint.sign(
            self.keys.signing_key, component=self.component, seq=row.seq, head_hash=row.hash, at=utcnow()
        )
        await self.bus.publish(checkpoint.to_event())
        self._last_published = (row.seq, row.hash)
        return checkpoint

    async def run_checkpoints(self, interval_seconds: float, stop: asyncio.Event) -> None:
        """Checkpoint every `interval_seconds` until `stop` is set; a bus outage only delays a checkpoint."""
        while not stop.is_set():
            try:
                await self.checkpoint()
            except Exception as exc:  # NATS down: the next round publishes the head as it is then
                log.warning("audit_checkpoint_failed", component=self.component, error=str(exc))
            else:  # the head is covered: just published, or unchanged since the last checkpoint
                if self.metrics is not None:
                    self.metrics.audit_checkpoint_timestamp.labels(self.component).set(time.time())
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
            except TimeoutError:
                pass

    async def verify(self) -> ChainVerdict:
        try:
            checkpoint = await newest_checkpoint(self.bus, self.component)
        except Exception as exc:  # NATS unreachable: say so, rather than verify without the checkpoint
            raise ServiceUnavailable("the audit checkpoints cannot be read right now (event bus)") from exc
        async with self.database.session() as session:
            return await self.writer.verify(session, checkpoint, self.keys.public_keys)


@asynccontextmanager
async def running_audit_trail(
    app: Any, settings: Any, database: Any, tables: PlatformTables, bus: EventBus | None
) -> AsyncIterator[AuditTrail]:
    """For an app's lifespan: load the audit keys (refusing to start without them in production), point
    `app.state.audit` at a keyed writer, and checkpoint the chain head for the app's life. Without a bus
    of its own (a distributed gateway) it connects to `settings.events_url` just to publish checkpoints."""

    keys = load_audit_keys(
        component=settings.component,
        keys_dir=settings.keys_dir(),
        chain_keys_dir=settings.audit_keys_dir,
        signing_key_file=settings.audit_signing_key_file,
        development=settings.is_development,
    )
    owned_bus = None
    trail_bus: CheckpointBus
    if bus is None:
        owned_bus = trail_bus = _BusConnectedWhenReachable(
            settings.events_url, settings.events_stream, settings.events_namespace
        )
    else:
        trail_bus = bus
    trail = AuditTrail(
        settings.component, database, tables, keys, trail_bus, metrics=getattr(app.state, "metrics", None)
    )
    app.state.audit = trail.writer
    app.state.audit_trail = trail
    stop = asyncio.Event()
    task = asyncio.create_task(
        trail.run_checkpoints(settings.audit_checkpoint_seconds, stop), name=f"{settings.component}-audit-checkpoints"
    )
    try:
        yield trail
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await task
        with contextlib.suppress(Exception):
            await trail.checkpoint()  # the head as it is at shutdown
        if owned_bus is not None:
            await owned_bus.close()


class _BusConnectedWhenReachable:
    """A bus of the audit trail's own (a distributed gateway has none): connected on first use and again
    after a failure, so NATS being down delays a checkpoint but never stops the component starting."""

    def __init__(self, url: str, stream: str, namespace: str = "") -> None:
        self.url, self.stream, self.namespace = url, stream, namespace
        self._bus: Any = None

    async def _connected(self) -> Any:
        if self._bus is None:
            from sop_shared.events import connect_bus

            self._bus = await connect_bus(self.url, stream=self.stream, namespace=self.namespace)
        return self._bus

    async def publish(self, event: Event) -> None:
        await (await self._connected()).publish(event)

    async def last_event(self, subject: str) -> Event | None:
        event: Event | None = await (await self._connected()).last_event(subject)
        return event

    async def close(self) -> None:
        if self._bus is not None:
            await self._bus.close()


async def audit_request(
    request: Any,
    session: AsyncSession,
    principal: Principal,
    *,
    resource: str,
    action: str,
    case_id: uuid.UUID | None = None,
    resource_id: Any = None,
    fields: list[str] | None = None,
) -> None:
    """Audit an access made by the current request (its principal, client and request id)."""
    await audit_request_many(
        request,
        session,
        principal,
        [RequestAccess(resource=resource, action=action, case_id=case_id, resource_id=resource_id, fields=fields)],
    )


async def audit_refusal(request: Any, principal: Principal, *, resource: str, case_id: uuid.UUID | None = None) -> None:
    """Audit that the current request was refused (action `denied`, what was asked for as the resource id) in a
    transaction of its own: the request's session rolls back with the refusal. The caller is told only what a
    missing record would tell; the record is for auditors ("who tried to read this case's supervision?")."""
    purpose = getattr(request.state, "purpose", None)
    async with request.app.state.database.session() as session:
        await request.app.state.audit.record(
            session,
            AuditEntry.for_principal(
                principal,
                resource=resource,
                action="denied",
                case_id=case_id,
                resource_id=f"{request.method} {request.url.path}"[:100],
                request_id=getattr(request.state, "request_id", None),
                client_request_id=getattr(request.state, "client_request_id", None),
                audience=request.headers.get("X-SOP-Audience"),
                purpose=purpose.value if purpose else None,
            ),
        )


@dataclass(frozen=True)
class RequestAccess:
    """One access of a request, for `audit_request_many` (e.g. one case of a bulk read)."""

    resource: str
    action: str
    case_id: uuid.UUID | None = None
    resource_id: Any = None
    fields: list[str] | None = None


async def audit_request_many(
    request: Any, session: AsyncSession, principal: Principal, accesses: list[RequestAccess]
) -> None:
    """Audit several accesses made by the current request, appended together (a constant number of
    statements for a bulk read, however many cases it covers). The purpose is the one the request context
    checked against `AccessPurpose`; the request ids are the gateway's and the client's."""
    writer: AuditWriter = request.app.state.audit
    purpose = getattr(request.state, "purpose", None)
    await writer.record_many(
        session,
        [
            AuditEntry.for_principal(
                principal,
                resource=a.resource,
                action=a.action,
                case_id=a.case_id,
                resource_id=str(a.resource_id) if a.resource_id is not None else None,
                fields=a.fields or [],
                request_id=getattr(request.state, "request_id", None),
                client_request_id=getattr(request.state, "client_request_id", None),
                audience=request.headers.get("X-SOP-Audience"),
                purpose=purpose.value if purpose else None,
            )
            for a in accesses
        ],
    )
