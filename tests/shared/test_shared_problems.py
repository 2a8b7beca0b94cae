"""problem+json: validation names each bad field, domain problems map to their status, and unexpected
failures are a bare 500 that reveals nothing internal."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from sop_shared.observability import install_request_context
from sop_shared.problems import (
    PROBLEM_BASE,
    PROBLEM_JSON,
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    install_problem_handlers,
)

SECRET = "password=hunter2 at db.internal:5432"


class PaymentRequired(Problem):
    status, slug, title = 402, "payment-required", "Someone has to pay"


class Person(BaseModel):
    first_name: str = Field(min_length=1)
    age: int = Field(ge=0)
    email: str


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_request_context(app, "problems-test")

    @app.post("/people")
    async def create(person: Person) -> dict[str, str]:
        return {"first_name": person.first_name}

    @app.get("/problem/{kind}")
    async def problem(kind: str) -> None:
        raise {
            "custom": PaymentRequired("pay first", invoice="A-1"),
            "missing": NotFound("no such case"),
            "conflict": Conflict(),
            "fields": InvalidInput.field("due_on", "must be in the future"),
        }[kind]

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET)

    @app.get("/cases/{case_id}/boom")
    async def boom_in_a_case(case_id: str) -> None:
        raise RuntimeError(SECRET)

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: what a real server sends after logging the exception
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_validation_failure_is_422_naming_each_bad_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/people", json={"first_name": "", "age": -3})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == PROBLEM_BASE + "invalid-input"
    assert body["status"] == 422
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"first_name", "age", "email"}
    assert all(isinstance(m, str) and m for m in fields.values())
    assert "greater than or equal to 0" in fields["age"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    assert body["instance"] == "/people"
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_malformed_json_body_is_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/people", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["errors"]


@pytest.mark.parametrize(
    ("kind", "status", "slug"),
    [
        ("custom", 402, "payment-required"),
        ("missing", 404, "not-found"),
        ("conflict", 409, "conflict"),
        ("fields", 422, "invalid-input"),
    ],
)
async def test_a_problem_subclass_maps_to_its_status(
    client: httpx.AsyncClient, kind: str, status: int, slug: str
) -> None:
    response = await client.get(f"/problem/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert body["type"] == PROBLEM_BASE + slug
    if kind == "custom":
        assert body["detail"] == "pay first"
        assert body["title"] == "Someone has to pay"
        assert body["invoice"] == "A-1"
    if kind == "fields":
        assert body["errors"] == [{"field": "due_on", "message": "must be in the future"}]


async def test_unknown_route_and_wrong_method_are_problems_too(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert missing.json()["type"] == PROBLEM_BASE + "not-found"
    wrong = await client.delete("/people")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == PROBLEM_BASE + "method-not-allowed"
    assert wrong.headers["allow"] == "POST"  # what the resource does allow (RFC 9110)


async def test_unexpected_exception_is_500_without_internal_detail(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "req-boom-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == PROBLEM_BASE + "internal-error"
    assert body["status"] == 500
    assert body["request_id"] == "req-boom-1"  # what support quotes to find the log line
    text = response.text
    for leak in ("hunter2", "db.internal", "RuntimeError", "Traceback", "boom()"):
        assert leak not in text


async def test_the_log_line_of_an_unexpected_error_names_the_route_not_the_path(
    client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    response = await client.get("/cases/C-2026-0001/boom", headers={"X-Request-ID": "req-boom-2"})
    assert response.status_code == 500
    [line] = [json.loads(line) for line in log_lines.getvalue().splitlines() if '"unhandled_error"' in line]
    assert line["route"] == "/cases/{case_id}/boom" and line["request_id"] == "req-boom-2"
    assert "C-2026-0001" not in json.dumps({k: v for k, v in line.items() if k != "exception"})
