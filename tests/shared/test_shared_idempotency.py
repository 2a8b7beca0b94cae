"""Idempotency-Key on creates, through HTTP on a real database: a repeat returns the first response and
creates nothing; the same key with another body is 422; without a key every POST creates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sop_shared_support import PlatformDatabase, open_platform_database
from sqlalchemy import Column, MetaData, String, Table, Uuid, func, insert, select

from sop_shared.auth import InternalTokenMinter, InternalTokenVerifier, Principal
from sop_shared.db import SessionDep, service_metadata
from sop_shared.idempotency import IdempotencyDep
from sop_shared.ids import new_id
from sop_shared.keys import generate_signing_key
from sop_shared.policy import ActorType
from sop_shared.problems import PROBLEM_JSON, install_problem_handlers

# Runs on SQLite too by default: idempotency keys (SQLite relies on its single connection instead of an advisory lock).
pytestmark = pytest.mark.sqlite_smoke


class NoteIn(BaseModel):
    text: str


def _things(metadata: MetaData) -> Table:
    return Table("thing", metadata, Column("id", Uuid, primary_key=True), Column("text", String(100)))


@pytest.fixture
async def app_and_db(database_url: str) -> AsyncIterator[tuple[FastAPI, PlatformDatabase, Table]]:
    metadata = service_metadata()
    things = _things(metadata)
    pdb = await open_platform_database(database_url, metadata)
    app = FastAPI()
    install_problem_handlers(app)
    app.state.database, app.state.platform = pdb.database, pdb.tables
    app.state.token_verifier = InternalTokenVerifier(
        jwt.PyJWKSet.from_dict({"keys": [KEY.public_jwk()]}), audience="things"
    )

    @app.post("/things", status_code=201)
    async def create(body: NoteIn, session: SessionDep, idem: IdempotencyDep) -> JSONResponse:
        if (replayed := await idem.replay(session, body)) is not None:
            return replayed
        thing_id = new_id()
        await session.execute(insert(things).values(id=thing_id, text=body.text))
        content = {"id": str(thing_id), "text": body.text}
        headers = {"Location": f"/things/{thing_id}"}
        await idem.remember(session, body, status_code=201, content=content, headers=headers)
        return JSONResponse(content, status_code=201, headers=headers)

    yield app, pdb, things
    await pdb.database.dispose()


async def _count(pdb: PlatformDatabase, table: Table) -> int:
    async with pdb.database.session() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


KEY = generate_signing_key()


def _token(subject: str = "fsw.rivera", actor_type: ActorType = ActorType.staff) -> str:
    who = Principal(subject=subject, actor_type=actor_type, scopes=frozenset({"case:write"}))
    return "Bearer " + InternalTokenMinter(KEY).mint(who, audience="things")


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"Authorization": _token()}
    )


async def test_a_repeat_returns_the_first_response_and_creates_nothing(app_and_db) -> None:
    app, pdb, things = app_and_db
    async with _client(app) as client:
        first = await client.post("/things", json={"text": "visit"}, headers={"Idempotency-Key": "k-1"})
        again = await client.post("/things", json={"text": "visit"}, headers={"Idempotency-Key": "k-1"})
        third = await client.post("/things", json={"text": "visit"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    for repeat in (again, third):
        assert repeat.status_code == 201
        assert repeat.json() == first.json()
        assert repeat.headers["Idempotent-Replayed"] == "true"
        assert repeat.headers["Location"] == first.headers["Location"]
    assert await _count(pdb, things) == 1
    assert await _count(pdb, pdb.tables.idempotency) == 1


async def test_the_same_key_with_a_different_body_is_422(app_and_db) -> None:
    app, pdb, things = app_and_db
    async with _client(app) as client:
        first = await client.post("/things", json={"text": "visit"}, headers={"Idempotency-Key": "k-2"})
        other = await client.post("/things", json={"text": "a different visit"}, headers={"Idempotency-Key": "k-2"})
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.headers["content-type"] == PROBLEM_JSON
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await _count(pdb, things) == 1


async def test_without_a_key_every_post_creates(app_and_db) -> None:
    app, pdb, things = app_and_db
    async with _client(app) as client:
        responses = [await client.post("/things", json={"text": "visit"}) for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 3
    assert not any("Idempotent-Replayed" in r.headers for r in responses)
    assert await _count(pdb, things) == 3
    assert await _count(pdb, pdb.tables.idempotency) == 0


async def test_keys_belong_to_their_principal(app_and_db) -> None:
    app, pdb, things = app_and_db
    async with _client(app) as client:
        a = await client.post("/things", json={"text": "x"}, headers={"Idempotency-Key": "same"})
        b = await client.post(
            "/things", json={"text": "x"}, headers={"Idempotency-Key": "same", "Authorization": _token("fsw.other")}
        )
        # the same subject name as another actor type is another caller too
        c = await client.post(
            "/things",
            json={"text": "x"},
            headers={"Idempotency-Key": "same", "Authorization": _token("fsw.rivera", ActorType.partner)},
        )
        a2 = await client.post("/things", json={"text": "x"}, headers={"Idempotency-Key": "same"})
    assert a.status_code == b.status_code == c.status_code == 201
    assert len({a.json()["id"], b.json()["id"], c.json()["id"]}) == 3
    assert "Idempotent-Replayed" not in b.headers and "Idempotent-Replayed" not in c.headers
    assert a2.headers["Idempotent-Replayed"] == "true" and a2.json() == a.json()
    assert await _count(pdb, things) == 3


async def test_without_a_valid_token_nothing_is_created(app_and_db) -> None:
    app, pdb, things = app_and_db
    async with _client(app) as client:
        response = await client.post(
            "/things", json={"text": "x"}, headers={"Idempotency-Key": "k", "Authorization": "Bearer nope"}
        )
    assert response.status_code == 401
    assert await _count(pdb, things) == 0


async def test_an_overlong_key_is_refused(app_and_db) -> None:
    app, pdb, things = app_and_db
    async with _client(app) as client:
        response = await client.post("/things", json={"text": "x"}, headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 422
    assert await _count(pdb, things) == 0


async def test_concurrent_repeats_create_exactly_one(app_and_db) -> None:
    app, pdb, things = app_and_db
    async with _client(app) as client:
        responses = await asyncio.gather(
            *[
                client.post("/things", json={"text": "double tap"}, headers={"Idempotency-Key": "k-race"})
                for _ in range(6)
            ]
        )
    # the losers of a race are told (409) or replayed; never a second record
    assert {r.status_code for r in responses} <= {201, 409}
    created = [r for r in responses if r.status_code == 201]
    assert len({r.json()["id"] for r in created}) == 1
    assert await _count(pdb, things) == 1
