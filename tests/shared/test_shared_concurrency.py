"""Optimistic concurrency: If-Match parsing (428 when missing, 422 when garbage) and 412 on a stale version
carrying the current one."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Response

from sop_shared.concurrency import IfMatchVersion, OptionalIfMatchVersion, check_version, etag, parse_if_match, set_etag
from sop_shared.problems import (
    PROBLEM_JSON,
    InvalidInput,
    StaleVersion,
    VersionRequired,
    WeakEtagRefused,
    install_problem_handlers,
)


@pytest.mark.parametrize(
    ("header", "version"),
    [
        ('"3"', 3),
        ("3", 3),
        (' "12" ', 12),
        ('"0"', 0),
        (etag(41), 41),
    ],
)
def test_if_match_accepts_the_etag_we_send(header: str, version: int) -> None:
    assert parse_if_match(header) == version


def test_a_weak_etag_never_matches_and_says_what_to_send() -> None:
    with pytest.raises(WeakEtagRefused) as caught:
        parse_if_match('W/"3"')
    assert caught.value.status == 412
    assert '"3"' in caught.value.detail


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_if_match_is_428_version_required(header: str | None) -> None:
    with pytest.raises(VersionRequired) as caught:
        parse_if_match(header)
    assert caught.value.status == 428


async def test_where_if_match_is_optional_an_empty_one_is_none_sent_not_428() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/x")
    async def x(expected: OptionalIfMatchVersion) -> dict[str, int | None]:
        return {"expected": expected}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for headers, expected in (
            ({}, None),
            ({"If-Match": ""}, None),
            ({"If-Match": " "}, None),
            ({"If-Match": '"2"'}, 2),
        ):
            answer = await client.post("/x", headers=headers)
            assert answer.status_code == 200 and answer.json() == {"expected": expected}, headers
        assert (await client.post("/x", headers={"If-Match": "abc"})).status_code == 422


@pytest.mark.parametrize("header", ['"abc"', "*", 'W/"x"', '"3", "4"', '"3.5"', "W/", '""'])
def test_garbage_if_match_is_422_naming_the_header(header: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_if_match(header)
    assert caught.value.status == 422
    assert [e["field"] for e in caught.value.errors] == ["If-Match"]


def test_check_version_passes_the_current_one() -> None:
    check_version(7, 7)


def test_stale_version_is_412_with_the_current_version() -> None:
    with pytest.raises(StaleVersion) as caught:
        check_version(current=5, expected=3)
    problem = caught.value
    assert problem.status == 412
    assert problem.extra == {"current_version": 5}
    assert problem.body()["current_version"] == 5
    assert "version 3" in problem.detail and "version 5" in problem.detail


async def test_if_match_through_http() -> None:
    app = FastAPI()
    install_problem_handlers(app)
    stored = {"version": 4}

    @app.patch("/thing")
    async def update(version: IfMatchVersion, response: Response) -> dict[str, int]:
        check_version(stored["version"], version)
        stored["version"] += 1
        set_etag(response, stored["version"])
        return stored

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        missing = await client.patch("/thing")
        assert missing.status_code == 428
        assert missing.headers["content-type"] == PROBLEM_JSON

        garbage = await client.patch("/thing", headers={"If-Match": "banana"})
        assert garbage.status_code == 422
        assert garbage.json()["errors"][0]["field"] == "If-Match"

        ok = await client.patch("/thing", headers={"If-Match": '"4"'})
        assert ok.status_code == 200
        assert ok.headers["ETag"] == '"5"'

        stale = await client.patch("/thing", headers={"If-Match": '"4"'})  # the same edit again: stale now
        assert stale.status_code == 412
        assert stale.json()["current_version"] == 5
        assert stored["version"] == 5  # nothing written by the refused one
