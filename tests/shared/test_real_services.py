"""The suite's real PostgreSQL / NATS JetStream fixtures work (tests/conftest.py, tests/real_services.py)."""

from __future__ import annotations

import asyncio

import asyncpg
import nats
import pytest
from real_services import (
    create_test_database,
    database_exists,
    drop_database,
    drop_retired,
    retire_database,
    retired_databases,
    server_activity,
    sessions_left,
    unique_name,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

# Runs on SQLite too by default: the suite's own database fixtures.
pytestmark = pytest.mark.sqlite_smoke


async def test_postgres_admin_url_is_a_real_postgresql(postgres_admin_url: str, request) -> None:
    assert postgres_admin_url.startswith("postgresql://")
    conn = await asyncpg.connect(postgres_admin_url)
    try:
        version = await conn.fetchval("select version()")
        in_recovery = await conn.fetchval("select pg_is_in_recovery()")
    finally:
        await conn.close()
    assert version.startswith("PostgreSQL ")
    assert in_recovery is False
    assert request.node.get_closest_marker("postgres") is not None


_seen_databases: list[str] = []


@pytest.mark.parametrize("run", [1, 2])
async def test_each_test_gets_its_own_database(run: int, postgres_database, postgres_admin_url: str) -> None:
    assert postgres_database.url == "postgresql+asyncpg://" + postgres_database.dsn.split("://", 1)[1]
    conn = await asyncpg.connect(postgres_database.dsn)
    try:
        assert await conn.fetchval("select current_database()") == postgres_database.name
        # a brand-new database: no user tables, so nothing leaked from an earlier test
        assert await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'") == 0
        await conn.execute("create table leftover (id int)")
    finally:
        await conn.close()

    admin = await asyncpg.connect(postgres_admin_url)
    try:
        existing = {r["datname"] for r in await admin.fetch("select datname from pg_database")}
    finally:
        await admin.close()
    assert postgres_database.name in existing
    assert postgres_database.name != postgres_admin_url.rsplit("/", 1)[1].split("?")[0]
    for earlier in _seen_databases:  # earlier tests' databases are distinct, and dropped or retired (to be)
        assert earlier != postgres_database.name
        assert earlier not in existing or earlier in retired_databases()
    _seen_databases.append(postgres_database.name)


async def test_a_retired_database_is_left_by_everyone_at_once_and_dropped_later(postgres_admin_url: str) -> None:
    db = await create_test_database(postgres_admin_url, "retired")
    conn = await asyncpg.connect(db.dsn)
    try:
        await retire_database(postgres_admin_url, db.url)  # a URL works as well as a name
        assert await sessions_left(postgres_admin_url, db.name) == 0  # its session ended by the server
    finally:
        conn.terminate()
    assert db.name in retired_databases() and await database_exists(postgres_admin_url, db.name)
    await drop_retired()
    assert not retired_databases() and not await database_exists(postgres_admin_url, db.name)


async def test_the_failure_report_names_a_session_waiting_on_a_lock_and_the_one_holding_it(
    postgres_database, postgres_admin_url: str
) -> None:
    holder = await asyncpg.connect(postgres_database.dsn, server_settings={"application_name": "the-holder"})
    waiter = await asyncpg.connect(postgres_database.dsn, server_settings={"application_name": "the-waiter"})
    try:
        await holder.execute("create table held (id int)")
        holding = holder.transaction()
        await holding.start()
        await holder.execute("lock table held in access exclusive mode")
        waiting = asyncio.create_task(waiter.fetchval("select count(*) from held"))
        await asyncio.sleep(0.3)
        report = server_activity(postgres_admin_url, postgres_database.name)
        elsewhere = server_activity(postgres_admin_url)  # read from another database
        await holding.rollback()
        assert await waiting == 0
    finally:
        await holder.close()
        await waiter.close()
    holder_line = next(line for line in report.splitlines() if "application_name=the-holder" in line)
    waiter_line = next(line for line in report.splitlines() if "application_name=the-waiter" in line)
    holder_pid = holder_line.split("pid=", 1)[1].split(",", 1)[0]
    assert "state=idle in transaction" in holder_line
    assert "wait_event_type=Lock" in waiter_line and f"blocked_by=[{holder_pid}]" in waiter_line
    assert (
        f"datname={postgres_database.name}, locktype=relation, mode=AccessShareLock, relation=held"
        in (report.split("lock(s) waited for:", 1)[1])
    )
    [waited] = [line for line in elsewhere.split("lock(s) waited for:", 1)[1].splitlines() if line.strip()]
    assert "relation=held" not in waited and waited.split("relation=", 1)[1].split(",", 1)[0].isdigit()


async def test_create_and_drop_database(postgres_admin_url: str) -> None:
    first = await create_test_database(postgres_admin_url, "helper check")
    second = await create_test_database(postgres_admin_url, "helper check")
    try:
        assert first.name != second.name
        assert first.name.startswith("helper_check_")
        conn = await asyncpg.connect(first.dsn)
        await conn.execute("create table only_in_first (id int)")
        # a connection still open at drop time must not block the drop
        conn_second = await asyncpg.connect(second.dsn)
        try:
            assert await conn_second.fetchval("select to_regclass('only_in_first')") is None
        finally:
            await drop_database(postgres_admin_url, first.name)
            await conn_second.close()
        assert conn.is_closed() or not await _still_usable(conn)
    finally:
        await drop_database(postgres_admin_url, second.dsn)  # a DSN works as well as a name
        await drop_database(postgres_admin_url, first.name)  # idempotent
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        names = {r["datname"] for r in await admin.fetch("select datname from pg_database")}
    finally:
        await admin.close()
    assert first.name not in names
    assert second.name not in names


async def _still_usable(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("select 1")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError, OSError):
        return False
    finally:
        await conn.close()
    return True


async def test_database_url_works_with_sqlalchemy(database_url: str, request) -> None:
    variant = request.node.callspec.params["database_url"]
    if variant == "sqlite":
        assert database_url.startswith("sqlite+aiosqlite:///")
        assert request.node.get_closest_marker("postgres") is None
    else:
        assert database_url.startswith("postgresql+asyncpg://")
        assert request.node.get_closest_marker("postgres") is not None
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("create table t (id integer primary key, name text)"))
            await conn.execute(text("insert into t (id, name) values (1, 'a'), (2, 'b')"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("select count(*) from t"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_jetstream_publish_and_fetch(nats_url: str, request) -> None:
    assert request.node.get_closest_marker("nats") is not None
    stream = unique_name("test_stream").upper()
    subject = f"{stream.lower()}.events"
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
        try:
            sent = [f"message {i}".encode() for i in range(3)]
            for i, payload in enumerate(sent, start=1):
                ack = await js.publish(subject, payload)
                assert ack.stream == stream
                assert ack.seq == i
            sub = await js.pull_subscribe(subject, durable=f"{stream}_reader", stream=stream)
            msgs = await sub.fetch(3, timeout=5)
            for msg in msgs:
                await msg.ack()
            assert [m.data for m in msgs] == sent
            assert [m.subject for m in msgs] == [subject] * 3
            info = await js.stream_info(stream)
            assert info.state.messages == 3
        finally:
            await js.delete_stream(stream)
    finally:
        await nc.close()


async def test_redis_url_is_a_real_redis(redis_url: str) -> None:
    import redis.asyncio

    client = redis.asyncio.from_url(redis_url)
    try:
        assert await client.ping() is True
    finally:
        await client.aclose()


def test_a_redis_named_but_not_answering_fails_rather_than_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    import real_services

    monkeypatch.setenv(real_services.REDIS_URL_ENV, "redis://127.0.0.1:1/0")
    with pytest.raises(RuntimeError, match="No Redis for the tests"):
        real_services.redis_url()


def test_on_a_machine_without_redis_the_suite_starts_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    import real_services

    monkeypatch.delenv(real_services.REDIS_URL_ENV, raising=False)
    monkeypatch.setattr(real_services, "DEFAULT_REDIS_URL", "redis://127.0.0.1:1/0")  # nobody answers there
    monkeypatch.setattr(real_services, "_redis_server", None)
    url = real_services.redis_url()
    try:
        assert url != "redis://127.0.0.1:1/0" and real_services._redis_answers(url)
    finally:
        server = real_services._redis_server
        assert server is not None
        server.stop()
        assert not real_services._redis_answers(url, timeout=0.5)
