"""`sop_network.bulk.insert_rows` by COPY fails as an INSERT fails: a cancelled statement and a lost connection are
the errors the service answers 503 (retry) for, never an unexplained 500, and nothing is written."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text

from sop_network.bulk import COPY_MIN_ROWS, insert_rows
from sop_shared.db import Database, database_problem
from sop_shared.problems import ServiceUnavailable

pytestmark = pytest.mark.postgres

metadata = MetaData()
notes = Table("bulk_note", metadata, Column("id", Integer, primary_key=True), Column("text", String))
ROWS = [{"id": n, "text": f"note {n}"} for n in range(COPY_MIN_ROWS + 10)]


@pytest.fixture
async def database(postgres_database_url: str) -> Any:
    db = Database(postgres_database_url)
    await db.create_all(metadata)
    yield db
    await db.dispose()


async def count(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(notes))).scalar_one())


async def test_the_copy_writes_the_rows(database: Database) -> None:
    async with database.session() as session:
        await insert_rows(session, notes, ROWS)
    assert await count(database) == len(ROWS)


async def test_a_copy_cancelled_by_the_statement_timeout_is_a_503_and_writes_nothing(database: Database) -> None:
    async with database.engine.connect() as holder:  # another transaction holds the table
        await holder.execute(text("LOCK TABLE bulk_note IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(Exception) as raised:
            async with database.session() as session:
                await session.execute(text("SET LOCAL statement_timeout = 200"))
                await insert_rows(session, notes, ROWS)
        await holder.rollback()
    assert isinstance(database_problem(raised.value), ServiceUnavailable)
    assert await count(database) == 0


async def test_a_copy_whose_connection_is_lost_is_a_503_and_writes_nothing(database: Database) -> None:
    with pytest.raises(Exception) as raised:
        async with database.session() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with database.engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await asyncio.sleep(0.2)
            await insert_rows(session, notes, ROWS)
    assert isinstance(database_problem(raised.value), ServiceUnavailable)
    assert await count(database) == 0
