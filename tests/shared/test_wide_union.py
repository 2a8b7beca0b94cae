"""A wide read (`WideUnion`) gives each branch the rows its own select gives, on SQLite and PostgreSQL, outside a
transaction (asyncpg itself on PostgreSQL) and inside one; and its text columns — strings of any length, texts,
enums stored as strings — share slots, each branch converting its own (an enum read as its member), so the
statement is as wide as one branch's texts, not as every length and enum of them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Text, Uuid, bindparam, insert, select
from sqlalchemy.sql import CompoundSelect
from sqlmodel.sql.sqltypes import AutoString

from sop_shared.db import Database, UTCDateTime, enum_column
from sop_shared.wide_union import WideUnion

pytestmark = pytest.mark.sqlite_smoke


class Kind(StrEnum):
    visit = "visit"
    call = "call"


class Status(StrEnum):
    open = "open"
    done = "done"


metadata = MetaData()
note_t = Table(
    "wide_note",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("kind", enum_column(Kind), nullable=False),
    Column("title", String(40), nullable=False),
    Column("body", String(1000), nullable=True),
    Column("author", AutoString(200), nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("words", JSON, nullable=True),
)
step_t = Table(
    "wide_step",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("status", enum_column(Status), nullable=False),
    Column("kind", enum_column(Kind), nullable=True),
    Column("what", Text, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("due", UTCDateTime, nullable=True),
)
CASE = uuid.UUID(int=7)
OTHER_CASE = uuid.UUID(int=8)
START = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)

BRANCHES = {
    "note": select(
        note_t.c.id, note_t.c.kind, note_t.c.title, note_t.c.body, note_t.c.author, note_t.c.at, note_t.c.words
    ).where(note_t.c.case_id == bindparam("case_id", type_=Uuid)),
    "step": select(step_t.c.id, step_t.c.what, step_t.c.status, step_t.c.kind, step_t.c.rank, step_t.c.due).where(
        step_t.c.case_id == bindparam("case_id", type_=Uuid)
    ),
}


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.create_all(metadata)
    notes, steps = [], []
    for n in range(6):
        notes.append(
            {
                "id": uuid.UUID(int=100 + n),
                "case_id": CASE if n < 5 else OTHER_CASE,
                "kind": Kind.visit if n % 2 else Kind.call,
                "title": f"note {n}",
                "body": "ñandú — the family's words " * (n * 6) if n % 3 else None,  # up to 1,000 characters
                "author": f"fsw.{n}" if n % 2 else None,
                "at": START + timedelta(hours=n),
                "words": {"en": f"note {n}"} if n % 2 else None,
            }
        )
        steps.append(
            {
                "id": uuid.UUID(int=200 + n),
                "case_id": CASE,
                "status": Status.done if n % 2 else Status.open,
                "kind": None if n % 3 == 0 else Kind.visit,
                "what": "call the school " * (n * 100),  # a text longer than any VARCHAR here
                "rank": n,
                "due": START + timedelta(days=n) if n % 2 else None,
            }
        )
    async with database.session() as session:
        await session.execute(insert(note_t), notes)
        await session.execute(insert(step_t), steps)
    try:
        yield database
    finally:
        await database.dispose()


async def _each_branch_alone(database: Database) -> dict[str, list[dict[str, Any]]]:
    expected = {}
    async with database.engine.connect() as connection:
        for name, branch in BRANCHES.items():
            result = await connection.execute(branch, {"case_id": CASE})
            expected[name] = sorted((dict(row._mapping) for row in result), key=lambda row: row["id"])
    return expected


async def test_each_branch_reads_what_its_own_select_reads(database: Database) -> None:
    view = WideUnion(BRANCHES)
    expected = await _each_branch_alone(database)
    assert len(expected["note"]) == 5 and len(expected["step"]) == 6
    async with database.read_session() as session:  # outside a transaction: asyncpg itself on PostgreSQL
        outside = await view.read(session, {"case_id": CASE})
    async with database.session() as session:  # in a unit of work: SQLAlchemy's plain SQL
        inside = await view.read(session, {"case_id": CASE})
    for found in (outside, inside):
        assert {name: sorted(rows, key=lambda row: row["id"]) for name, rows in found.items()} == expected
        for row in found["note"]:
            assert type(row["kind"]) is Kind and row["at"].tzinfo is UTC
        for row in found["step"]:
            assert type(row["status"]) is Status and (row["kind"] is None or type(row["kind"]) is Kind)
        assert max(len(row["what"]) for row in found["step"]) == len("call the school ") * 500


def test_texts_of_every_length_and_enums_share_slots() -> None:
    statement = WideUnion(BRANCHES).statement
    assert isinstance(statement, CompoundSelect)
    # branch, then the slots: 4 texts (the note's kind, title, body and author; the step's what, status and kind),
    # 1 UUID, 1 time (the note's `at`, the step's `due`), 1 JSON, 1 integer
    assert len(statement.selects[0].selected_columns) == 1 + 4 + 1 + 1 + 1 + 1
