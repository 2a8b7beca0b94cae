"""The change feed: every change exactly once, in commit order, across pages, while writes continue."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from sop_network.cases.reporting import REPORTING_FACTS
from sop_network.changes.service import record_change
from sop_shared.db import Database
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

# Runs on SQLite too by default: the change counter's exactly-once feed under SQLite's single writer.
pytestmark = pytest.mark.sqlite_smoke

FEED = "/v1/changes"


def _family(n: int, base: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(base)
    for i, member in enumerate(body["members"]):
        member["person"]["external_id"] = f"P-{n}-{i}"
    return body


async def _read_all(
    network: RunningService, headers: dict[str, str], cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    seen: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = (await network.client.get(FEED, params=params, headers=headers)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not page["items"]:
            return seen, cursor


async def test_the_change_feed_returns_every_change_exactly_once_across_pages_while_writes_continue(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    writers_done = asyncio.Event()

    async def write(n: int) -> None:
        body = _family(n, maria_and_the_children)
        await network.client.put(f"/v1/cases/by-external/CHRIS/C-{n}", json=body, headers=sacwis)
        body["county"] = "Saline"
        await network.client.put(f"/v1/cases/by-external/CHRIS/C-{n}", json=body, headers=sacwis)

    async def writers() -> None:
        await asyncio.gather(*(write(n) for n in range(12)))
        writers_done.set()

    task = asyncio.create_task(writers())
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while not writers_done.is_set():
        page, cursor = await _read_all(network, sacwis, cursor, limit=3)
        seen += page
        await asyncio.sleep(0)
    await task
    rest, _ = await _read_all(network, sacwis, cursor, limit=3)
    seen += rest
    ids = [c["event_id"] for c in seen]
    # 12 created + 12 updated, each with the case's reporting facts: none twice, none missing
    assert len(ids) == len(set(ids)) == 48
    assert [c["seq"] for c in seen] == sorted(c["seq"] for c in seen)
    async with network.app.state.database.session() as s:
        from sqlalchemy import select

        from sop_network.models import platform

        outbox = {str(r[0]) for r in (await s.execute(select(platform.outbox.c.id))).all()}
    assert set(ids) == outbox  # the same changes as go out on NATS


async def test_a_change_committed_late_is_not_skipped_by_a_reader_that_moved_on(
    pg_network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
) -> None:
    """On PostgreSQL: a transaction takes its sequence and stays open; a second writer must wait for it,
    so a reader can never see the later change and move its cursor past the earlier one."""
    network = pg_network
    db = Database(network.database_url)
    try:
        async with db.session() as slow:
            await record_change(slow, subject="sop.network.test.slow", data={"n": 1})
            fast = asyncio.create_task(
                network.client.put(
                    "/v1/cases/by-external/CHRIS/C-FAST", json=_family(1, maria_and_the_children), headers=sacwis
                )
            )
            await asyncio.sleep(0.5)
            assert not fast.done()  # the second writer waits for the first to settle
            page = (await network.client.get(FEED, headers=sacwis)).json()
            assert page["items"] == []  # nothing visible yet, so the cursor stays put
            cursor = page["next_cursor"]
        assert (await fast).status_code == 201
        after, _ = await _read_all(network, sacwis, cursor, limit=1)
        assert [c["subject"] for c in after] == [
            "sop.network.test.slow",
            "sop.network.case.created",
            "sop.network.case.reporting_facts",  # announced with it
        ]
    finally:
        await db.dispose()


async def test_a_staff_member_sees_only_the_changes_of_their_cases(
    network: RunningService,
    sacwis: dict[str, str],
    maria_and_the_children: dict[str, Any],
    tokens: InternalTokens,
) -> None:
    await network.client.put("/v1/cases/by-external/CHRIS/C-1", json=_family(1, maria_and_the_children), headers=sacwis)
    other = _family(2, maria_and_the_children)
    other["assignments"] = [{"staff_subject": "fsw.lindqvist", "role": "worker"}]
    await network.client.put("/v1/cases/by-external/CHRIS/C-2", json=other, headers=sacwis)
    mine, _ = await _read_all(network, tokens.headers("network"), None, limit=50)
    everything, _ = await _read_all(network, sacwis, None, limit=50)
    # SACWIS sees each case's creation and its reporting facts; the worker sees their case's creation only (the
    # reporting facts are for the practice service, not a device)
    assert sorted(c["subject"] for c in everything) == sorted(2 * ["sop.network.case.created", REPORTING_FACTS])
    assert [c["subject"] for c in mine] == ["sop.network.case.created"]
    assert {c["case_id"] for c in mine} == {c["case_id"] for c in everything[:2]}
    partner = tokens.headers("network", subject="casa.1", actor_type=ActorType.partner, roles=(), scopes=("case:read",))
    assert (await network.client.get(FEED, headers=partner)).status_code == 403


async def test_a_bad_cursor_or_unknown_parameter_is_refused(network: RunningService, sacwis: dict[str, str]) -> None:
    bad = await network.client.get(FEED, params={"cursor": "not-a-cursor"}, headers=sacwis)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    unknown = await network.client.get(FEED, params={"since": "yesterday"}, headers=sacwis)
    assert unknown.status_code == 400
