"""The input policy at the gateway (see sop_shared.input_policy): refused characters in the REST façade's
bodies and paths and in GraphQL variables are 422 naming the field, nothing reaches a service; nesting is
bounded before parsing; GraphQL parse, validation and variable errors are HTTP 400 with their codes (never
"internal") and log one line each, not a traceback."""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from structlog.testing import capture_logs

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

CREATE_STATEMENT = """mutation($input: CreateStatementInput!) {
  createStatement(input: $input) { statement { id } userErrors { field } } }"""
HARM = {
    "kind": "HARM",
    "whoReported": "A neighbour",
    "caregivers": [{"name": "Maria"}],
    "actionOrInaction": "left Sofia and Mateo alone overnight",
    "whenOrHowOften": "twice in October",
    "children": [{"name": "Sofia"}, {"name": "Mateo"}],
    "impactOnChild": "they were scared and hungry",
}


def _refused_fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"] for e in response.json()["errors"]}


async def _statement_count(system: EmbeddedSystem, case: uuid.UUID) -> int:
    response = await system.client.get(
        f"/api/assessment/v1/cases/{case}/statements", headers=system.bearer("fsw.rivera")
    )
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


@pytest.mark.parametrize("bad", ["Mate\x00o", "\u202eoetaM", "Mateo\x1b]8;;"])
async def test_a_refused_character_in_a_graphql_variable_is_422_naming_it_and_nothing_is_written(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
    bad: str,
) -> None:
    before = await _statement_count(system, demo_case)
    harm = {**HARM, "caseId": str(demo_case), "children": [{"name": "Sofia"}, {"name": bad}]}
    response = await system.client.post(
        "/graphql",
        content=json.dumps({"query": CREATE_STATEMENT, "variables": {"input": harm}}),
        headers={**system.bearer("fsw.rivera"), "Content-Type": "application/json"},
    )
    assert _refused_fields(response) == {"variables.input.children[1].name"}
    assert await _statement_count(system, demo_case) == before


async def test_a_refused_character_in_a_facade_body_or_path_is_422_and_nothing_is_written(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    before = await _statement_count(system, demo_case)
    body = {
        "kind": "harm",
        "language": "en",
        "who_reported": "A neighbour\u2066",
        "caregivers": [{"name": "Ma\x00ria"}],
        "action_or_inaction": "left them alone",
        "when_or_how_often": "once",
        "children": [{"name": "Sofia"}],
        "impact_on_child": "they were scared",
    }
    response = await system.client.post(
        f"/api/assessment/v1/cases/{demo_case}/statements", json=body, headers=system.bearer("fsw.rivera")
    )
    assert _refused_fields(response) == {"who_reported", "caregivers[0].name"}
    assert await _statement_count(system, demo_case) == before
    response = await system.client.get(
        "/api/network/v1/cases/by-external/CHRIS/C-1%00", headers=system.bearer("fsw.rivera")
    )
    assert response.status_code == 422, response.text


async def test_deeply_nested_graphql_variables_are_refused_before_parsing(sqlite_system: EmbeddedSystem) -> None:
    body = b'{"query": "{ me { subject } }", "variables": {"x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}}"
    response = await sqlite_system.client.post(
        "/graphql", content=body, headers={**sqlite_system.bearer("fsw.rivera"), "Content-Type": "application/json"}
    )
    assert _refused_fields(response) == {"body"}


CASES_PAGE = "query($first: Int!) { cases(first: $first) { edges { cursor } } }"


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ me { subject ", {}, "GRAPHQL_PARSE_FAILED"),
        ("{ me { subjekt } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        (CASES_PAGE, {"first": "twenty"}, "BAD_USER_INPUT"),
        (CASES_PAGE, {"first": 2**40}, "BAD_USER_INPUT"),
        (CASES_PAGE, {}, "BAD_USER_INPUT"),
        ("query($id: ID!) { caseView(caseId: $id) { case { recordId } } }", {"id": {"not": "an id"}}, "BAD_USER_INPUT"),
    ],
    ids=["parse", "validation", "wrong-type", "int-out-of-range", "missing", "object-for-id"],
)
async def test_graphql_client_errors_are_400_with_their_code_and_log_one_line(
    sqlite_system: EmbeddedSystem,
    caplog: pytest.LogCaptureFixture,
    query: str,
    variables: dict[str, Any],
    code: str,
) -> None:
    with capture_logs() as logs, caplog.at_level(logging.DEBUG):
        response = await sqlite_system.graphql(query, variables)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body.get("data") is None and body["errors"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {code}
    # the same request again: its errors now come from the parse and validation caches, and are still the caller's
    again = await sqlite_system.graphql(query, variables)
    assert (again.status_code, again.json()["errors"]) == (400, body["errors"]), again.text
    assert "Internal error" not in response.text
    assert not [r for r in caplog.records if r.exc_info], "a client error logged a traceback"
    assert [entry["code"] for entry in logs if entry["event"] == "graphql_client_error"] == [code] * len(body["errors"])


async def test_an_error_inside_a_resolver_stays_200_with_its_own_code(sqlite_system: EmbeddedSystem) -> None:
    response = await sqlite_system.graphql("{ cases(first: 0) { edges { cursor } } }")
    assert response.status_code == 200, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
