"""The request context's answer headers and request metrics (sop_shared.observability): every answer carries
exactly one X-Request-ID, the request's own, even where a route set one itself, and every request is counted and
timed under its route template and status."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Response

from sop_shared.observability import install_request_context
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
