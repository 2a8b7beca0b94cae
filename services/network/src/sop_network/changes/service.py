"""Every change this service makes, recorded twice in the writer's transaction: in the outbox (relayed to
NATS) and in the change log with a gap-free, commit-ordered sequence (pulled through `GET /v1/changes`).

Why a counter row and not UUIDv7 or timestamps: ids and clocks are assigned when a transaction *writes*,
not when it *commits*, so on PostgreSQL a reader can see id 7 before id 6 commits and a cursor past 7
would skip 6 for ever. Each writer here takes its sequence numbers by `UPDATE change_counter SET seq =
seq + n ... RETURNING seq`; that row lock is held until the writer commits or rolls back, so the next
writer can only take a higher number once the lower one is settled. A reader therefore never sees a
number while a lower one is still in flight, and `seq > cursor` never misses a change. (Every write here
also appends to the audit chain, which serialises on its head row the same way, so this adds no
contention that was not already there.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.bulk import insert_rows
from sop_network.models import ChangeCounter, ChangeLog, platform
from sop_shared.db import table_of, utcnow
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.outbox import outbox_written
from sop_shared.tracing import current_trace_context


@dataclass(frozen=True)
class Change:
    subject: str
    data: dict[str, Any]
    case_id: uuid.UUID | None = None


async def take_sequences(session: AsyncSession, count: int) -> int:
    """Reserve `count` sequence numbers; returns the first. Holds the counter row lock until commit."""
    counter = table_of(ChangeCounter)
    advance = update(counter).where(counter.c.id == 1).values(seq=counter.c.seq + count).returning(counter.c.seq)
    last = (await session.execute(advance)).scalar_one_or_none()
    if last is None:  # a database migrated without the counter row (never in practice): make it
        await session.execute(insert(counter).values(id=1, seq=0))
        last = (await session.execute(advance)).scalar_one()
    return int(last) - count + 1


async def record_changes(session: AsyncSession, changes: list[Change]) -> list[Event]:
    """Write the changes to the outbox and the change log in the caller's transaction, in this order."""
    if not changes:
        return []
    first = await take_sequences(session, len(changes))
    now = utcnow()
    events = [Event(id=new_id(), subject=c.subject, occurred_at=now, data=c.data, case_id=c.case_id) for c in changes]
    payloads: dict[str, dict[int, Any]] = {"payload": {}}  # each payload's JSON text made once, for both tables
    trace = current_trace_context()  # the writing request's, which the column's default would take for each row
    outbox: list[dict[str, Any]] = []
    change_log: list[dict[str, Any]] = []
    for seq, e in enumerate(events, start=first):  # both tables' rows in one pass over the events
        outbox.append(
            {
                "id": e.id,
                "subject": e.subject,
                "case_id": e.case_id,
                "payload": e.data,
                "occurred_at": e.occurred_at,
                "attempts": 0,
                "trace_context": trace,
            }
        )
        change_log.append(
            {
                "seq": seq,
                "event_id": e.id,
                "subject": e.subject,
                "case_id": e.case_id,
                "payload": e.data,
                "occurred_at": e.occurred_at,
            }
        )
    await insert_rows(session, platform.outbox, outbox, converted=payloads)
    outbox_written(session)
    await insert_rows(session, table_of(ChangeLog), change_log, converted=payloads)
    return events


async def record_change(
    session: AsyncSession, *, subject: str, data: dict[str, Any], case_id: uuid.UUID | None = None
) -> Event:
    return (await record_changes(session, [Change(subject, data, case_id)]))[0]


async def read_changes(
    session: AsyncSession,
    *,
    after: int,
    limit: int,
    case_ids: list[uuid.UUID] | None = None,
    leaving_out: tuple[str, ...] = (),
) -> list[ChangeLog]:
    """Changes after the sequence number `after`, oldest first (`limit` + 1, to tell whether there are more): of
    these cases only, when `case_ids` is given, and without the subjects in `leaving_out`. Both are filters in
    the statement, so a cursor past a left-out change never comes back to it."""
    query = select(ChangeLog).where(col(ChangeLog.seq) > after)
    if case_ids is not None:
        query = query.where(col(ChangeLog.case_id).in_(case_ids))
    if leaving_out:
        query = query.where(col(ChangeLog.subject).not_in(leaving_out))
    return list((await session.execute(query.order_by(col(ChangeLog.seq)).limit(limit + 1))).scalars())
