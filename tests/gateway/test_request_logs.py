"""Logs an operator can use (issue 17): one JSON line per request with the route template, status, duration,
request id, trace id and kind of caller, and nothing that names a person, a case or a token; every library's
logs (uvicorn, SQLAlchemy, Strawberry) in the same JSON; client errors as one line, server errors with their
traceback; the level honoured everywhere."""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from sop_shared.observability import configure_logging

if TYPE_CHECKING:
    from conftest import EmbeddedSystem


def _parsed(buffer: io.StringIO) -> list[dict[str, Any]]:
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


async def test_a_case_view_logs_one_line_per_request_with_ids_and_no_names_or_tokens(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID, log_lines: io.StringIO
) -> None:
    token = sqlite_system.token("fsw.rivera")
    response = await sqlite_system.client.post(
        "/graphql",
        json={
            "query": "query($id: ID!) { caseView(caseId: $id) { children { firstName } } }",
            "variables": {"id": str(sqlite_demo_case)},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["caseView"]["children"]
    names = [child["firstName"] for child in response.json()["data"]["caseView"]["children"]]
    text = log_lines.getvalue()
    for secret in (token, *names, str(sqlite_demo_case)):
        assert secret not in text
    lines = _parsed(log_lines)
    gateway = [line for line in lines if line["event"] == "request" and line.get("component") == "gateway"]
    assert len(gateway) == 1, gateway
    line = gateway[0]
    assert line["route"] == "/graphql" and line["method"] == "POST" and line["status"] == 200
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["caller"] == "staff"
    assert isinstance(line["duration_ms"], float) and line["level"] == "info"
    assert len(line["trace_id"]) == 32
    # The services' lines for the same request: route templates (no case id), the same request id and trace.
    services = [line for line in lines if line["event"] == "request" and line.get("component") != "gateway"]
    assert services and {s["request_id"] for s in services} == {line["request_id"]}
    assert all("{" in s["route"] for s in services if "cases" in s["route"])
    assert {s["caller"] for s in services} == {"staff"}
    assert {s["trace_id"] for s in services} == {line["trace_id"]}  # one trace across the four components
    # The audit rows of the read carry the same trace id.
    rows = [row for row in await sqlite_system.audit_rows() if row.request_id == line["request_id"]]
    assert rows and {row.trace_id for row in rows} == {line["trace_id"]}


async def test_an_unauthenticated_request_is_logged_as_anonymous_without_its_token(
    sqlite_system: EmbeddedSystem, log_lines: io.StringIO
) -> None:
    response = await sqlite_system.client.get(
        f"/api/network/v1/cases/{uuid.uuid4()}/members", headers={"Authorization": "Bearer not-a-real-token-xyz"}
    )
    assert response.status_code == 401
    assert "not-a-real-token-xyz" not in log_lines.getvalue()
    (line,) = [line for line in _parsed(log_lines) if line["event"] == "request"]
    assert line["status"] == 401 and line["caller"] == "anonymous"
    assert line["route"] == "/api/{service}/v1/{path}"


def test_library_logs_are_the_same_json_with_their_logger_name(log_lines: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info("Started server process")
    logging.getLogger("sqlalchemy.engine.Engine").warning("pool overflow")
    logging.getLogger("uvicorn.access").info("GET / 200")  # replaced by the request line: not at INFO
    lines = _parsed(log_lines)
    assert [(line["logger"], line["event"], line["level"]) for line in lines] == [
        ("uvicorn.error", "Started server process", "info"),
        ("sqlalchemy.engine.Engine", "pool overflow", "warning"),
    ]
    assert all("timestamp" in line for line in lines)


def test_a_server_error_keeps_its_traceback_in_its_one_line(log_lines: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("strawberry.execution").error("resolver failed", exc_info=True)
    (line,) = _parsed(log_lines)
    assert line["level"] == "error" and "Traceback" in line["exception"] and "RuntimeError: boom" in line["exception"]


def test_the_level_is_honoured_by_the_code_and_every_library() -> None:
    buffer = io.StringIO()
    configure_logging("WARNING", stream=buffer)
    try:
        import structlog

        structlog.get_logger("sop").info("not shown")
        logging.getLogger("uvicorn.error").info("not shown either")
        logging.getLogger("strawberry.execution").warning("shown")
        structlog.get_logger("sop").warning("shown too")
    finally:
        configure_logging("INFO")
    assert [line["event"] for line in _parsed(buffer)] == ["shown", "shown too"]
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("LOUD")
