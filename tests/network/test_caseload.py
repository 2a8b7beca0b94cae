"""The caseload list and the gateway's bulk read — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from sop_network.models import platform
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService


def _case(n: int, *, county: str, status: str = "open", worker: str = "fsw.rivera") -> dict[str, Any]:
    return {
        "kind": "case",
        "external_id": f"C-{n}",
        "data": {
            "case_type": "in_home",
            "status": status,
            "county": county,
            "opened_on": "2026-01-02",
            "closed_on": "2026-06-01" if status == "closed" else None,
            "members": [
                {"role": "child", "person": {"external_id": f"P-{n}", "first_name": "Kid", "last_name": f"N{n}"}}
            ],
            "assignments": [
                {"staff_subject": worker, "role": "worker", "unit": "U-1"},
                {"staff_subject": "sup.okafor", "role": "supervisor", "unit": "U-1"},
            ],
        },
    }


async def _seed(network: RunningService, sacwis: dict[str, str]) -> list[str]:
    records = [
        _case(
            n,
            county="Pulaski" if n % 2 else "Saline",
            status="closed" if n % 5 == 0 else "open",
            worker="fsw.rivera" if n < 8 else "fsw.lindqvist",
        )
        for n in range(12)
    ]
    body = (
        await network.client.post("/v1/sacwis/batch", json={"system": "CHRIS", "records": records}, headers=sacwis)
    ).json()
    return [r["id"] for r in body["results"]]


async def _all(network: RunningService, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await network.client.get("/v1/cases", params=query, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.sqlite_smoke
async def test_a_worker_lists_only_her_caseload_with_filters_and_paging(
    network: RunningService,
    sacwis: dict[str, str],
    tokens: InternalTokens,
) -> None:
    await _seed(network, sacwis)
    worker = tokens.headers("network")
    mine = await _all(network, worker)
    assert {c["external_id"] for c in mine} == {f"C-{n}" for n in range(8)}
    assert [c["id"] for c in mine] == sorted(c["id"] for c in mine)  # stable order across pages
    open_pulaski = await _all(network, worker, county="Pulaski", status="open")
    assert {c["external_id"] for c in open_pulaski} == {"C-1", "C-3", "C-7"}
    # asking for someone else's caseload only narrows your own: nothing leaks
    assert await _all(network, worker, assigned_to="fsw.lindqvist") == []
    supervisor = tokens.headers("network", subject="sup.okafor", roles=("supervisor",))
    assert len(await _all(network, supervisor)) == 12
    assert len(await _all(network, supervisor, assigned_to="fsw.lindqvist")) == 4


async def test_the_integration_sees_every_case_and_updated_since_narrows_it(
    network: RunningService,
    sacwis: dict[str, str],
) -> None:
    await _seed(network, sacwis)
    assert len(await _all(network, sacwis)) == 12
    assert await _all(network, sacwis, updated_since="2999-01-01T00:00:00Z") == []


async def test_an_unknown_filter_is_400_and_a_bad_one_422(
    network: RunningService, sacwis: dict[str, str], tokens: InternalTokens
) -> None:
    response = await network.client.get("/v1/cases", params={"stauts": "open"}, headers=sacwis)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "stauts"
    response = await network.client.get("/v1/cases", params={"status": "vacation"}, headers=sacwis)
    assert response.status_code == 422
    response = await network.client.get("/v1/cases", params={"updated_since": "2026-01-01T00:00:00"}, headers=sacwis)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "updated_since"
    partner = tokens.headers("network", subject="p", actor_type=ActorType.partner, roles=(), scopes=("case:read",))
    assert (await network.client.get("/v1/cases", headers=partner)).status_code == 403


async def test_a_caseload_page_is_read_in_one_call_and_denied_cases_come_back_empty(
    network: RunningService,
    sacwis: dict[str, str],
    tokens: InternalTokens,
) -> None:
    ids = await _seed(network, sacwis)
    missing = str(uuid.uuid4())
    response = await network.client.post(
        "/v1/case-views", json={"case_ids": [ids[0], ids[9], missing]}, headers=tokens.headers("network")
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["access"]["allowed"] for i in items] == [True, False, False]
    assert items[0]["case"]["members"][0]["person"]["first_name"] == "Kid"
    assert items[0]["safety_network"] == {"members": [], "meetings": [], "commitments": []}
    assert items[1]["case"] is None and items[2]["case"] is None
    too_many = await network.client.post(
        "/v1/case-views", json={"case_ids": [str(uuid.uuid4())] * 51}, headers=tokens.headers("network")
    )
    assert too_many.status_code == 422


async def test_the_lean_bulk_decision_answers_access_only_in_order_and_audits_each_case(
    network: RunningService,
    sacwis: dict[str, str],
    tokens: InternalTokens,
) -> None:
    ids = await _seed(network, sacwis)
    missing = str(uuid.uuid4())
    response = await network.client.post(
        "/v1/case-access", json={"case_ids": [ids[9], ids[0], missing]}, headers=tokens.headers("network")
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["case_id"], i["allowed"]) for i in items] == [(ids[9], False), (ids[0], True), (missing, False)]
    # the access decision only (a member's own person and language on the case at most, what the family opened
    # to their network), no case data
    assert set(items[1]) == {
        "case_id",
        "subject",
        "allowed",
        "relationships",
        "scopes",
        "audiences",
        "person_id",
        "language",
        "network_sees",
    }
    assert "case:read" in items[1]["scopes"] and items[0]["scopes"] == []
    async with network.app.state.database.session() as s:
        rows = (
            await s.execute(
                select(platform.audit)
                .where(platform.audit.c.resource == "case_access", platform.audit.c.actor_subject == "fsw.rivera")
                .order_by(platform.audit.c.seq)
            )
        ).all()
        assert (await network.app.state.audit.verify(s)).intact
    assert [(str(r.case_id), r.action, r.fields) for r in rows] == [
        (ids[9], "decide", ["denied"]),
        (ids[0], "decide", ["allowed"]),
        (missing, "decide", ["denied"]),
    ]
    too_many = await network.client.post(
        "/v1/case-access", json={"case_ids": [str(uuid.uuid4())] * 51}, headers=tokens.headers("network")
    )
    assert too_many.status_code == 422
