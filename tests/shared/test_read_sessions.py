"""Read requests (`ReadSessionDep`): their statements run outside a transaction (on PostgreSQL no BEGIN and no
COMMIT round trip), and the audit record of what they showed is written after the reads, before the answer,
in a unit of its own: a read whose record cannot be written is not answered, and reads appended together,
beside writes and another replica, still give one contiguous, intact chain. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sop_shared_support import PlatformDatabase, open_platform_database
from sqlalchemy import event, func, insert, select, text

from sop_shared.audit import MOST_RECORDS_IN_ONE_STATEMENT, AuditEntry, AuditWriter, audit_request
from sop_shared.audit_keys import AuditKeyring
from sop_shared.auth import Principal
from sop_shared.db import ReadSessionDep, SessionDep, begin_writing, utcnow
from sop_shared.policy import ActorType
from sop_shared.problems import PROBLEM_JSON, install_problem_handlers

pytestmark = pytest.mark.sqlite_smoke

KEYRING = AuditKeyring({"k-test": bytes(range(32))}, "k-test")
WORKER = Principal(subject="fsw.rivera", actor_type=ActorType.staff, scopes=frozenset({"case:read"}))
CASE = uuid.UUID("01890000-0000-7000-8000-0000000000dd")
SECRET = "the-family-s-address"


def reading_app(pdb: PlatformDatabase) -> FastAPI:
    """A service's shape: a read that shows something and audits it, the same read in a unit of work, a write,
    and a read that finds it must write first."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.database, app.state.platform = pdb.database, pdb.tables
    app.state.audit = AuditWriter(pdb.tables, KEYRING)
    processed = pdb.tables.processed_events

    async def shown(request: Request, session: Any, resource: str = "case") -> dict[str, Any]:
        count = (await session.execute(select(func.count()).select_from(processed))).scalar_one()
        await audit_request(request, session, WORKER, resource=resource, action="read", case_id=CASE)
        return {"shown": SECRET, "count": count}

    @app.get("/read")
    async def read(request: Request, session: ReadSessionDep) -> dict[str, Any]:
        return await shown(request, session)

    @app.get("/read-refused")
    async def read_refused(request: Request, session: ReadSessionDep) -> dict[str, Any]:
        return await shown(request, session, resource="refused")

    @app.get("/read-in-a-transaction")
    async def read_in_a_transaction(request: Request, session: SessionDep) -> dict[str, Any]:
        return await shown(request, session)

    @app.post("/write")
    async def write(request: Request, session: SessionDep) -> dict[str, str]:
        await session.execute(insert(processed).values(consumer="write", event_id=uuid.uuid4(), processed_at=utcnow()))
        await audit_request(request, session, WORKER, resource="case", action="update", case_id=CASE)
        return {"done": "write"}

    @app.get("/read-that-writes")
    async def read_that_writes(request: Request, session: ReadSessionDep, fail: bool = False) -> dict[str, str]:
        await session.execute(select(func.count()).select_from(processed))
        await begin_writing(session)
        await session.execute(insert(processed).values(consumer="due", event_id=uuid.uuid4(), processed_at=utcnow()))
        await audit_request(request, session, WORKER, resource="case", action="read", case_id=CASE)
        if fail:
            raise RuntimeError("the read failed after its write")
        return {"shown": SECRET}

    return app


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield client


@pytest.fixture
async def pdb(database_url: str) -> AsyncIterator[PlatformDatabase]:
    pdb = await open_platform_database(database_url)
    yield pdb
    await pdb.database.dispose()


async def audit_records(pdb: PlatformDatabase) -> tuple[int, Any]:
    async with pdb.database.session() as session:
        count = (await session.execute(select(func.count()).select_from(pdb.tables.audit))).scalar_one()
        verdict = await AuditWriter(pdb.tables, KEYRING).verify(session)
    return count, verdict


@contextmanager
def transaction_commands(pdb: PlatformDatabase) -> Iterator[list[str]]:
    """The BEGINs and COMMITs asyncpg sends meanwhile (SQLAlchemy's dialect has asyncpg send them, as simple
    queries, past SQLAlchemy's statement events). asyncpg calls its query loggers soon after, not at once."""
    seen: list[str] = []
    logged: set[int] = set()

    def on_query(record: Any) -> None:
        command = record.query.strip().rstrip(";").split(" ")[0].upper()  # "BEGIN;", "COMMIT;"
        if command in {"BEGIN", "COMMIT", "ROLLBACK"}:
            seen.append(command)

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        connection = dbapi_connection.driver_connection
        if id(connection) not in logged:
            logged.add(id(connection))
            connection.add_query_logger(on_query)

    engine = pdb.database.engine.sync_engine
    event.listen(engine, "checkout", on_checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", on_checkout)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_read_request_sends_no_begin_or_commit_on_postgresql(pdb: PlatformDatabase) -> None:
    app = reading_app(pdb)
    await pdb.database.engine.dispose()  # every connection made anew, under the query logger
    async with client_of(app) as client:
        with transaction_commands(pdb) as seen:
            assert (await client.post("/write")).status_code == 200
            await asyncio.sleep(0)
            assert seen == ["BEGIN", "COMMIT"]  # a write is a transaction, as ever
            seen.clear()
            for _ in range(3):
                read = await client.get("/read")
                assert read.status_code == 200 and read.json()["shown"] == SECRET
            await asyncio.sleep(0)
            assert seen == []  # the reads and their audit records: no BEGIN, no COMMIT
            assert (await client.get("/read-in-a-transaction")).status_code == 200
            await asyncio.sleep(0)
            assert seen == ["BEGIN", "COMMIT"]  # the same read in a unit of work: the round trips saved
    count, verdict = await audit_records(pdb)
    assert count == 5 and verdict.intact and verdict.records == 5


async def test_a_read_is_audited_before_it_is_answered(pdb: PlatformDatabase) -> None:
    async with client_of(reading_app(pdb)) as client:
        for expected in (1, 2, 3):  # the first append learns the chain head, the rest chain from it
            assert (await client.get("/read")).json()["shown"] == SECRET
            count, verdict = await audit_records(pdb)
            assert count == expected and verdict.intact
    async with pdb.database.session() as session:
        rows = (await session.execute(select(pdb.tables.audit))).all()
    assert {(r.actor_subject, r.resource, r.action, r.case_id) for r in rows} == {("fsw.rivera", "case", "read", CASE)}


async def _refuse_audit_records(pdb: PlatformDatabase) -> None:
    async with pdb.database.session() as session:
        if pdb.database.dialect == "postgresql":
            await session.execute(text("ALTER TABLE audit_record ADD CONSTRAINT refused CHECK (false) NOT VALID"))
        else:
            await session.execute(
                text("CREATE TRIGGER refused BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'refused'); END")
            )


async def _accept_audit_records(pdb: PlatformDatabase) -> None:
    async with pdb.database.session() as session:
        if pdb.database.dialect == "postgresql":
            await session.execute(text("ALTER TABLE audit_record DROP CONSTRAINT refused"))
        else:
            await session.execute(text("DROP TRIGGER refused"))


async def test_a_read_whose_audit_record_cannot_be_written_is_not_answered(pdb: PlatformDatabase) -> None:
    async with client_of(reading_app(pdb)) as client:
        assert (await client.get("/read")).status_code == 200  # this process now knows the chain head
        await _refuse_audit_records(pdb)
        refused = await client.get("/read")  # the database refuses the record: a conflict, to retry
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == PROBLEM_JSON and SECRET not in refused.text
        await _accept_audit_records(pdb)
        count, verdict = await audit_records(pdb)
        assert count == 1 and verdict.intact  # the failed append left no gap and moved no head
        assert (await client.get("/read")).status_code == 200
    count, verdict = await audit_records(pdb)
    assert count == 2 and verdict.intact


async def test_a_refused_record_fails_its_own_read_only(pdb: PlatformDatabase) -> None:
    """Records of reads finishing together are appended together; one the database refuses fails its read
    alone, the others are answered."""
    async with pdb.database.session() as session:
        if pdb.database.dialect == "postgresql":
            await session.execute(
                text("ALTER TABLE audit_record ADD CONSTRAINT refused CHECK (resource <> 'refused') NOT VALID")
            )
        else:
            await session.execute(
                text(
                    "CREATE TRIGGER refused BEFORE INSERT ON audit_record WHEN NEW.resource = 'refused' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
    async with client_of(reading_app(pdb)) as client:
        assert (await client.get("/read")).status_code == 200  # this process now knows the chain head
        answers = await asyncio.gather(
            *(client.get("/read") for _ in range(3)),
            client.get("/read-refused"),
            *(client.get("/read") for _ in range(3)),
        )
    assert [a.status_code for a in answers] == [200, 200, 200, 409, 200, 200, 200]
    assert SECRET not in answers[3].text
    count, verdict = await audit_records(pdb)
    assert count == 7 and verdict.intact


async def test_a_read_that_must_write_first_commits_its_write_and_audit_together(pdb: PlatformDatabase) -> None:
    processed = pdb.tables.processed_events
    async with client_of(reading_app(pdb)) as client:
        assert (await client.get("/read-that-writes")).json() == {"shown": SECRET}
        failed = await client.get("/read-that-writes", params={"fail": "true"})
        assert failed.status_code == 500 and SECRET not in failed.text
    async with pdb.database.session() as session:
        written = (await session.execute(select(processed.c.consumer))).scalars().all()
    assert written == ["due"]  # the failed read's write rolled back with it
    count, verdict = await audit_records(pdb)
    assert count == 1 and verdict.intact


async def test_a_read_session_refuses_orm_changes(pdb: PlatformDatabase) -> None:
    from sqlalchemy.orm import registry

    mapper_registry = registry()

    class Processed:
        pass

    mapper_registry.map_imperatively(Processed, pdb.tables.processed_events)
    async with pdb.database.read_session() as session:
        row = Processed()
        row.consumer, row.event_id, row.processed_at = "orm", uuid.uuid4(), utcnow()  # type: ignore[attr-defined]
        session.add(row)
        with pytest.raises(RuntimeError, match="writes nothing"):
            await session.flush()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_concurrent_reads_writes_and_another_replica_give_one_contiguous_intact_chain(
    pdb: PlatformDatabase,
) -> None:
    """Reads of one process appended together (one statement where the process knows the head, a transaction
    where it does not), writes appending in their own transactions, and a second replica doing the same on
    the same database: every record once, numbered without a gap, the chain intact."""
    other = await open_platform_database(pdb.url)
    apps = [reading_app(pdb), reading_app(other)]
    try:
        async with client_of(apps[0]) as first, client_of(apps[1]) as second:

            async def calls(client: httpx.AsyncClient) -> list[httpx.Response]:
                return [
                    *await asyncio.gather(*(client.get("/read") for _ in range(20))),
                    await client.post("/write"),
                    *await asyncio.gather(*(client.get("/read") for _ in range(10)), client.post("/write")),
                ]

            answers = [a for batch in await asyncio.gather(calls(first), calls(second)) for a in batch]
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
        async with pdb.database.session() as session:
            seqs = (await session.execute(select(pdb.tables.audit.c.seq).order_by("seq"))).scalars().all()
        assert seqs == list(range(1, len(answers) + 1))
        count, verdict = await audit_records(pdb)
        assert count == len(answers) and verdict.intact
    finally:
        await other.database.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_appends_of_any_size_are_one_statement_each_and_one_intact_chain(pdb: PlatformDatabase) -> None:
    """Once this process knows the chain head, a group of any size (a caseload page audits 50 cases, reads finishing
    together more) is appended by one statement: a statement of its count up to MOST_RECORDS_IN_ONE_STATEMENT, one
    of arrays above (so the statements kept prepared stay bounded), and the chain stays whole."""
    writer = AuditWriter(pdb.tables, KEYRING)
    entry = AuditEntry.for_principal(WORKER, resource="case", action="read", case_id=CASE)
    await writer.record_apart(pdb.database, [entry])  # the first append learns the head, in a transaction
    appended, statements = 1, []

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(pdb.database.engine.sync_engine, "before_cursor_execute", on_statement)
    try:
        for size in [1, 2, 3, 8, 9, 13, 50, 64, 65, 200, 1, 7]:
            statements.clear()
            seqs = await writer.record_apart(pdb.database, [entry] * size)
            assert seqs == list(range(appended + 1, appended + size + 1))
            assert len(statements) == 1, (size, statements)
            assert ("unnest" in statements[0]) == (size > MOST_RECORDS_IN_ONE_STATEMENT)
            appended += size
    finally:
        event.remove(pdb.database.engine.sync_engine, "before_cursor_execute", on_statement)
    assert len(writer._append_if_head_statements) <= MOST_RECORDS_IN_ONE_STATEMENT <= 8
    count, verdict = await audit_records(pdb)
    assert count == appended and verdict.intact


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_value_too_long_for_its_column_is_refused_not_cut(pdb: PlatformDatabase) -> None:
    """A value longer than its column fails the append (and its read), as inserting it as a plain parameter does;
    it is never stored cut short under a hash of the whole value."""
    writer = AuditWriter(pdb.tables, KEYRING)
    entry = AuditEntry.for_principal(WORKER, resource="case", action="read", case_id=CASE)
    await writer.record_apart(pdb.database, [entry])
    with pytest.raises(Exception, match="too long"):
        await writer.record_apart(pdb.database, [entry] * 9 + [replace(entry, resource="r" * 101)])
    assert await writer.record_apart(pdb.database, [entry]) == [2]
    count, verdict = await audit_records(pdb)
    assert count == 2 and verdict.intact
