"""A statement compiled once (`CompiledStatement`) gives the rows SQLAlchemy's own execution gives, on SQLite and
PostgreSQL, outside a transaction (asyncpg itself on PostgreSQL) and inside one (SQLAlchemy's plain SQL), for every
length of an `IN` list; and a driver's error is the one SQLAlchemy raises (a 503 to retry, a lost connection
replaced)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from sop_shared import compiled_statements
from sop_shared.compiled_statements import CompiledStatement
from sop_shared.db import Database, UTCDateTime, database_problem, enum_column, json_column_value

pytestmark = pytest.mark.sqlite_smoke  # SQLite converts every type itself: its rows could differ


class Kind(StrEnum):
    visit = "visit"
    call = "call"


metadata = MetaData()
note_t = Table(
    "compiled_note",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("kind", enum_column(Kind), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("on_day", Date, nullable=True),
    Column("done", Boolean, nullable=False),
    Column("words", JSON, nullable=True),
    Column("text", String(200), nullable=True),
    Column("rank", Integer, nullable=False),
)
CASES = [uuid.UUID(int=i) for i in range(1, 5)]
START = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)

NOTES = (
    select(
        note_t.c.id,
        note_t.c.kind,
        note_t.c.at,
        note_t.c.on_day,
        note_t.c.done,
        note_t.c.words,
        note_t.c.text,
        literal_column("7", Integer).label("seven"),
    )
    .where(
        note_t.c.case_id.in_(bindparam("case_ids", expanding=True)),
        note_t.c.rank <= bindparam("most", type_=Integer),
        note_t.c.text != "never shown",  # a value the statement binds itself
    )
    .order_by(note_t.c.rank, note_t.c.id)
)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.create_all(metadata)
    rows: list[dict[str, Any]] = []
    for rank in range(12):
        case = CASES[rank % 3]  # the last case has no notes
        rows.append(
            {
                "id": uuid.UUID(int=1000 + rank),
                "case_id": case,
                "kind": Kind.visit if rank % 2 else Kind.call,
                "at": START + timedelta(hours=rank),
                "on_day": date(2026, 12, 1 + rank) if rank % 3 else None,
                "done": bool(rank % 2),
                "words": {"en": f"note {rank}", "n": [rank, None, 1.5]} if rank % 4 else None,
                "text": f"the family's note {rank}" if rank % 5 else None,
                "rank": rank,
            }
        )
    async with database.session() as session:
        await session.execute(insert(note_t), rows)
    try:
        yield database
    finally:
        await database.dispose()


async def _the_long_way(database: Database, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    async with database.engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(NOTES, params)).all()]


@pytest.mark.parametrize("count", [0, 1, 3, 4])
async def test_the_rows_are_sqlalchemys_for_every_length_of_an_in_list(database: Database, count: int) -> None:
    statement = CompiledStatement(NOTES)
    params = {"case_ids": CASES[:count], "most": 10}
    expected = await _the_long_way(database, params)
    assert bool(expected) == (count > 0)
    async with database.read_session() as session:  # outside a transaction: asyncpg itself on PostgreSQL
        outside = await statement.rows(await session.connection(), params)
    async with database.session() as session:  # in a unit of work: SQLAlchemy's plain SQL
        inside = await statement.rows(await session.connection(), params)
    assert outside == expected and inside == expected
    for row in outside:  # the types SQLAlchemy converts to, not the driver's
        assert type(row[1]) is Kind and row[2].tzinfo is UTC and isinstance(row[0], uuid.UUID)
    # twice, from the forms kept (one per length), and the lengths do not mix
    every_case = {"case_ids": CASES, "most": 2}
    expected_for_every_case = await _the_long_way(database, every_case)
    async with database.read_session() as session:
        assert await statement.rows(await session.connection(), params) == expected
        assert await statement.rows(await session.connection(), every_case) == expected_for_every_case


async def test_statements_go_sqlalchemys_way_while_something_listens_to_them(database: Database) -> None:
    """The statement spans (when exported) and a test's count see every statement: with a listener on the engine
    the statement is SQLAlchemy's plain SQL, the same text as its own execution sends."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    params = {"case_ids": CASES[:2], "most": 10}
    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        expected = await _the_long_way(database, params)
        async with database.read_session() as session:
            assert await CompiledStatement(NOTES).rows(await session.connection(), params) == expected
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert len(seen) == 2 and seen[0] == seen[1]


async def test_asyncpg_is_used_itself_only_outside_a_transaction(postgres_database_url: str) -> None:
    database = Database(postgres_database_url)
    try:
        async with database.read_session() as session:
            assert compiled_statements._asyncpg_outside_transaction(await session.connection()) is not None
        async with database.session() as session:
            assert compiled_statements._asyncpg_outside_transaction(await session.connection()) is None
    finally:
        await database.dispose()


SLEEP = CompiledStatement(select(func.pg_sleep(bindparam("seconds", type_=Integer)).label("slept")))


async def test_a_statement_past_the_statement_timeout_is_sqlalchemys_error_a_503(postgres_database_url: str) -> None:
    database = Database(postgres_database_url, pool_size=1, statement_timeout_seconds=0.3)
    try:
        async with database.read_session() as session:
            with pytest.raises(DBAPIError) as raised:
                await SLEEP.rows(await session.connection(), {"seconds": 2})
        problem = database_problem(raised.value)
        assert problem is not None and problem.status == 503
        async with database.read_session() as session:  # the connection is fine afterwards
            assert await SLEEP.rows(await session.connection(), {"seconds": 0}) == [(None,)]
    finally:
        await database.dispose()


async def test_a_connection_ended_under_a_statement_is_a_503_and_the_next_is_answered(
    postgres_database_url: str,
) -> None:
    database = Database(postgres_database_url, pool_size=1, statement_timeout_seconds=30)
    admin = create_async_engine(postgres_database_url, poolclass=NullPool)

    async def slow() -> None:
        async with database.read_session() as session:
            await SLEEP.rows(await session.connection(), {"seconds": 5})

    try:
        sleeping = asyncio.create_task(slow())
        await asyncio.sleep(0.5)
        async with admin.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        with pytest.raises(DBAPIError) as raised:
            await asyncio.wait_for(sleeping, timeout=10)
        assert raised.value.connection_invalidated
        problem = database_problem(raised.value)
        assert problem is not None and problem.status == 503
        async with database.read_session() as session:
            assert await SLEEP.rows(await session.connection(), {"seconds": 0}) == [(None,)]
    finally:
        await admin.dispose()
        await database.dispose()


@pytest.mark.parametrize(
    "text",
    [
        '{"en": "note", "n": [1, null, 1.5, -0.0, 2.2e-5, true], "a": {"b": "\\u00e9\\ud83d\\ude00"}}',
        "12345678901234567890123",  # past 64 bits: orjson would give a float
        "[9223372036854775807, -9223372036854775808, 18446744073709551615]",
        '"\\ud800"',  # a lone surrogate escape: orjson refuses it
        "1e400",  # beyond a double: orjson refuses it
        '{"a": 1, "a": 2}',
        '"text"',
        "[]",
    ],
)
def test_a_json_column_reads_as_the_standard_library_reads_it(text: str) -> None:
    value = json_column_value(text)
    assert repr(value) == repr(json.loads(text)) and type(value) is type(json.loads(text))


def test_text_that_is_not_json_is_the_standard_librarys_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        json_column_value("{'not': json}")
