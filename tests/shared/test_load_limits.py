"""Under load a service says "busy, retry" (503 with Retry-After) instead of failing with a 500, and the
gateway can tell a call that never reached a service from one that may have: the limits that make "no
committed write is answered as failed" hold (see sop_gateway.upstream)."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from sop_shared_support import open_platform_database
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from sop_gateway.settings import GatewaySettings
from sop_shared import cli, observability
from sop_shared.audit import AuditWriter, audit_request
from sop_shared.audit_keys import AuditKeyring
from sop_shared.auth import Principal
from sop_shared.db import Database, SessionDep
from sop_shared.http_client import DEFAULT_LIMITS, SERVER_KEEP_ALIVE_SECONDS, service_client
from sop_shared.observability import install_request_context
from sop_shared.policy import ActorType
from sop_shared.problems import PROBLEM_JSON, install_problem_handlers
from sop_shared.settings import ServiceSettings


def busy_app(database: Database) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_request_context(app, "busy")  # a request id in the log context, as in every component
    app.state.database = database

    @app.post("/slow")
    async def slow(session: SessionDep) -> dict[str, str]:
        await session.execute(text("SELECT pg_sleep(2)"))
        return {"status": "done"}

    @app.post("/quick")
    async def quick(session: SessionDep) -> dict[str, int]:
        return {"one": (await session.execute(text("SELECT 1"))).scalar_one()}

    return app


@pytest.fixture
async def busy_database(postgres_database_url: str) -> AsyncIterator[Database]:
    database = Database(
        postgres_database_url, pool_size=1, max_overflow=0, pool_timeout_seconds=0.3, statement_timeout_seconds=0.3
    )
    try:
        yield database
    finally:
        await database.dispose()


def _client(app: FastAPI) -> httpx.AsyncClient:
    # Exceptions the app lets escape are raised here: a busy database is answered, not crashed on.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


def _assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_JSON and response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("/service-unavailable")


def _busy_logged(log_lines: io.StringIO) -> list[dict[str, Any]]:
    """The `database_busy` lines logged: which kind of busy each 503 was."""
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.strip()]
    return [
        {k: line[k] for k in ("route", "error", "sqlstate", "message", "request_id") if k in line}
        for line in lines
        if line.get("event") == "database_busy"
    ]


async def test_a_statement_past_the_statement_timeout_is_a_503_to_retry_not_a_500(
    busy_database: Database, log_lines: io.StringIO
) -> None:
    async with _client(busy_app(busy_database)) as client:
        _assert_busy(await client.post("/slow"))
        assert (await client.post("/quick")).json() == {"one": 1}  # the connection is fine afterwards
    [logged] = _busy_logged(log_lines)
    assert logged.pop("request_id")  # from the log context: the line is found beside the request's
    assert [logged] == [
        {
            "route": "/slow",
            "error": "QueryCanceledError",
            "sqlstate": "57014",
            "message": "canceling statement due to statement timeout",
        }
    ]


async def test_waiting_too_long_for_a_pooled_connection_is_a_503_to_retry_not_a_500(
    busy_database: Database, log_lines: io.StringIO
) -> None:
    async with _client(busy_app(busy_database)) as client:
        async with busy_database.engine.connect() as held:  # the pool's only connection is in use
            await held.execute(text("SELECT 1"))
            _assert_busy(await client.post("/quick"))
        assert (await client.post("/quick")).json() == {"one": 1}
    [logged] = _busy_logged(log_lines)
    assert logged["route"] == "/quick" and logged["error"] == "TimeoutError" and "QueuePool limit" in logged["message"]


async def _end_the_services_connections(url: str) -> int:
    """What a PostgreSQL restart does to a service's pool: every session on its database ended by the server."""
    admin = create_async_engine(url, poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            ended = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(ended.scalar_one())
    finally:
        await admin.dispose()


async def test_after_postgresql_ends_every_pooled_connection_the_next_requests_are_answered(
    postgres_database_url: str,
) -> None:
    """No ping per checkout (a round trip per request): a connection the server closed is replaced when it is
    taken from the pool, so the requests after a restart are answered, not failed, and none waits."""
    database = Database(postgres_database_url, pool_size=3, max_overflow=0)
    try:
        async with _client(busy_app(database)) as client:
            await asyncio.gather(*(client.post("/quick") for _ in range(3)))
            assert await _end_the_services_connections(postgres_database_url) >= 1
            await asyncio.sleep(0.5)  # the server's goodbye reaches the pooled connections
            for _ in range(4):
                response = await asyncio.wait_for(client.post("/quick"), timeout=10)
                assert response.json() == {"one": 1}, response.text
    finally:
        await database.dispose()


async def test_a_connection_ended_under_a_request_is_a_503_to_retry_and_the_next_request_is_answered(
    postgres_database_url: str,
) -> None:
    database = Database(postgres_database_url, pool_size=1, max_overflow=0, statement_timeout_seconds=30)
    try:
        async with _client(busy_app(database)) as client:
            slow = asyncio.create_task(client.post("/slow"))
            await asyncio.sleep(0.5)  # its statement is running
            assert await _end_the_services_connections(postgres_database_url) == 1
            _assert_busy(await asyncio.wait_for(slow, timeout=10))
            assert (await asyncio.wait_for(client.post("/quick"), timeout=10)).json() == {"one": 1}
    finally:
        await database.dispose()


async def test_a_request_holds_the_audit_chain_head_only_from_its_commit_not_while_it_works(
    postgres_database_url: str,
) -> None:
    """Every request of a service appends to one audit chain, whose head is one row lock. Taken where the
    request audits, it was held while the request went on working (rendering, more statements, waiting for a
    busy event loop), and every other request of the service queued behind it: the load finding's 10 s waits.
    Now a request that audited and is still working does not hold up another one's audit."""
    pdb = await open_platform_database(postgres_database_url)
    app = FastAPI()
    install_problem_handlers(app)
    writer = AuditWriter(pdb.tables, AuditKeyring({"test": bytes(range(32))}, "test"))  # a chain key made here
    app.state.database, app.state.platform, app.state.audit = pdb.database, pdb.tables, writer
    worker = Principal(subject="fsw.rivera", actor_type=ActorType.staff, scopes=frozenset({"case:read"}))
    still_working = asyncio.Event()

    @app.get("/slow")
    async def slow(request: Request, session: SessionDep) -> dict[str, str]:
        await audit_request(request, session, worker, resource="statement", action="read")
        await still_working.wait()  # the rest of a long request, after its audit
        return {"done": "slow"}

    @app.get("/quick")
    async def quick(request: Request, session: SessionDep) -> dict[str, str]:
        await audit_request(request, session, worker, resource="statement", action="read")
        return {"done": "quick"}

    try:
        async with _client(app) as client:
            slow_call = asyncio.create_task(client.get("/slow"))
            await asyncio.sleep(0.3)  # /slow has audited and is working
            quick_answer = await asyncio.wait_for(client.get("/quick"), 5)
            assert quick_answer.json() == {"done": "quick"}
            still_working.set()
            assert (await slow_call).json() == {"done": "slow"}
        async with pdb.database.session() as session:
            verdict = await writer.verify(session)
        assert verdict.intact and verdict.records == 2
    finally:
        still_working.set()
        await pdb.database.dispose()


def test_the_gateway_waits_for_a_write_longer_than_a_service_may_take_to_commit_it() -> None:
    """A service gives up on a request after its pool wait plus a statement at most (more statements each
    get the statement timeout, but a write's are short); the gateway waits well beyond that for a write."""
    service, gateway = ServiceSettings(component="assessment"), GatewaySettings()
    service_limit = service.database_pool_timeout_seconds + service.database_statement_timeout_seconds
    assert gateway.upstream_write_timeout_seconds >= 2 * service_limit
    assert gateway.upstream_write_timeout_seconds > gateway.upstream_timeout_seconds


def test_idle_connections_to_a_service_are_dropped_before_the_service_drops_them() -> None:
    """Otherwise a write sent on a connection uvicorn is just closing is lost ("server disconnected")."""
    assert DEFAULT_LIMITS.keepalive_expiry is not None
    assert DEFAULT_LIMITS.keepalive_expiry < SERVER_KEEP_ALIVE_SECONDS


def test_a_component_is_served_with_the_keep_alive_the_clients_count_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sop serve` keeps idle connections for SERVER_KEEP_ALIVE_SECONDS, and a pause in traffic of a minute
    leaves the gateway's connections to the services open (with uvicorn's 5 s and 4 s here, every lull closed
    them, and the next burst opened one per call)."""
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    monkeypatch.setattr(observability, "configure_logging", lambda *args, **kwargs: None)
    cli.main(["serve", "network", "--port", str(_free_port())])
    assert served["timeout_keep_alive"] == SERVER_KEEP_ALIVE_SECONDS
    assert DEFAULT_LIMITS.keepalive_expiry is not None and DEFAULT_LIMITS.keepalive_expiry >= 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_refused_connection_and_a_dropped_one_are_told_apart() -> None:
    """The aiohttp transport reports both as a connect timeout; the service client names them: refused
    (never reached the service, safe to send again) and dropped (may have reached it)."""
    async with service_client(f"http://127.0.0.1:{_free_port()}") as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("/statements", json={})

    async def read_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(read_then_hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with service_client(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/statements", json={})
    finally:
        server.close()
        await server.wait_closed()
