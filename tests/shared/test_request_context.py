"""The request context's answer headers and request metrics (sop_shared.observability): every answer carries
exactly one X-Request-ID, the request's own, even where a route set one itself, and every request is counted and
timed under its route template and status."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from random import Random
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI, Response
from starlette.datastructures import Headers
from structlog.testing import capture_logs

from sop_shared.audit import AccessPurpose
from sop_shared.observability import _context_headers, _purpose, configure_logging, install_request_context
from sop_shared.problems import NotFound, install_problem_handlers


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_request_context(app, "context-test")

    @app.get("/cases/{case_id}")
    async def case(case_id: str) -> dict[str, str]:
        if case_id == "missing":
            raise NotFound("no such case")
        return {"case": case_id}

    @app.get("/echo")
    async def echo() -> Response:
        return Response("{}", headers={"X-Request-ID": "set-by-the-route", "X-Other": "kept"})

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://t") as c:
        yield c


async def test_an_answer_carries_one_request_id_the_requests_own(client: httpx.AsyncClient) -> None:
    answer = await client.get("/echo", headers={"X-Request-ID": "gateway-id-1"})
    assert answer.headers.get_list("x-request-id") == ["gateway-id-1"]
    assert answer.headers["x-other"] == "kept"
    plain = await client.get("/cases/c1", headers={"X-Request-ID": "gateway-id-2"})
    assert plain.headers.get_list("x-request-id") == ["gateway-id-2"]


def _sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in metrics.splitlines():
        if line.startswith(f"{name}{{") and all(part in line for part in wanted.split(",")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_every_request_is_counted_and_timed_by_route_and_status(client: httpx.AsyncClient) -> None:
    for case_id in ("c1", "c2", "c3", "missing"):
        await client.get(f"/cases/{case_id}")
    metrics = (await client.get("/metrics")).text
    route = {"component": "context-test", "method": "GET", "route": "/cases/{case_id}"}
    assert _sample(metrics, "sop_http_requests_total", **route, status="200") == 3
    assert _sample(metrics, "sop_http_requests_total", **route, status="404") == 1
    timed = {"component": "context-test", "route": "/cases/{case_id}"}
    assert _sample(metrics, "sop_http_request_duration_seconds_count", **timed) == 4


# --- the same context and request line, read and written with less per request (issue 16) ---------------------


def test_the_context_headers_are_read_as_headers_get_reads_them() -> None:
    """One pass over the raw list gives each header the request context reads as Starlette's `Headers.get` gave
    it: the first of repeated ones, absent ones absent, other headers ignored."""
    names = ("x-request-id", "x-sop-client-request-id", "x-sop-purpose", "traceparent")
    random = Random(16)
    pool = [name.encode() for name in names] + [b"x-request", b"x-request-ids", b"authorization", b"host", b"x-sop"]
    for _ in range(400):
        raw = [
            (random.choice(pool), bytes(random.choice(b"abcAB 9:-\xe9") for _ in range(random.randint(0, 6))))
            for _ in range(random.randint(0, 8))
        ]
        scope = {"type": "http", "headers": raw}
        read = _context_headers(scope)
        headers = Headers(scope=scope)
        assert {name: headers.get(name) for name in names} == {name: read.get(name) for name in names}
        assert set(read) <= set(names)


@pytest.mark.parametrize(
    "value",
    [*(p.value for p in AccessPurpose), " Casework ", "COURT", "audit\t", "", "   ", "casework2", "case work", "é"],
)
def test_a_purpose_is_read_as_the_enum_reads_it(value: str) -> None:
    try:
        expected: AccessPurpose | type[ValueError] | None = (
            AccessPurpose(value.strip().lower()) if value.strip() else None
        )
    except ValueError:
        expected = ValueError
    try:
        found: AccessPurpose | type[ValueError] | None = _purpose({"x-sop-purpose": value})
    except ValueError:
        found = ValueError
    assert found is expected


async def test_the_request_line_logger_is_assembled_once_per_logging_configuration(
    client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    """The request line's logger is bound once per structlog configuration (the lazy proxy bound a new logger and
    writer on every line), and a later configuration (another stream, `capture_logs`) is followed at once."""
    first, second = log_lines, io.StringIO()
    made: list[str | None] = []
    factory = structlog.get_config()["logger_factory"]

    def counting_factory(*args: Any) -> Any:
        made.append(args[0] if args else None)
        return factory(*args)

    structlog.configure(logger_factory=counting_factory)
    for _ in range(3):
        assert (await client.get("/cases/c1")).status_code == 200
    assert made == ["sop.request"]  # once for the three lines (three times before)
    assert [json.loads(line)["route"] for line in first.getvalue().splitlines()] == ["/cases/{case_id}"] * 3

    configure_logging("INFO", json_logs=True, stream=second)
    await client.get("/cases/missing")
    assert len(first.getvalue().splitlines()) == 3
    (line,) = [json.loads(line) for line in second.getvalue().splitlines()]
    assert line["event"] == "request" and line["status"] == 404 and line["logger"] == "sop.request"
    with capture_logs() as captured:
        await client.get("/cases/c2")
    assert [entry["event"] for entry in captured] == ["request"] and len(second.getvalue().splitlines()) == 1
    await client.get("/cases/c3")
    assert len(second.getvalue().splitlines()) == 2
