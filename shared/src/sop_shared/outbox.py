"""The transactional outbox: events are written with the change, in the same transaction, then relayed.

The relay publishes unpublished rows in id order and marks them published only after the bus has
acknowledged them. A crash between the two re-publishes the event on restart; the bus (Nats-Msg-Id)
and the consumers (processed_event) drop the duplicate. Nothing is lost; nothing is applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from sop_shared.db import Database, utcnow
from sop_shared.events import Event, EventBus, Handler
from sop_shared.ids import new_id
from sop_shared.observability import ComponentMetrics
from sop_shared.platform_tables import PlatformTables
from sop_shared.tracing import current_trace_context

log = structlog.get_logger("sop.outbox")

# A session whose transaction wrote outbox rows carries this in its `info` until it commits.
OUTBOX_WRITTEN = "sop.outbox_written"
# The relays running in this process, by the connection pool of the database they relay from: a commit that
# wrote outbox rows wakes the relays of its pool, which publish at once instead of at their next poll.
_relays_by_pool: weakref.WeakKeyDictionary[Pool, set[asyncio.Event]] = weakref.WeakKeyDictionary()


def outbox_written(session: AsyncSession) -> None:
    """Say that `session`'s transaction wrote outbox rows: when it commits, this process's relays for that
    database are woken (every writer of outbox rows calls it: `emit`, network's change log)."""
    session.info[OUTBOX_WRITTEN] = True


@sa_event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if not session.info.pop(OUTBOX_WRITTEN, False):
        return
    # `.engine` is the engine itself, an engine with options' or a connection's: the same pool either way
    for wake in _relays_by_pool.get(session.get_bind().engine.pool, ()):
        wake.set()


@sa_event.listens_for(Session, "after_rollback")
def _forget_outbox_written(session: Session) -> None:
    session.info.pop(OUTBOX_WRITTEN, None)


async def emit(
    session: AsyncSession,
    tables: PlatformTables,
    *,
    subject: str,
    data: dict[str, Any],
    case_id: uuid.UUID | None = None,
) -> Event:
    """Record an event in the caller's transaction: it is published if and only if the change commits (at
    once when it does: the commit wakes this process's relay)."""
    event = Event(
        id=new_id(),
        subject=subject,
        occurred_at=utcnow(),
        data=data,
        case_id=case_id,
        trace_context=current_trace_context(),
    )
    await session.execute(
        insert(tables.outbox).values(
            id=event.id,
            subject=event.subject,
            case_id=case_id,
            payload=event.data,
            occurred_at=event.occurred_at,
            attempts=0,
            trace_context=event.trace_context,
        )
    )
    outbox_written(session)
    return event


@dataclass
class OutboxArchive:
    """A component's outbox as the history of what it published (`EventArchive`): the rows are kept once
    published, so an in-process bus can replay everything from them."""

    database: Database
    tables: PlatformTables

    async def published(self) -> list[tuple[datetime, uuid.UUID, Event]]:
        outbox = self.tables.outbox
        async with self.database.session() as session:
            rows = (await session.execute(select(outbox).where(outbox.c.published_at.is_not(None)))).all()
        return [(_aware(row.published_at), row.id, event_of(row)) for row in rows]


def _aware(moment: datetime) -> datetime:
    """SQLite gives back the UTC times it stores without their zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def event_of(row: Any) -> Event:
    """The event an outbox row holds."""
    return Event(
        id=row.id,
        subject=row.subject,
        occurred_at=row.occurred_at,
        data=row.payload,
        case_id=row.case_id,
        trace_context=row.trace_context,
    )


@dataclass
class OutboxRelay:
    """Publishes the outbox. It runs a round when a commit of this process wrote outbox rows (`outbox_written`),
    and otherwise every `interval_seconds` for the rows it was not told of (another replica's that stopped
    before publishing them, a migration's); a round that a bus failure stopped is tried again after
    `retry_seconds`."""

    database: Database
    tables: PlatformTables
    bus: EventBus
    batch_size: int = 100
    interval_seconds: float = 5.0
    metrics: ComponentMetrics | None = None
    backlog_check_seconds: float = 5.0
    retry_seconds: float = 0.5
    _failed: bool = field(default=False, repr=False)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many were published.

        On PostgreSQL the batch's rows stay locked while they are published (`SKIP LOCKED`: replicas share
        the work, none publishes a row another is publishing). SQLite is one process with one connection:
        there the batch is read, the connection given back, and only then published — an in-process bus runs
        other services' consumers inside `publish`, and two relays each holding their own database while
        waiting for the other's (assessment and plans consume each other's events) would never finish."""
        outbox = self.tables.outbox
        query = select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(self.batch_size)
        if self.database.dialect == "postgresql":
            async with self.database.session() as session:
                rows = (await session.execute(query.with_for_update(skip_locked=True))).all()
                return await self._publish(session, rows)
        async with self.database.session() as session:
            rows = (await session.execute(query)).all()
        if not rows:
            return 0
        published = await self._publish(None, rows)
        return published

    async def _publish(self, session: AsyncSession | None, rows: Any) -> int:
        """Publish rows in order, stopping at the first failure; record each outcome (in `session`, or in a
        short one of its own per row when the batch was read without holding one)."""
        outbox = self.tables.outbox
        published = 0
        for row in rows:
            event = event_of(row)
            try:
                await self.bus.publish(event)
            except Exception as exc:
                # Keep order: stop at the first failure, record it, try again next round.
                await self._record(
                    session,
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(attempts=outbox.c.attempts + 1, last_error=str(exc)[:1000]),
                )
                log.warning("outbox_publish_failed", event_id=str(row.id), error=str(exc))
                self._failed = True
                if self.metrics is not None:
                    self.metrics.outbox_publish_failures.labels(self.metrics.component).inc()
                break
            await self._record(
                session,
                update(outbox)
                .where(outbox.c.id == row.id)
                .values(published_at=utcnow(), attempts=outbox.c.attempts + 1, last_error=None),
            )
            published += 1
        if self.metrics is not None and published:
            self.metrics.outbox_published.labels(self.metrics.component).inc(published)
        return published

    async def _record(self, session: AsyncSession | None, statement: Any) -> None:
        if session is not None:
            await session.execute(statement)
            return
        async with self.database.session() as own:
            await own.execute(statement)

    async def drain(self) -> int:
        total = 0
        while (n := await self.relay_once()) > 0:
            total += n
        return total

    async def measure_backlog(self) -> tuple[int, float]:
        """(unpublished events, age in seconds of the oldest), also set on the metrics when there are any."""
        outbox = self.tables.outbox
        async with self.database.session() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(outbox.c.occurred_at)).where(outbox.c.published_at.is_(None))
                )
            ).one()
        age = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
        if self.metrics is not None:
            self.metrics.outbox_unpublished.labels(self.metrics.component).set(count)
            self.metrics.outbox_oldest_unpublished_seconds.labels(self.metrics.component).set(age)
        return int(count), age

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        wake = asyncio.Event()
        relays = _relays_by_pool.setdefault(self.database.engine.sync_engine.pool, set())
        relays.add(wake)
        measured_at = 0.0
        try:
            while not stop.is_set():
                wake.clear()  # before the round: a commit during it wakes the next one
                self._failed = False
                if self.metrics is not None and time.monotonic() - measured_at >= self.backlog_check_seconds:
                    measured_at = time.monotonic()
                    with contextlib.suppress(Exception):  # the round below logs a database outage
                        await self.measure_backlog()
                try:
                    published = await self.relay_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # database or bus down: keep trying, readiness reports it
                    log.warning("outbox_relay_round_failed", error=str(exc))
                    published, self._failed = 0, True
                if published < self.batch_size:
                    await _first_of(stop, wake, self.retry_seconds if self._failed else self.interval_seconds)
        finally:
            relays.discard(wake)


async def _first_of(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Wait until `stop` or `wake` is set, or `seconds` have passed."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


def idempotent_consumer(database: Database, tables: PlatformTables, consumer: str, apply: Any) -> Handler:
    """Wrap `apply(session, event)` so each event id is applied once per consumer, in one transaction."""

    async def handle(event: Event) -> None:
        async with database.session() as session:
            seen = (
                await session.execute(
                    select(tables.processed_events.c.event_id).where(
                        tables.processed_events.c.consumer == consumer, tables.processed_events.c.event_id == event.id
                    )
                )
            ).first()
            if seen is not None:
                return
            try:
                await session.execute(
                    insert(tables.processed_events).values(consumer=consumer, event_id=event.id, processed_at=utcnow())
                )
            except IntegrityError:
                # A concurrent delivery of the same event won the race: it is applied exactly once.
                # (Only this insert's conflict means "duplicate"; an IntegrityError from `apply` is a
                # failure the bus must see, or the event would be acknowledged without being applied.)
                await session.rollback()
                return
            await apply(session, event)

    return handle
