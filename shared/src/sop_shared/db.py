"""Async database access for both embedded SQLite (aiosqlite) and PostgreSQL (asyncpg).

One `Database` per component; one session per request that commits on success and rolls back on error.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import MetaData, Table, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime, TypeDecorator

if TYPE_CHECKING:
    from sop_shared.problems import Problem
    from sop_shared.settings import ComponentSettings

BEFORE_COMMIT = "sop_before_commit"
AFTER_READS = "sop_after_reads"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """A component's own MetaData (its own migration history) with the project's naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored with time zone and always returned as aware UTC (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must carry a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# An integer too long for 64 bits: orjson would read it as a float, the standard library as the exact int.
_LONG_NUMBER = re.compile(r"\d{19}")


def json_column_value(text: str) -> Any:
    """A JSON column's value, as `json.loads` reads it, read by orjson (several times faster: a case view decodes
    hundreds of them). Where the two could differ, the standard library reads it: an integer of 19 digits or more
    (orjson's are 64-bit), and anything orjson refuses (a lone surrogate escape, a number beyond a double's range,
    text that is not JSON, which then raises `json.loads`'s error)."""
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def asyncpg_connect_args(
    statement_timeout_seconds: float, statement_cache_size: int | None, application_name: str | None = None
) -> dict[str, Any]:
    """asyncpg's connection arguments: the statement timeout and the application name (server settings of the
    session: `pg_stat_activity` and the server's log then say which component a connection is, `sop-network`),
    and the prepared-statement caches (asyncpg's own and SQLAlchemy's dialect's). With no cache (0, for PgBouncer
    in transaction mode) each statement is prepared under a unique name, so two clients sharing one server
    connection never collide on asyncpg's numbered names."""
    args: dict[str, Any] = {}
    server_settings: dict[str, str] = {}
    if statement_timeout_seconds > 0:
        server_settings["statement_timeout"] = str(int(statement_timeout_seconds * 1000))
    if application_name:
        server_settings["application_name"] = application_name
    if server_settings:
        args["server_settings"] = server_settings
    if statement_cache_size is not None:
        args["statement_cache_size"] = statement_cache_size
        args["prepared_statement_cache_size"] = statement_cache_size
        if statement_cache_size == 0:
            args["prepared_statement_name_func"] = _unique_statement_name
    return args


def _unique_statement_name() -> str:
    return f"__sop_{uuid.uuid4().hex}__"


class Database:
    """Engine and session factory for one component's database.

    On PostgreSQL every statement is cut off after `statement_timeout_seconds` and waiting for a pooled
    connection after `pool_timeout_seconds`; both end in a rollback and a 503 with Retry-After (see
    `database_problem`), never a 500 and never a commit. The gateway waits longer than this for a service's
    answer to a write (`upstream_write_timeout_seconds`), so it never answers "failed" for a write that a service
    then commits."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 8,
        max_overflow: int | None = 0,
        pool_timeout_seconds: float = 10.0,
        statement_timeout_seconds: float = 10.0,
        statement_cache_size: int | None = None,
        application_name: str | None = None,
    ) -> None:
        self.url = url
        # No `pool_pre_ping` (a `SELECT 1` round trip on every checkout, i.e. every request): a connection the
        # server closed (a restart, `pg_terminate_backend`, an idle timeout) is known to asyncpg without asking,
        # and is replaced on checkout (`_replace_closed_connection`); one that dies during a request fails that
        # request with a 503 to retry (`database_problem`), and SQLAlchemy then renews the whole pool.
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": False, "json_deserializer": json_column_value}
        if is_sqlite(url):
            database = make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # SQLite allows one writer; a single pooled connection serialises transactions instead of
            # failing them with "database is locked" (embedded mode is for one family at a desk).
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
        else:
            kwargs.update(
                pool_size=pool_size,
                max_overflow=pool_size if max_overflow is None else max_overflow,
                pool_timeout=pool_timeout_seconds,
            )
            if make_url(url).get_driver_name() == "asyncpg":
                kwargs["connect_args"] = asyncpg_connect_args(
                    statement_timeout_seconds, statement_cache_size, application_name
                )
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if is_sqlite(url):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine.sync_engine, "checkout", _replace_closed_connection)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # Reads on PostgreSQL run outside any transaction (AUTOCOMMIT: asyncpg sends no BEGIN or COMMIT, each
        # statement is its own transaction, as each statement of a READ COMMITTED transaction sees its own
        # snapshot anyway). SQLite has no round trip to save, and keeps its one connection's usual mode.
        self.read_engine = (
            self.engine if is_sqlite(url) else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.read_sessionmaker = async_sessionmaker(
            self.read_engine, expire_on_commit=False, autoflush=False, sync_session_class=ReadSession
        )
        from sop_shared.tracing import exporting, instrument_engine  # here: tracing's settings import this module

        if exporting():  # a span per statement only where spans go somewhere
            instrument_engine(self.engine)

    @classmethod
    def for_component(cls, settings: ComponentSettings) -> Database:
        """The component's database with its configured pool and timeouts."""
        return cls(
            settings.resolved_database_url,
            echo=settings.database_echo,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout_seconds=settings.database_pool_timeout_seconds,
            statement_timeout_seconds=settings.database_statement_timeout_seconds,
            statement_cache_size=settings.database_statement_cache_size,
            application_name=f"sop-{settings.component}",
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self, *, defer_to_commit: bool = False) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit when the block succeeds, roll back when it raises.

        `defer_to_commit`: steps queued with `before_commit` run just before the commit instead of where they
        were asked for, so a lock they take (the audit chain head, which every request of a component waits
        for) is held only from there to the commit, not while the rest of the request runs."""
        async with self.sessionmaker() as session:
            if defer_to_commit:
                session.info[BEFORE_COMMIT] = []
            try:
                yield session
                for step in session.info.pop(BEFORE_COMMIT, []):
                    await step()
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A read that changes nothing but the audit trail: its statements run outside a transaction (on
        PostgreSQL no BEGIN and no COMMIT, two round trips fewer), and the steps it queues with `after_reads`
        (its audit records) run once the reads are done and its connection is back in the pool, each in a unit
        of its own; a step that fails fails the block (so a read whose audit record cannot be written is not
        answered). The session refuses to flush ORM changes; Core writes do not belong here either: each
        would be a transaction of its own."""
        steps: list[Callable[[Database], Awaitable[Any]]] = []
        async with self.read_sessionmaker() as session:
            session.info[AFTER_READS] = steps
            try:
                yield session
                if BEFORE_COMMIT in session.info:  # it found it must write (`begin_writing`): a unit of work now
                    for step in session.info.pop(BEFORE_COMMIT):
                        await step()
                    await session.commit()
            except BaseException:
                await session.rollback()
                raise
        for step in steps:
            await step(self)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def create_all(self, metadata: MetaData) -> None:
        """Tables straight from models — for throwaway test databases; real ones use migrations."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # busy_timeout first: switching to WAL itself needs the lock another connection may hold.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _replace_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """On checkout: a pooled connection its driver already knows is closed (asyncpg marks it when the server
    ends it, with no round trip) is replaced by a new one before the request uses it."""
    is_closed = getattr(getattr(dbapi_connection, "_connection", None), "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the server closed this pooled connection")


class ReadSession(Session):
    """The ORM session of `Database.read_session`: it has no transaction to make ORM changes atomic in, so it
    refuses to flush any, unless it began writing (`begin_writing`)."""


@event.listens_for(ReadSession, "before_flush")
def _refuse_changes_in_reads(session: Session, _flush_context: Any, _instances: Any) -> None:
    if BEFORE_COMMIT not in session.info and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read session writes nothing: use Database.session (SessionDep) for changes")


async def begin_writing(session: AsyncSession) -> None:
    """For a read that finds it must write first (the plans' read bringing a plan due to start into force):
    from here on the read session is a unit of work like `SessionDep`'s: its changes, and the audit records
    asked for from here on, commit together when the request succeeds and roll back when it fails. Nothing for
    a session that already is one."""
    if session.info.pop(AFTER_READS, None) is None:
        return
    session.info[BEFORE_COMMIT] = []
    await session.commit()  # ends the reads so far: outside a transaction, there is nothing to commit
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        await session.connection(execution_options={"isolation_level": bind.dialect.default_isolation_level})


def after_reads(session: AsyncSession, step: Callable[[Database], Awaitable[Any]]) -> bool:
    """Queue `step` to run once this read session's reads are done (its connection released), before the
    response; False (nothing queued) when the session is not a read session, and the caller should do it in
    the session's own transaction."""
    steps = session.info.get(AFTER_READS)
    if steps is None:
        return False
    steps.append(step)
    return True


def before_commit(session: AsyncSession, step: Callable[[], Awaitable[Any]]) -> bool:
    """Queue `step` to run just before this session commits; False (nothing queued) when the session was not
    opened with `defer_to_commit`, and the caller should do it now."""
    steps = session.info.get(BEFORE_COMMIT)
    if steps is None:
        return False
    steps.append(step)
    return True


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.session(defer_to_commit=True) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a 201 means it is stored.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _request_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.read_session() as session:
        yield session


# For endpoints that only read (and audit what they showed): no transaction around the reads; the audit record
# is written after them and before the response is sent (scope="function"), and a failure to write it fails
# the request, so nothing is shown unaudited.
ReadSessionDep = Annotated[AsyncSession, Depends(_request_read_session, scope="function")]


def enum_column(enum_class: type[Any], **kwargs: Any) -> Any:
    """A closed set stored as its string value (no native database ENUM, so adding a value is not a
    schema change); SQLAlchemy still refuses values outside the set."""
    from sqlalchemy import Enum

    return Enum(
        enum_class,
        native_enum=False,
        length=40,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        **kwargs,
    )


def table_of(model: type[Any]) -> Table:
    """The Core table a SQLModel table class maps (its `__table__`, which SQLModel does not declare for type
    checkers), for Core statements such as a bulk `insert(table)`."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


# SQLSTATEs that mean "busy now, nothing was done, try again shortly": the statement ran past
# statement_timeout (57014), a lock was not granted in time (55P03), the server has no connection left
# (53300), a deadlock or serialisation failure chose this transaction to roll back (40P01, 40001), the server
# is shutting down, ended this session or is starting (57P01, 57P02, 57P03).
TRANSIENT_SQLSTATES = {"57014", "55P03", "53300", "40P01", "40001", "57P01", "57P02", "57P03"}
RETRY_AFTER_SECONDS = 1


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE the server gave for a SQLAlchemy error: on its adapter's error, or on the driver's error that
    the adapter wraps (asyncpg's)."""
    original = getattr(exc, "orig", None)
    sqlstate = getattr(original, "sqlstate", None) or getattr(getattr(original, "__cause__", None), "sqlstate", None)
    return str(sqlstate) if sqlstate else None


def busy_cause(exc: BaseException) -> dict[str, str]:
    """What made a database busy, for the log: the error's class, its SQLSTATE where the server gave one, and
    the first line of the server's message (for these states it names no row: "canceling statement due to
    statement timeout", "could not obtain lock on row in relation ...")."""
    original = getattr(exc, "orig", None)
    # SQLAlchemy's asyncpg adapter wraps the driver's error (asyncpg's `QueryCanceledError`): name the driver's.
    driver_error = getattr(original, "__cause__", None) or original or exc
    cause: dict[str, str] = {"error": type(driver_error).__name__}
    sqlstate = sqlstate_of(exc)
    if sqlstate:
        cause["sqlstate"] = sqlstate
    message = str(driver_error).strip().splitlines()
    if message:
        cause["message"] = message[0][:200]
    return cause


def database_problem(exc: BaseException) -> Problem | None:
    """The 503 for a database that is busy rather than broken (a pool timeout, a cancelled statement, no free
    connection), or None for anything else. The transaction was rolled back, so the caller may simply retry;
    the gateway does, within its retry budget."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from sop_shared.problems import ServiceUnavailable

    if isinstance(exc, PoolTimeout):
        return ServiceUnavailable("the database is busy; retry shortly", retry_after=RETRY_AFTER_SECONDS)
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        # The connection died under the request (the server restarted or ended it): rolled back with it, and
        # the pool is renewed, so a retry gets a live connection.
        return ServiceUnavailable("the database connection was lost; retry shortly", retry_after=RETRY_AFTER_SECONDS)
    if isinstance(exc, DBAPIError):
        if sqlstate_of(exc) in TRANSIENT_SQLSTATES:
            return ServiceUnavailable("the database is busy; retry shortly", retry_after=RETRY_AFTER_SECONDS)
    return None
