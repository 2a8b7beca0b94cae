"""The input policy on the network service (see sop_shared.input_policy): control and bidirectional
characters in any text of a body, a path or a query are refused with 422 naming the field, nothing is
written; numbers and nesting are bounded; the change feed's cursor is range-checked."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sop_shared.testing import RunningService

UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0001"


def _fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    "bad", ["Ma\x00ria", "Maria\x1b[2J", "Maria\x85", "\u202eairaM", "Maria\u2066x\u2069", "\ud800"]
)
async def test_a_refused_character_in_nested_body_text_is_422_naming_the_field_and_nothing_is_written(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    row_counts: Callable[[str], Awaitable[dict[str, int]]],
    bad: str,
) -> None:
    maria_and_the_children["members"][0]["person"]["first_name"] = bad
    response = await network.client.put(
        UPSERT,
        content=json.dumps(maria_and_the_children),  # \u escapes
        headers={**sacwis, "Content-Type": "application/json"},
    )
    assert _fields(response) == {"members[0].person.first_name"}
    assert bad not in response.text  # the refusal never echoes the character back
    assert set((await row_counts(network.database_url)).values()) == {0}


async def test_a_refused_character_in_a_path_or_query_value_is_422_naming_it(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    response = await network.client.put(
        "/v1/cases/by-external/CHRIS/C-2026%00-0001", json=maria_and_the_children, headers=sacwis
    )
    assert _fields(response) == {"external_id"}
    response = await network.client.get("/v1/cases/by-external/CHRIS/C-%E2%80%AE1", headers=sacwis)
    assert _fields(response) == {"external_id"}
    response = await network.client.get("/v1/changes", params={"cursor": "abc\x00"}, headers=sacwis)
    assert _fields(response) == {"cursor"}


async def test_line_breaks_in_body_text_are_kept(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    maria_and_the_children["members"][0]["relationship_to_children"] = "mother\tof both"
    response = await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("number", ["1e400", "NaN", "-Infinity", str(2**63), str(-(2**63) - 1)])
async def test_a_number_no_column_can_hold_is_422(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    number: str,
) -> None:
    body = json.dumps(maria_and_the_children).replace('"county": "Pulaski"', f'"county": {number}')
    response = await network.client.put(UPSERT, content=body, headers={**sacwis, "Content-Type": "application/json"})
    assert _fields(response) == {"county"}


async def test_a_body_nested_deeper_than_the_limit_is_refused_before_parsing(
    network: RunningService,
    sacwis: dict[str, str],
) -> None:
    response = await network.client.put(
        UPSERT, content=b"[" * 20_000 + b"]" * 20_000, headers={**sacwis, "Content-Type": "application/json"}
    )
    assert _fields(response) == {"body"}


async def test_a_body_over_the_services_limit_is_413_declared_or_not(
    network: RunningService,
    sacwis: dict[str, str],
) -> None:
    limit = network.app.state.settings.max_request_bytes
    body = b'{"county": "' + b"x" * limit + b'"}'
    response = await network.client.put(UPSERT, content=body, headers={**sacwis, "Content-Type": "application/json"})
    assert response.status_code == 413, response.text

    async def chunks() -> Any:
        for _ in range(3):
            yield b"x" * (limit // 2)

    response = await network.client.put(
        UPSERT, content=chunks(), headers={**sacwis, "Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def _seq_cursor(seq: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"seq": seq}).encode()).decode().rstrip("=")


@pytest.mark.parametrize("seq", [2**63, 10**30, -1, 1.5, "7"])
async def test_a_change_feed_cursor_out_of_range_is_422_not_500(
    network: RunningService,
    sacwis: dict[str, str],
    seq: Any,
) -> None:
    response = await network.client.get("/v1/changes", params={"cursor": _seq_cursor(seq)}, headers=sacwis)
    assert _fields(response) == {"cursor"}


async def test_the_largest_change_feed_cursor_is_answered(network: RunningService, sacwis: dict[str, str]) -> None:
    response = await network.client.get("/v1/changes", params={"cursor": _seq_cursor(2**63 - 1)}, headers=sacwis)
    assert response.status_code == 200 and response.json()["items"] == []


async def test_the_sacwis_batch_has_its_own_larger_body_limit(network: RunningService, sacwis: dict[str, str]) -> None:
    """Up to 2,000 records do not fit the 1 MB every other body gets: the batch may be larger, and only it."""
    settings = network.app.state.settings
    assert settings.sacwis_batch_max_bytes > settings.max_request_bytes
    over_the_common_limit = b'{"system": "CHRIS", "records": [], "note": "' + b"x" * settings.max_request_bytes + b'"}'
    headers = {**sacwis, "Content-Type": "application/json"}

    response = await network.client.post("/v1/sacwis/batch", content=over_the_common_limit, headers=headers)
    assert response.status_code == 422, response.text  # read and judged by its schema, not refused for its size

    response = await network.client.put(UPSERT, content=over_the_common_limit, headers=headers)
    assert response.status_code == 413, response.text

    beyond_its_own = b'{"note": "' + b"x" * settings.sacwis_batch_max_bytes + b'"}'
    response = await network.client.post("/v1/sacwis/batch", content=beyond_its_own, headers=headers)
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"at most {settings.sacwis_batch_max_bytes} bytes"
