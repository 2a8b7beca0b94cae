"""Database: a session is a unit of work on both backends, and timestamps are always aware UTC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import StatementError

from sop_shared.db import Database, UTCDateTime, asyncpg_connect_args, is_sqlite, service_metadata
from sop_shared.settings import ComponentSettings

# Runs on SQLite too by default: the database layer itself (SQLite pragmas, one pooled connection, time zones).
pytestmark = pytest.mark.sqlite_smoke

metadata: MetaData = service_metadata()
notes = Table(
    "throwaway_note",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", String(100), nullable=False),
    Column("at", UTCDateTime, nullable=True),
)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.create_all(metadata)
    yield db
    await db.dispose()


async def _texts(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(select(notes.c.text).order_by(notes.c.id))).scalars())


async def test_the_backend_is_the_one_asked_for(database: Database, database_url: str) -> None:
    assert database.dialect == ("sqlite" if is_sqlite(database_url) else "postgresql")
    await database.ping()


async def test_session_commits_when_the_block_succeeds(database: Database) -> None:
    async with database.session() as session:
        await session.execute(insert(notes).values(id=1, text="kept"))
    assert await _texts(database) == ["kept"]


async def test_session_rolls_back_when_the_block_raises(database: Database) -> None:
    async with database.session() as session:
        await session.execute(insert(notes).values(id=1, text="before"))

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with database.session() as session:
            await session.execute(insert(notes).values(id=2, text="lost"))
            # visible inside the unit of work...
            assert (await session.execute(select(func.count()).select_from(notes))).scalar_one() == 2
            raise Boom
    # ...and gone after it failed
    assert await _texts(database) == ["before"]


async def test_a_failed_statement_rolls_back_the_whole_unit(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with database.session() as session:
            await session.execute(insert(notes).values(id=5, text="first"))
            await session.execute(insert(notes).values(id=5, text="duplicate key"))
    assert await _texts(database) == []


async def test_utc_datetime_round_trips_as_aware_utc(database: Database) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=plus_two)
    utc = datetime(2026, 10, 2, 23, 59, 59, 999999, tzinfo=UTC)
    async with database.session() as session:
        await session.execute(insert(notes).values(id=1, text="local", at=local))
        await session.execute(insert(notes).values(id=2, text="utc", at=utc))
        await session.execute(insert(notes).values(id=3, text="none", at=None))
    async with database.session() as session:
        rows = (await session.execute(select(notes.c.id, notes.c.at).order_by(notes.c.id))).all()
    assert rows[0].at == local  # the same instant...
    assert rows[0].at.utcoffset() == timedelta(0)  # ...expressed in UTC
    assert rows[0].at.replace(tzinfo=None) == datetime(2026, 3, 28, 23, 30, 15, 123456)
    assert rows[1].at == utc and rows[1].at.tzinfo is not None and rows[1].at.utcoffset() == timedelta(0)
    assert rows[2].at is None

    async with database.session() as session:  # comparisons happen in UTC too
        later = (
            (
                await session.execute(
                    select(notes.c.id)
                    .where(notes.c.at > datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
                    .order_by(notes.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert later == [1, 2]


async def test_utc_datetime_refuses_naive_datetimes(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with database.session() as session:
            await session.execute(insert(notes).values(id=1, text="naive", at=datetime(2026, 1, 1, 12, 0)))
    assert await _texts(database) == []


def test_the_pool_defaults_let_two_replicas_of_four_components_share_a_default_server() -> None:
    settings = ComponentSettings()
    per_process = settings.database_pool_size + (settings.database_max_overflow or 0)
    assert 2 * 4 * per_process <= 100 - 3  # max_connections minus superuser_reserved_connections


async def test_a_components_connections_say_which_component_they_are(postgres_database_url: str) -> None:
    """`pg_stat_activity` (and the server's log) names the component a connection belongs to."""
    database = Database.for_component(ComponentSettings(component="network", database_url=postgres_database_url))
    try:
        async with database.read_session() as session:
            name = (await session.execute(select(func.current_setting("application_name")))).scalar_one()
    finally:
        await database.dispose()
    assert name == "sop-network"


def test_the_statement_caches_follow_the_setting() -> None:
    assert asyncpg_connect_args(10, None) == {"server_settings": {"statement_timeout": "10000"}}
    assert asyncpg_connect_args(10, None, "sop-plans") == {
        "server_settings": {"statement_timeout": "10000", "application_name": "sop-plans"}
    }
    assert asyncpg_connect_args(0, 500) == {"statement_cache_size": 500, "prepared_statement_cache_size": 500}
    behind_pgbouncer = asyncpg_connect_args(0, 0)
    name = behind_pgbouncer.pop("prepared_statement_name_func")
    assert behind_pgbouncer == {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
    assert name() != name()  # unique: clients sharing a server connection never collide


@pytest.mark.postgres
async def test_without_a_statement_cache_statements_still_run(postgres_database_url: str) -> None:
    db = Database(postgres_database_url, statement_cache_size=0, pool_size=1, max_overflow=0)
    try:
        await db.create_all(metadata)
        for text in ("one", "two", "three"):  # the same statement, prepared anew each time
            async with db.session() as session:
                await session.execute(insert(notes).values(text=text))
        assert await _texts(db) == ["one", "two", "three"]
    finally:
        await db.dispose()
