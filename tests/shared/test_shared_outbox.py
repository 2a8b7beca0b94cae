"""The transactional outbox and the relay (both backends, in-process bus): an event exists if and only if
its change committed, is relayed in order, survives bus failures with the error recorded, and an idempotent
consumer applies each event once however often it is delivered."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import pytest
from sop_shared_support import PlatformDatabase, open_platform_database
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.db import service_metadata
from sop_shared.events import Event, InProcessBus, _nats_match
from sop_shared.outbox import OutboxRelay, emit, idempotent_consumer

# Runs on SQLite too by default: the outbox relay itself (on SQLite it gives its connection back before publishing).
pytestmark = pytest.mark.sqlite_smoke

CASE = uuid.UUID("01890000-0000-7000-8000-0000000000dd")


async def emit_many(pdb: PlatformDatabase, count: int, *, per_transaction: int = 1) -> list[Event]:
    events: list[Event] = []
    for start in range(0, count, per_transaction):
        async with pdb.database.session() as session:
            for n in range(start, min(count, start + per_transaction)):
                events.append(
                    await emit(
                        session,
                        pdb.tables,
                        subject=f"sop.test.thing.n{n % 3}",
                        data={"n": n},
                        case_id=CASE if n % 2 else None,
                    )
                )
    return events


async def outbox_rows(pdb: PlatformDatabase) -> list:
    outbox = pdb.tables.outbox
    async with pdb.database.session() as session:
        return list((await session.execute(select(outbox).order_by(outbox.c.id))).all())


@dataclass
class FlakyBus(InProcessBus):
    """Fails the publishes whose 1-based call number is in `fail_on`."""

    fail_on: set[int] = field(default_factory=set)
    calls: int = 0

    async def publish(self, event: Event) -> None:
        self.calls += 1
        if self.calls in self.fail_on:
            raise ConnectionError(f"bus unavailable (call {self.calls})")
        await super().publish(event)


async def test_emit_in_a_rolled_back_transaction_publishes_nothing(platform_db: PlatformDatabase) -> None:
    with pytest.raises(RuntimeError):
        async with platform_db.database.session() as session:
            await emit(session, platform_db.tables, subject="sop.test.thing.created", data={"n": 1})
            raise RuntimeError("the change failed")
    bus = InProcessBus()
    assert await OutboxRelay(platform_db.database, platform_db.tables, bus).drain() == 0
    assert bus.published == []
    assert await outbox_rows(platform_db) == []


async def test_emit_with_the_change_is_stored_with_its_payload(platform_db: PlatformDatabase) -> None:
    async with platform_db.database.session() as session:
        event = await emit(
            session, platform_db.tables, subject="sop.test.thing.created", data={"n": 1, "name": "Sofía"}, case_id=CASE
        )
    (row,) = await outbox_rows(platform_db)
    assert (row.id, row.subject, row.case_id, row.payload) == (event.id, event.subject, CASE, event.data)
    assert row.published_at is None and row.attempts == 0 and row.occurred_at == event.occurred_at


async def test_drain_publishes_everything_in_order_once(platform_db: PlatformDatabase) -> None:
    emitted = await emit_many(platform_db, 25, per_transaction=4)
    bus = InProcessBus()
    received: list[Event] = []

    async def handler(event: Event) -> None:
        received.append(event)

    await bus.subscribe("sop.test.>", "test", handler)
    relay = OutboxRelay(platform_db.database, platform_db.tables, bus, batch_size=7)
    assert await relay.drain() == 25
    assert [e.id for e in bus.published] == [e.id for e in emitted]
    assert received == emitted  # same id, subject, time, data and case after the round trip
    assert await relay.drain() == 0  # nothing is published twice
    assert len(bus.published) == 25
    rows = await outbox_rows(platform_db)
    assert all(r.published_at is not None and r.attempts == 1 and r.last_error is None for r in rows)


async def test_a_failing_bus_stops_the_round_and_keeps_order(platform_db: PlatformDatabase) -> None:
    emitted = await emit_many(platform_db, 8)
    bus = FlakyBus(fail_on={3})
    relay = OutboxRelay(platform_db.database, platform_db.tables, bus, batch_size=100)

    assert await relay.relay_once() == 2
    assert [e.id for e in bus.published] == [e.id for e in emitted[:2]]
    rows = await outbox_rows(platform_db)
    assert [r.published_at is not None for r in rows] == [True, True] + [False] * 6
    assert rows[2].attempts == 1 and rows[2].last_error == "bus unavailable (call 3)"
    assert all(r.attempts == 0 and r.last_error is None for r in rows[3:])  # never tried

    assert await relay.drain() == 6
    assert [e.id for e in bus.published] == [e.id for e in emitted]  # order kept, no duplicates
    rows = await outbox_rows(platform_db)
    assert all(r.published_at is not None and r.last_error is None for r in rows)
    assert rows[2].attempts == 2 and [r.attempts for r in rows[3:]] == [1] * 5


async def test_a_failing_handler_on_the_in_process_bus_is_retried(platform_db: PlatformDatabase) -> None:
    await emit_many(platform_db, 3)
    bus = InProcessBus()
    seen: list[int] = []

    async def handler(event: Event) -> None:
        if event.data["n"] == 1 and 1 not in seen:
            seen.append(1)
            raise RuntimeError("consumer hiccup")
        seen.append(event.data["n"])

    await bus.subscribe("sop.>", "test", handler)
    relay = OutboxRelay(platform_db.database, platform_db.tables, bus)
    assert await relay.relay_once() == 1
    assert await relay.drain() == 2
    assert seen == [0, 1, 1, 2]


async def test_the_relay_loop_publishes_what_is_emitted_later_and_stops(platform_db: PlatformDatabase) -> None:
    bus = InProcessBus()
    relay = OutboxRelay(platform_db.database, platform_db.tables, bus, batch_size=3, interval_seconds=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    emitted = await emit_many(platform_db, 10)
    for _ in range(250):
        if len(bus.published) == 10:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [e.id for e in bus.published] == [e.id for e in emitted]


async def test_a_commit_that_emits_wakes_the_relay_and_others_rows_wait_for_its_poll(
    platform_db: PlatformDatabase,
) -> None:
    """The relay publishes an event as soon as the transaction that emitted it commits in this process; rows it
    was not told of (another replica's, a migration's: written here without `emit`) wait for its poll."""
    bus = InProcessBus()
    relay = OutboxRelay(platform_db.database, platform_db.tables, bus, interval_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))

    async def published(count: int, within: float) -> bool:
        for _ in range(int(within / 0.02)):
            if len(bus.published) >= count:
                return True
            await asyncio.sleep(0.02)
        return False

    try:
        await emit_many(platform_db, 1)
        assert await published(1, 10)  # the first round, at start or woken
        await asyncio.sleep(0.1)  # the relay waits now: its next poll is a minute away
        woken = await emit_many(platform_db, 1)
        assert await published(2, 10), "the commit did not wake the relay"
        assert bus.published[-1].id == woken[0].id

        async with platform_db.database.session() as session:  # an emit rolled back wakes nothing
            await emit(session, platform_db.tables, subject="sop.test.thing.n0", data={"n": -1})
            await session.rollback()
        outbox = platform_db.tables.outbox
        async with platform_db.database.session() as session:  # as another process would write it
            await session.execute(
                insert(outbox).values(
                    id=uuid.UUID("01890000-0000-7000-8000-0000000000ee"),
                    subject="sop.test.thing.n1",
                    payload={"n": 99},
                    occurred_at=func.now(),
                    attempts=0,
                )
            )
        assert not await published(3, 0.5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert len(bus.published) == 2


async def test_the_relay_loop_survives_a_failing_round(platform_db: PlatformDatabase) -> None:
    await emit_many(platform_db, 4)
    bus = FlakyBus(fail_on={1, 2, 3})
    relay = OutboxRelay(platform_db.database, platform_db.tables, bus, interval_seconds=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    for _ in range(250):
        if len(bus.published) == 4:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [e.data["n"] for e in bus.published] == [0, 1, 2, 3]
    assert (await outbox_rows(platform_db))[0].attempts == 4


def _applied_table(metadata: MetaData) -> Table:
    # deliberately no unique constraint: a second application would show up as a second row
    return Table(
        "applied",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False),
        Column("n", Integer, nullable=False),
    )


@pytest.fixture
async def consumer_db(database_url: str):
    metadata = service_metadata()
    applied = _applied_table(metadata)
    Table("unique_thing", metadata, Column("name", String(50), primary_key=True))
    pdb = await open_platform_database(database_url, metadata)
    yield pdb, applied
    await pdb.database.dispose()


async def _applied(pdb: PlatformDatabase, applied: Table) -> list[tuple[uuid.UUID, int]]:
    async with pdb.database.session() as session:
        return [(r.event_id, r.n) for r in (await session.execute(select(applied).order_by(applied.c.seq))).all()]


async def test_idempotent_consumer_applies_an_event_once_when_delivered_twice(consumer_db) -> None:
    pdb, applied = consumer_db

    async def apply(session: AsyncSession, event: Event) -> None:
        await session.execute(insert(applied).values(event_id=event.id, n=event.data["n"]))

    handle = idempotent_consumer(pdb.database, pdb.tables, "plans-projection", apply)
    first, second = (Event(uuid.uuid4(), "sop.test.thing.created", datetime_now(), {"n": n}) for n in (1, 2))
    for event in (first, first, second, first, second):
        await handle(event)
    assert await _applied(pdb, applied) == [(first.id, 1), (second.id, 2)]

    # another consumer keeps its own record of what it has applied
    other = idempotent_consumer(pdb.database, pdb.tables, "gateway-cache", apply)
    await other(first)
    await other(first)
    assert len(await _applied(pdb, applied)) == 3
    async with pdb.database.session() as session:
        assert (await session.execute(select(func.count()).select_from(pdb.tables.processed_events))).scalar_one() == 3


async def test_idempotent_consumer_under_concurrent_duplicate_deliveries(consumer_db) -> None:
    pdb, applied = consumer_db

    async def apply(session: AsyncSession, event: Event) -> None:
        await asyncio.sleep(0.01)  # widen the race window
        await session.execute(insert(applied).values(event_id=event.id, n=event.data["n"]))

    handle = idempotent_consumer(pdb.database, pdb.tables, "racer", apply)
    event = Event(uuid.uuid4(), "sop.test.thing.created", datetime_now(), {"n": 7})
    await asyncio.gather(*[handle(event) for _ in range(5)])
    assert await _applied(pdb, applied) == [(event.id, 7)]


async def test_a_failed_application_is_not_recorded_and_is_retried(consumer_db) -> None:
    pdb, applied = consumer_db
    attempts: list[int] = []

    async def apply(session: AsyncSession, event: Event) -> None:
        attempts.append(1)
        await session.execute(insert(applied).values(event_id=event.id, n=event.data["n"]))
        if len(attempts) == 1:
            raise RuntimeError("projection failed half-way")

    handle = idempotent_consumer(pdb.database, pdb.tables, "retry", apply)
    event = Event(uuid.uuid4(), "sop.test.thing.created", datetime_now(), {"n": 3})
    with pytest.raises(RuntimeError):
        await handle(event)  # the bus sees the failure and redelivers
    assert await _applied(pdb, applied) == []
    await handle(event)
    await handle(event)
    assert await _applied(pdb, applied) == [(event.id, 3)]


async def test_an_integrity_error_inside_apply_is_a_failure_not_a_duplicate(consumer_db) -> None:
    """Only the consumer's own duplicate check may swallow an IntegrityError; one raised by the application
    itself must fail the delivery (so the bus redelivers), or the event would be acknowledged unapplied."""
    pdb, applied = consumer_db
    unique_thing = pdb.metadata.tables["unique_thing"]
    async with pdb.database.session() as session:
        await session.execute(insert(unique_thing).values(name="taken"))

    async def apply(session: AsyncSession, event: Event) -> None:
        await session.execute(insert(applied).values(event_id=event.id, n=event.data["n"]))
        await session.execute(insert(unique_thing).values(name=event.data["name"]))

    handle = idempotent_consumer(pdb.database, pdb.tables, "strict", apply)
    event = Event(uuid.uuid4(), "sop.test.thing.created", datetime_now(), {"n": 4, "name": "taken"})
    with pytest.raises(IntegrityError):
        await handle(event)
    assert await _applied(pdb, applied) == []
    async with pdb.database.session() as session:
        assert (await session.execute(select(func.count()).select_from(pdb.tables.processed_events))).scalar_one() == 0


async def test_two_relays_on_postgresql_publish_each_event_exactly_once(postgres_database) -> None:
    pdb = await open_platform_database(postgres_database.url)
    try:
        emitted = await emit_many(pdb, 120, per_transaction=20)
        bus = InProcessBus()

        async def slow_publish(event: Event, original=bus.publish) -> None:
            await asyncio.sleep(0)
            await original(event)

        bus.publish = slow_publish  # type: ignore[method-assign]
        relays = [OutboxRelay(pdb.database, pdb.tables, bus, batch_size=10) for _ in range(2)]
        counts = await asyncio.gather(*[r.drain() for r in relays])
        assert sum(counts) == 120
        assert sorted(e.id for e in bus.published) == [e.id for e in emitted]  # none lost, none twice
    finally:
        await pdb.database.dispose()


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("sop.>", "sop.plans.plan.signed", True),
        ("sop.>", "sop", False),
        ("sop.*.plan.*", "sop.plans.plan.signed", True),
        ("sop.*", "sop.plans.plan", False),
        ("sop.plans.plan.signed", "sop.plans.plan.signed", True),
        ("sop.network.>", "sop.plans.plan.signed", False),
    ],
)
def test_in_process_subject_matching_follows_nats(pattern: str, subject: str, matches: bool) -> None:
    assert _nats_match(pattern, subject) is matches


def datetime_now():
    from sop_shared.db import utcnow

    return utcnow()
