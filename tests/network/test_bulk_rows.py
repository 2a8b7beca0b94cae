"""`sop_network.bulk.insert_rows` by COPY writes what an INSERT writes (JSON values included, which it serialises
itself) and fails as an INSERT fails: a cancelled statement and a lost connection are the errors the service
answers 503 (retry) for, never an unexplained 500, and nothing is written."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, func, select, text

from sop_network import bulk
from sop_network.bulk import COPY_MIN_ROWS, insert_rows
from sop_shared.db import Database, database_problem
from sop_shared.problems import ServiceUnavailable

pytestmark = pytest.mark.postgres

metadata = MetaData()
notes = Table("bulk_note", metadata, Column("id", Integer, primary_key=True), Column("text", String))
ROWS = [{"id": n, "text": f"note {n}"} for n in range(COPY_MIN_ROWS + 10)]
events = {
    name: Table(f"bulk_{name}", metadata, Column("id", Integer, primary_key=True), Column("payload", JSON))
    for name in ("copied", "inserted")
}


class Role(StrEnum):
    worker = "worker"


PAYLOADS: list[Any] = [
    {"case_id": "0193a1b2-0000-7000-8000-000000000001", "version": 3, "changed": None, "ok": True, "n": -1.25},
    {"people": [{"name": "María José Peña", "emoji": "👩‍👧", "quote": 'say "hi"\n', "ctl": "\u0000"}], "empty": {}},
    [1, "two", [3, [4]], {"five": 5}],
    {"role": Role.worker, "roles": [Role.worker]},  # a StrEnum member: as `json.dumps` writes it
    {1: "a key that is not text", "big": 2**70},  # orjson refuses both: `json.dumps` writes them
    {"big": -(2**63), "small": 2**63 - 1, "float": 1e300, "tiny": 5e-324},
    "a text",
    7,
    None,
]


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


async def test_json_written_by_copy_reads_back_as_the_insert_writes_it(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COPY serialises JSON values with orjson (compact, UTF-8), the INSERT with `json.dumps`: the same values."""
    rows = [{"id": n, "payload": PAYLOADS[n % len(PAYLOADS)]} for n in range(COPY_MIN_ROWS + len(PAYLOADS))]
    for name, least in (("copied", 1), ("inserted", 10**9)):
        monkeypatch.setattr(bulk, "COPY_MIN_ROWS", least)
        async with database.session() as session:
            await insert_rows(session, events[name], rows)
    async with database.session() as session:
        stored = {
            name: (await session.execute(select(table.c.payload).order_by(table.c.id))).scalars().all()
            for name, table in events.items()
        }
        texts = (await session.execute(text("SELECT payload::text FROM bulk_copied ORDER BY id"))).scalars().all()
    assert stored["copied"] == stored["inserted"] == [json.loads(json.dumps(r["payload"])) for r in rows]
    assert texts[1] == json.dumps(PAYLOADS[1], ensure_ascii=False, separators=(",", ":"))  # orjson's text
    assert texts[4] == json.dumps(PAYLOADS[4])  # refused by orjson: json.dumps' text


def test_each_value_object_is_converted_once_and_every_row_gets_its_own_conversion() -> None:
    """`bulk._convert`'s memo (by object, shared between the outbox's and the change log's payload columns): a
    payload met again is not serialised again, and no row gets another row's value, a conversion to None
    included."""
    calls: list[Any] = []

    def process(value: Any) -> Any:
        calls.append(value)
        return None if value == {"none": True} else json.dumps(value)

    shared, other, to_none = {"a": 1}, {"a": 1}, {"none": True}  # `other` equals `shared` but is its own object
    done: dict[int, Any] = {}
    first = bulk._convert([shared, other, to_none, shared, to_none], process, done)
    again = bulk._convert([to_none, shared, other], process, done)  # the other table's column, the same memo
    assert first == ['{"a": 1}', '{"a": 1}', None, '{"a": 1}', None]
    assert again == [None, '{"a": 1}', '{"a": 1}']
    assert [id(v) for v in calls] == [id(shared), id(other), id(to_none)]
