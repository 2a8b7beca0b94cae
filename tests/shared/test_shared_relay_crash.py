"""THE CRASH TEST: killing the relay mid-publish and restarting it loses no outbox event, and an idempotent
consumer applies each one once. Real PostgreSQL, real NATS JetStream, the relay in its own process.

Two crashes: SIGKILL at an arbitrary moment while it streams events out, and a crash exactly between the
bus acknowledging an event and the relay marking it published (so the restart re-publishes it and
JetStream's Nats-Msg-Id de-duplication has to drop it)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from sop_shared_support import JetStream, PlatformDatabase, open_platform_database
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.db import service_metadata
from sop_shared.events import Event, NatsJetStreamBus
from sop_shared.outbox import emit, idempotent_consumer

RUNNER = Path(__file__).with_name("relay_runner.py")
EVENTS = 300
BATCH = 10


def _applied_table(metadata: MetaData) -> Table:
    # no unique constraint on event_id: applying an event twice would leave two rows
    return Table(
        "applied_event",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False),
        Column("n", Integer, nullable=False),
    )


async def _emit_events(pdb: PlatformDatabase) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for start in range(0, EVENTS, 50):
        async with pdb.database.session() as session:
            for n in range(start, start + 50):
                event = await emit(session, pdb.tables, subject=f"sop.crashtest.thing.n{n % 4}", data={"n": n})
                ids.append(event.id)
    return ids


async def _published_count(pdb: PlatformDatabase) -> int:
    outbox = pdb.tables.outbox
    async with pdb.database.session() as session:
        return (
            await session.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_not(None)))
        ).scalar_one()


def _start_relay(pdb: PlatformDatabase, jetstream: JetStream, log: Path, *extra: str) -> subprocess.Popen:
    out = log.open("ab")
    try:
        return subprocess.Popen(
            [
                sys.executable,
                str(RUNNER),
                pdb.url,
                jetstream.url,
                jetstream.stream,
                jetstream.namespace,
                "--batch-size",
                str(BATCH),
                "--parent-pid",
                str(os.getpid()),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    finally:
        out.close()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


async def _until(predicate, what: str, proc: subprocess.Popen | None, log: Path | None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        output = log.read_text() if log is not None else ""
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"relay exited ({proc.returncode}) before {what}:\n{output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{output}")
        await asyncio.sleep(0.01)


async def _stream_order(jetstream: JetStream, count: int) -> list[int]:
    """The `n` of each stored message, in stream order."""
    return [
        Event.from_json((await jetstream.js.get_msg(jetstream.stream, seq)).data).data["n"]
        for seq in range(1, count + 1)
    ]


async def _consume_all(pdb: PlatformDatabase, applied: Table, jetstream: JetStream, ids: list[uuid.UUID]) -> None:
    """A durable consumer behind `idempotent_consumer` receives everything; some deliveries fail after the
    event was applied and committed (a consumer crash before the ack), so those events arrive again."""
    deliveries: list[uuid.UUID] = []
    failed_once: set[uuid.UUID] = set()

    async def apply(session: AsyncSession, event: Event) -> None:
        await session.execute(insert(applied).values(event_id=event.id, n=event.data["n"]))

    applying = idempotent_consumer(pdb.database, pdb.tables, "crash-test-consumer", apply)

    async def handler(event: Event) -> None:
        deliveries.append(event.id)
        await applying(event)
        if event.data["n"] % 37 == 0 and event.id not in failed_once:
            failed_once.add(event.id)
            raise RuntimeError("consumer died before acknowledging")  # -> nak -> redelivered

    bus = await NatsJetStreamBus(jetstream.url, stream=jetstream.stream, namespace=jetstream.namespace).connect()
    try:
        sub = await bus.subscribe("sop.crashtest.>", "crash-test-consumer", handler)

        async def done() -> bool:  # every event delivered, and the failed ones delivered again
            counts = Counter(deliveries)
            return len(counts) == len(ids) and all(counts[i] >= 2 for i in failed_once)

        await _until(done, "the consumer to receive everything", None, None, timeout=30)
        await sub.stop()
    finally:
        await bus.close()

    assert len(failed_once) == len([n for n in range(EVENTS) if n % 37 == 0])
    assert len(deliveries) > len(ids)  # some events really were delivered twice...
    async with pdb.database.session() as session:
        rows = (await session.execute(select(applied.c.event_id, applied.c.n))).all()
    applied_ids = [r.event_id for r in rows]
    assert len(applied_ids) == len(set(applied_ids)) == EVENTS  # ...and every event applied exactly once
    assert set(applied_ids) == set(ids)  # none missing, none foreign
    assert sorted(r.n for r in rows) == list(range(EVENTS))


async def _setup(postgres_database) -> tuple[PlatformDatabase, Table, list[uuid.UUID]]:
    metadata = service_metadata()
    applied = _applied_table(metadata)
    pdb = await open_platform_database(postgres_database.url, metadata)
    ids = await _emit_events(pdb)
    return pdb, applied, ids


async def _finish_and_check(
    pdb: PlatformDatabase, applied: Table, jetstream: JetStream, ids: list[uuid.UUID], log: Path
) -> None:
    proc = _start_relay(pdb, jetstream, log)  # the restart
    try:

        async def everything_marked() -> bool:
            return await _published_count(pdb) == EVENTS

        await _until(everything_marked, "the restarted relay to publish everything", proc, log)
    finally:
        _stop(proc)
    assert await jetstream.message_count() == EVENTS  # exactly one message per event: duplicates dropped
    assert await _stream_order(jetstream, EVENTS) == list(range(EVENTS))  # and in the order emitted
    await _consume_all(pdb, applied, jetstream, ids)


async def test_sigkill_mid_publish_then_restart_loses_nothing_and_applies_once(
    postgres_database,
    jetstream: JetStream,
    tmp_path: Path,
) -> None:
    pdb, applied, ids = await _setup(postgres_database)
    log = tmp_path / "relay.log"
    try:
        proc = _start_relay(pdb, jetstream, log, "--delay", "0.004")
        try:

            async def well_under_way() -> bool:
                return await jetstream.message_count() >= 90

            await _until(well_under_way, "the relay to publish a good part", proc, log)
            proc.send_signal(signal.SIGKILL)  # no goodbye, no cleanup
            proc.wait(10)
        finally:
            _stop(proc)
        assert proc.returncode == -signal.SIGKILL

        in_stream, marked = await jetstream.message_count(), await _published_count(pdb)
        assert 90 <= in_stream < EVENTS, "the kill must land mid-stream"
        assert marked <= in_stream  # nothing is marked before the bus has it
        assert marked < EVENTS  # some remain unpublished for the restart to do

        await _finish_and_check(pdb, applied, jetstream, ids, log)
    finally:
        await pdb.database.dispose()


async def test_crash_between_publish_and_mark_republishes_and_is_deduplicated(
    postgres_database,
    jetstream: JetStream,
    tmp_path: Path,
) -> None:
    pdb, applied, ids = await _setup(postgres_database)
    log = tmp_path / "relay.log"
    crash_after = 5 * BATCH + 5  # the 55th publish: five batches committed, the sixth half published
    proc = _start_relay(pdb, jetstream, log, "--exit-after-publish", str(crash_after))
    try:
        try:
            proc.wait(30)
        finally:
            _stop(proc)
        assert proc.returncode == 70, log.read_text()

        # on the bus but not marked: events 51..55 are the ones the restart must not duplicate
        assert await jetstream.message_count() == crash_after
        assert await _published_count(pdb) == 5 * BATCH
        outbox = pdb.tables.outbox
        async with pdb.database.session() as session:
            unmarked = (
                (
                    await session.execute(
                        select(outbox.c.id).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id)
                    )
                )
                .scalars()
                .all()
            )
        assert unmarked == ids[5 * BATCH :]
        assert await _stream_order(jetstream, crash_after) == list(range(crash_after))

        await _finish_and_check(pdb, applied, jetstream, ids, log)
        # the restarted relay really did publish 51..55 again (their attempts count both tries)
        async with pdb.database.session() as session:
            attempts = dict((await session.execute(select(outbox.c.id, outbox.c.attempts))).all())
        assert [attempts[i] for i in ids[5 * BATCH : crash_after]] == [1] * 5
    finally:
        await pdb.database.dispose()
