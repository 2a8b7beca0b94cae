"""The input policy on the assessment service (see sop_shared.input_policy): refused characters anywhere in
a statement are 422 naming the field and nothing is stored; the body limit and nesting limit hold here too."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sop_shared.testing import RunningService


def statements_of(case_id: uuid.UUID) -> str:
    return f"/v1/cases/{case_id}/statements"


def _as_json(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}


@pytest.mark.parametrize("bad", ["Sof\x00ia", "Sofia\u202e", "Sofia\x07", "\udfff"])
async def test_a_refused_character_in_a_nested_list_is_422_naming_it_and_nothing_is_stored(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    rivera: dict[str, str],
    maria_danger_statement: dict[str, Any],
    stored: Callable[[], Awaitable[dict[str, int]]],
    bad: str,
) -> None:
    maria_danger_statement["children"][1]["name"] = bad
    maria_danger_statement["caregiver_behaviour"] = "Maria drinks\u2067 until she falls asleep"
    response = await assessment.client.post(
        statements_of(lopez_case), content=json.dumps(maria_danger_statement), headers=_as_json(rivera)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {"children[1].name", "caregiver_behaviour"}
    assert await stored() == {"statements": 0, "events": 0}


async def test_a_statement_with_line_breaks_is_kept(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    rivera: dict[str, str],
    maria_danger_statement: dict[str, Any],
) -> None:
    maria_danger_statement["context_trigger"] = "when she is alone with the children at night,\r\nmost weekends"
    response = await assessment.client.post(statements_of(lopez_case), json=maria_danger_statement, headers=rivera)
    assert response.status_code == 201, response.text


async def test_a_refused_character_in_a_query_value_is_422(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    rivera: dict[str, str],
) -> None:
    response = await assessment.client.get(
        f"/v1/cases/{lopez_case}/safety-goals", params={"status": "open\x00"}, headers=rivera
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["status"]


async def test_deep_nesting_and_oversized_bodies_are_refused_before_the_route(
    assessment: RunningService,
    lopez_case: uuid.UUID,
    rivera: dict[str, str],
    stored: Callable[[], Awaitable[dict[str, int]]],
) -> None:
    deep = await assessment.client.post(
        statements_of(lopez_case), content=b'{"children":' + b"[" * 5000, headers=_as_json(rivera)
    )
    assert deep.status_code == 422 and deep.json()["errors"] == [
        {"field": "body", "message": "nested deeper than 32 levels"}
    ]
    limit = assessment.app.state.settings.max_request_bytes
    big = await assessment.client.post(
        statements_of(lopez_case), content=b'"' + b"x" * limit + b'"', headers=_as_json(rivera)
    )
    assert big.status_code == 413, big.text
    assert await stored() == {"statements": 0, "events": 0}
