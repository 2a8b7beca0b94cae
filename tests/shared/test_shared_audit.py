"""The audit trail: hash-chained and append-only, so an edited or removed record shows, on both backends;
concurrent writers still produce one contiguous, intact chain."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import uuid

import pytest
from sop_shared_support import PlatformDatabase, open_platform_database
from sqlalchemy import event, select, text

from sop_shared.audit import GENESIS_HASH, AccessPurpose, AuditEntry, AuditWriter, canonical_json
from sop_shared.audit_keys import AuditKeyring
from sop_shared.auth import Principal
from sop_shared.policy import ActorType

# Runs on SQLite too by default: the audit chain itself (SQLite's insert-or-ignore of checkpoints).
pytestmark = pytest.mark.sqlite_smoke

CASE = uuid.UUID("01890000-0000-7000-8000-0000000000cc")
KEYRING = AuditKeyring({"k-test": bytes(range(32))}, "k-test")


def entry(i: int, **overrides: object) -> AuditEntry:
    values: dict[str, object] = dict(
        actor_subject=f"fsw.{i % 3}",
        actor_type="staff",
        resource="safety_plan",
        action="read",
        case_id=CASE if i % 2 else None,
        resource_id=f"plan-{i}",
        client_id="web",
        fields=["child_voice"] if i % 4 == 0 else [],
        purpose="casework",
        audience="staff",
        request_id=f"req-{i}",
    )
    values.update(overrides)
    return AuditEntry(**values)  # type: ignore[arg-type]


async def write(pdb: PlatformDatabase, count: int, start: int = 1) -> list[int]:
    writer = AuditWriter(pdb.tables, KEYRING)
    seqs = []
    for i in range(start, start + count):
        async with pdb.database.session() as session:
            seqs.append(await writer.record(session, entry(i)))
    return seqs


async def verify(pdb: PlatformDatabase):
    async with pdb.database.session() as session:
        return await AuditWriter(pdb.tables, KEYRING).verify(session)


async def test_an_empty_trail_is_intact(platform_db: PlatformDatabase) -> None:
    verdict = await verify(platform_db)
    assert verdict.intact and verdict.records == 0 and verdict.broken_at is None


async def test_n_records_form_an_intact_chain(platform_db: PlatformDatabase) -> None:
    assert await write(platform_db, 12) == list(range(1, 13))
    verdict = await verify(platform_db)
    assert verdict.intact and verdict.records == 12 and verdict.broken_at is None
    async with platform_db.database.session() as session:
        rows = (await session.execute(select(platform_db.tables.audit).order_by(platform_db.tables.audit.c.seq))).all()
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
    assert rows[3].fields == ["child_voice"] and rows[0].case_id == CASE and rows[1].case_id is None


async def test_several_records_in_one_transaction_chain_too(platform_db: PlatformDatabase) -> None:
    writer = AuditWriter(platform_db.tables, KEYRING)
    async with platform_db.database.session() as session:
        assert [await writer.record(session, entry(i)) for i in range(5)] == [1, 2, 3, 4, 5]
    assert (await verify(platform_db)).intact


async def test_a_batch_appends_in_order_in_a_fixed_number_of_statements_and_chains_with_single_records(
    platform_db: PlatformDatabase,
) -> None:
    writer = AuditWriter(platform_db.tables, KEYRING)
    await write(platform_db, 2)
    statements: list[str] = []
    engine = platform_db.database.engine.sync_engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        async with platform_db.database.session() as session:
            assert await writer.record_many(session, [entry(i) for i in range(3, 23)]) == list(range(3, 23))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    # Advance the head, insert the rows, set the head's hash (a batch: the executemany, whose statement is cached;
    # one record on PostgreSQL joins the last two in a CTE).
    appends = 3
    assert len([s for s in statements if "audit" in s.lower()]) == appends
    await write(platform_db, 1, start=23)
    verdict = await verify(platform_db)
    assert verdict.intact and verdict.records == 23
    async with platform_db.database.session() as session:
        assert await writer.record_many(session, []) == []


async def test_a_rolled_back_request_leaves_no_gap(platform_db: PlatformDatabase) -> None:
    await write(platform_db, 3)
    writer = AuditWriter(platform_db.tables, KEYRING)
    with pytest.raises(RuntimeError):
        async with platform_db.database.session() as session:
            await writer.record(session, entry(99))
            raise RuntimeError("request failed after auditing")
    assert await write(platform_db, 1, start=4) == [4]
    verdict = await verify(platform_db)
    assert verdict.intact and verdict.records == 4


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("resource", "'person'"),
        ("actor_subject", "'someone.else'"),
        ("action", "'update'"),
        ("fields", "'[]'"),
        ("request_id", "NULL"),
        ("purpose", "'curiosity'"),
    ],
)
async def test_editing_one_row_is_detected_at_that_row(platform_db: PlatformDatabase, column: str, value: str) -> None:
    await write(platform_db, 8)
    async with platform_db.database.session() as session:
        await session.execute(text(f"UPDATE audit_record SET {column} = {value} WHERE seq = 4"))
    verdict = await verify(platform_db)
    assert not verdict.intact
    assert verdict.broken_at == 4
    assert verdict.records == 3


async def test_rewriting_a_row_with_a_consistent_hash_still_breaks_the_next_link(
    platform_db: PlatformDatabase,
) -> None:
    await write(platform_db, 6)
    async with platform_db.database.session() as session:
        await session.execute(text("UPDATE audit_record SET hash = :h WHERE seq = 2"), {"h": "f" * 64})
    verdict = await verify(platform_db)
    assert not verdict.intact and verdict.broken_at == 2


async def test_deleting_a_middle_row_is_detected(platform_db: PlatformDatabase) -> None:
    await write(platform_db, 6)
    async with platform_db.database.session() as session:
        await session.execute(text("DELETE FROM audit_record WHERE seq = 3"))
    verdict = await verify(platform_db)
    assert not verdict.intact and verdict.broken_at == 4  # seq 4 follows seq 2


async def test_deleting_the_last_row_is_detected_by_the_head(platform_db: PlatformDatabase) -> None:
    await write(platform_db, 6)
    async with platform_db.database.session() as session:
        await session.execute(text("DELETE FROM audit_record WHERE seq = 6"))
    verdict = await verify(platform_db)
    assert not verdict.intact
    assert verdict.records == 5
    assert verdict.broken_at == 6


async def test_deleting_everything_is_detected_by_the_head(platform_db: PlatformDatabase) -> None:
    await write(platform_db, 3)
    async with platform_db.database.session() as session:
        await session.execute(text("DELETE FROM audit_record"))
    verdict = await verify(platform_db)
    assert not verdict.intact and verdict.broken_at == 1


async def test_for_principal_records_who_and_through_what(platform_db: PlatformDatabase) -> None:
    who = Principal(subject="partner:hope", actor_type=ActorType.partner, client_id="hope-portal")
    async with platform_db.database.session() as session:
        await AuditWriter(platform_db.tables, KEYRING).record(
            session, AuditEntry.for_principal(who, resource="case", action="read", case_id=CASE)
        )
    async with platform_db.database.session() as session:
        row = (await session.execute(select(platform_db.tables.audit))).one()
    assert (row.actor_subject, row.actor_type, row.client_id, row.case_id) == (
        "partner:hope",
        "partner",
        "hope-portal",
        CASE,
    )
    assert (await verify(platform_db)).intact


async def _concurrent_writers(pdb: PlatformDatabase, writers: int, per_writer: int) -> list[list[int]]:
    audit = AuditWriter(pdb.tables, KEYRING)
    start = asyncio.Event()

    async def one(w: int) -> list[int]:
        await start.wait()
        async with pdb.database.session() as session:
            seqs = []
            for i in range(per_writer):
                seqs.append(await audit.record(session, entry(w * 100 + i, actor_subject=f"writer-{w}")))
                await asyncio.sleep(0)  # let the others try to interleave
            return seqs

    tasks = [asyncio.create_task(one(w)) for w in range(writers)]
    await asyncio.sleep(0.01)
    start.set()
    return await asyncio.gather(*tasks)


async def test_concurrent_writers_give_one_contiguous_intact_chain_on_postgresql(postgres_database) -> None:
    pdb = await open_platform_database(postgres_database.url)
    try:
        # from an empty trail: the very first appends race for the chain head too
        results = await _concurrent_writers(pdb, writers=8, per_writer=5)
        results += await _concurrent_writers(pdb, writers=8, per_writer=5)
        all_seqs = sorted(s for seqs in results for s in seqs)
        assert all_seqs == list(range(1, 81))
        for seqs in results:  # each transaction's records are contiguous: appends are serialised
            assert seqs == list(range(seqs[0], seqs[0] + 5))
        verdict = await verify(pdb)
        assert verdict.intact and verdict.records == 80
    finally:
        await pdb.database.dispose()


async def test_two_replicas_appending_batches_at_once_give_one_contiguous_intact_chain(postgres_database) -> None:
    """Two processes of one service (two engines on one database), each appending batches in requests'
    sessions (the append deferred to just before the commit): the chain stays one, in order, intact."""
    replicas = [await open_platform_database(postgres_database.url) for _ in range(2)]
    start = asyncio.Event()

    async def request(r: int, i: int) -> None:
        await start.wait()
        audit = AuditWriter(replicas[r].tables, KEYRING)
        async with replicas[r].database.session(defer_to_commit=True) as session:
            await audit.record_many(session, [entry(r * 1000 + i * 10 + k) for k in range(3)])
            await asyncio.sleep(0)

    try:
        tasks = [asyncio.create_task(request(r, i)) for i in range(10) for r in range(2)]
        await asyncio.sleep(0.01)
        start.set()
        await asyncio.gather(*tasks)
        async with replicas[0].database.session() as session:
            rows = (
                await session.execute(select(replicas[0].tables.audit).order_by(replicas[0].tables.audit.c.seq))
            ).all()
        assert [r.seq for r in rows] == list(range(1, 61))
        for at in range(0, 60, 3):  # each request's three records are contiguous, in their order
            batch = rows[at : at + 3]
            numbers = [int(r.request_id.removeprefix("req-")) for r in batch]
            assert numbers == list(range(numbers[0], numbers[0] + 3)) and numbers[0] % 10 == 0
        verdict = await verify(replicas[1])
        assert verdict.intact and verdict.records == 60
    finally:
        for replica in replicas:
            await replica.database.dispose()


def _standard_library(document: dict[str, object]) -> bytes:
    """What a record's hash has always covered (before orjson wrote it)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def test_the_hashed_bytes_are_the_standard_librarys_for_every_character_and_value() -> None:
    """`canonical_json` (orjson where it writes the same bytes) gives exactly `json.dumps`'s bytes, so every record
    hashes as before: each ASCII character (controls and DEL escaped), characters beyond ASCII, lone surrogates,
    lists, None, integers beyond 64 bits, str subclasses; and it refuses what `json.dumps` refuses."""
    rng = random.Random(16)
    texts = [chr(c) * 3 + "x" for c in range(0x80)] + ["Niño é ß", "中文", "🙂", "\ud800 lone", "\u2028\u2029", ""]
    texts += [
        "".join(chr(rng.choice([rng.randrange(0x80), rng.randrange(0x110000)])) for _ in range(12)) for _ in range(300)
    ]
    for text_value in texts:
        document: dict[str, object] = {
            "seq": 12,
            "prev": GENESIS_HASH,
            "actor_subject": text_value,
            "fields": [text_value, "case"],
            "purpose": None,
        }
        assert canonical_json(document) == _standard_library(document), repr(text_value)
        with_a_subclass = {**document, "resource": AccessPurpose.casework}
        assert canonical_json(with_a_subclass) == _standard_library(with_a_subclass), repr(text_value)
    for number in (0, -1, 2**63 - 1, 2**64, -(2**70)):
        assert canonical_json({"seq": number}) == _standard_library({"seq": number})
    with pytest.raises(TypeError):
        canonical_json({"case_id": CASE})  # a UUID: json.dumps refuses it (orjson would write it)
