"""Cursor pagination: cursors round-trip, foreign cursors are a 422 naming `cursor`, and walking the pages
of a real table returns every row exactly once, in id order."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, insert, select

from sop_shared.db import Database, service_metadata
from sop_shared.ids import new_id
from sop_shared.pagination import (
    MAX_LIMIT,
    CaseList,
    PageDep,
    PageRequest,
    backward,
    decode_cursor,
    decode_page_cursor,
    encode_cursor,
    forward,
    from_the_end,
)
from sop_shared.problems import PROBLEM_JSON, InvalidInput, install_problem_handlers

# Runs on SQLite too by default: keyset pagination's SQL on each backend.
pytestmark = pytest.mark.sqlite_smoke

metadata: MetaData = service_metadata()
items = Table("paged_item", metadata, Column("id", Uuid, primary_key=True), Column("n", Integer, nullable=False))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_cursor_round_trip() -> None:
    for value in (new_id(), uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)):
        cursor = encode_cursor(value)
        assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # safe in a query string
        assert decode_cursor(cursor) == value
        before = encode_cursor(value, before=True)
        assert decode_page_cursor(before) == (value, True) and decode_page_cursor(cursor) == (value, False)
        # any cursor of the list reads either way from where it is (GraphQL `after` / `before`)
        assert forward(before) == cursor and backward(cursor) == before


GARBAGE_CURSORS = [
    "",
    "!!!",
    "not-a-cursor",
    "a",
    "%%%%",
    _b64(b"\xff\xfe\x00"),
    _b64(b"[1, 2]"),
    _b64(b'"after"'),
    _b64(b"{}"),
    _b64(b'{"after": null}'),
    _b64(b'{"after": "nope"}'),
    _b64(b'{"after": 5}'),
    _b64(b'{"after": ["a"]}'),
    _b64(b'{"after": {"x": 1}}'),
    _b64(b"null"),
    _b64(b'{"before": 5}'),
    _b64(b'{"after": "%s", "before": "%s"}' % (str(uuid.UUID(int=1)).encode(), str(uuid.UUID(int=2)).encode())),
    _b64(b'{"around": "%s"}' % str(uuid.UUID(int=1)).encode()),
]


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS)
def test_a_cursor_we_did_not_issue_is_invalid_input_naming_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 422
    assert caught.value.errors == [{"field": "cursor", "message": "not a cursor this API issued"}]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.create_all(metadata)
    yield db
    await db.dispose()


async def _fill(db: Database, count: int) -> list[uuid.UUID]:
    ids = [new_id() for _ in range(count)]
    async with db.session() as session:
        # inserted out of order: the page order must come from the ids, not from insertion
        await session.execute(insert(items), [{"id": i, "n": n} for n, i in reversed(list(enumerate(ids)))])
    return ids


async def _walk(db: Database, limit: int) -> tuple[list[uuid.UUID], int]:
    seen: list[uuid.UUID] = []
    cursor: str | None = None
    pages = 0
    while True:
        request = PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)
        async with db.session() as session:
            rows = (await session.execute(request.apply(select(items), items.c.id))).all()
        page, cursor = request.page(rows)
        assert len(page) <= limit
        seen += [row.id for row in page]
        pages += 1
        if cursor is None:
            return seen, pages
        assert pages < 100, "pagination does not terminate"


@pytest.mark.parametrize("limit", [1, 7, 10, 23, 200])
async def test_pages_return_every_row_exactly_once_in_id_order(database: Database, limit: int) -> None:
    ids = await _fill(database, 23)
    seen, pages = await _walk(database, limit)
    assert seen == ids  # all rows, none twice, in id (= creation) order
    assert pages == -(-23 // limit)  # no trailing empty page


async def _walk_back(db: Database, limit: int, start: str) -> list[list[uuid.UUID]]:
    pages: list[list[uuid.UUID]] = []
    cursor: str | None = start
    while cursor is not None:
        at, before = decode_page_cursor(cursor)
        request = PageRequest(limit=limit, before=at) if before else PageRequest(limit=limit, after=at)
        async with db.session() as session:
            rows = (await session.execute(request.apply(select(items), items.c.id))).all()
        page, cursor = request.page(rows)
        pages.append([row.id for row in page])
        assert len(pages) < 100, "pagination does not terminate"
    return pages


@pytest.mark.parametrize("limit", [1, 4, 22, 200])
async def test_backward_pages_come_in_id_order_and_end_at_the_start(database: Database, limit: int) -> None:
    ids = await _fill(database, 23)
    pages = await _walk_back(database, limit, encode_cursor(ids[-1], before=True))
    assert all(page == sorted(page) for page in pages)  # each page in id order
    assert [i for page in reversed(pages) for i in page] == ids[:-1]  # every row before the last, once
    assert pages[0] == ids[-1 - min(limit, 22) : -1]  # the nearest ones first
    last = await _walk_back(db=database, limit=limit, start=from_the_end())
    assert [i for page in reversed(last) for i in page] == ids  # from the end: every row


async def test_exactly_full_last_page_has_no_next_cursor(database: Database) -> None:
    await _fill(database, 10)
    request = PageRequest(limit=10)
    async with database.session() as session:
        rows = (await session.execute(request.apply(select(items), items.c.id))).all()
    page, cursor = request.page(rows)
    assert len(page) == 10 and cursor is None


async def test_empty_table_is_one_empty_page(database: Database) -> None:
    assert await _walk(database, 5) == ([], 1)


async def test_page_dependency_through_http(database: Database) -> None:
    ids = await _fill(database, 5)
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/items")
    async def list_items(page: PageDep) -> dict[str, Any]:
        async with database.session() as session:
            rows = (await session.execute(page.apply(select(items), items.c.id))).all()
        found, next_cursor = page.page(rows)
        return {"items": [str(r.id) for r in found], "next_cursor": next_cursor}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        first = (await client.get("/items", params={"limit": 3})).json()
        assert first["items"] == [str(i) for i in ids[:3]]
        second = (await client.get("/items", params={"limit": 3, "cursor": first["next_cursor"]})).json()
        assert second == {"items": [str(i) for i in ids[3:]], "next_cursor": None}

        bad = await client.get("/items", params={"cursor": _b64(json.dumps({"after": 5}).encode())})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == PROBLEM_JSON
        assert bad.json()["errors"] == [{"field": "cursor", "message": "not a cursor this API issued"}]

        too_big = await client.get("/items", params={"limit": MAX_LIMIT + 1})
        assert too_big.status_code == 422
        assert [e["field"] for e in too_big.json()["errors"]] == ["limit"]


@pytest.mark.parametrize(
    "position",
    [
        ["2026-03-01T09:30:00+00:00", "01a250a4-3394-7457-83e4-ff31a3077c9c"],
        [7, -3, 2**63 - 1],
        ["María", "جلسة"],  # non-ASCII text: \u escapes, as json.dumps writes them
        ["tab\there", 'quote " and \\ slash /', "del \x7f", "nul \x00"],
        [2**64],  # beyond 64 bits
    ],
)
@pytest.mark.parametrize("before", [False, True])
def test_a_case_list_cursor_is_the_bytes_json_dumps_wrote(position: list[str | int], before: bool) -> None:
    listing = CaseList(uuid.UUID(int=16), "check_ins")
    cursor = listing.cursor(position, before=before)
    body: dict[str, Any] = {"of": listing._digest, "at": position}
    if before:
        body["before"] = True
    assert cursor == _b64(json.dumps(body, separators=(",", ":")).encode())
