"""The gateway's caseByExternalId: the case view slice found by the id SACWIS knows the case by. A case
that does not exist and one the caller may not see give the same 404. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sop_network.models import platform
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

LOPEZ = "/v1/case-views/by-external/CHRIS/C-2026-0001"


async def _seed(network: RunningService, sacwis: dict[str, str], family: dict[str, Any]) -> str:
    response = await network.client.put("/v1/cases/by-external/CHRIS/C-2026-0001", json=family, headers=sacwis)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _without_request_id(response: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "x-request-id"}
    body = {k: v for k, v in response.json().items() if k != "request_id"}
    return response.status_code, headers, body


async def test_the_assigned_worker_finds_the_case_view_by_its_sacwis_id(
    network: RunningService,
    sacwis: dict[str, str],
    tokens: InternalTokens,
    maria_and_the_children: dict[str, Any],
) -> None:
    case_id = await _seed(network, sacwis, maria_and_the_children)
    found = await network.client.get(LOPEZ, headers=tokens.headers("network"))  # no case in the token
    assert found.status_code == 200, found.text
    view = found.json()
    assert set(view) == {"access", "case", "safety_network"}
    assert view["case"]["id"] == case_id and view["case"]["external_id"] == "C-2026-0001"
    assert view["access"]["allowed"] and view["access"]["relationships"] == ["assigned_worker"]
    by_id = await network.client.get(f"/v1/cases/{case_id}/view", headers=tokens.headers("network", case_id=case_id))
    assert view == by_id.json()  # the same slice as the case-scoped read


async def test_a_missing_case_and_a_case_you_may_not_see_give_the_same_404(
    network: RunningService,
    sacwis: dict[str, str],
    tokens: InternalTokens,
    maria_and_the_children: dict[str, Any],
) -> None:
    rivera = tokens.headers("network")
    before = await network.client.get(LOPEZ, headers=rivera)  # SACWIS has not sent the case yet
    await _seed(network, sacwis, maria_and_the_children)
    colleague = await network.client.get(LOPEZ, headers=tokens.headers("network", subject="fsw.lindqvist"))
    partner = await network.client.get(
        LOPEZ,
        headers=tokens.headers(
            "network", subject="casa.ward", actor_type=ActorType.partner, roles=(), scopes=("case:read",), agency="CASA"
        ),
    )
    assert before.status_code == 404 and before.headers["content-type"] == "application/problem+json"
    assert _without_request_id(colleague) == _without_request_id(before) == _without_request_id(partner)
    assert before.json()["request_id"] != colleague.json()["request_id"]
    other = await network.client.get("/v1/case-views/by-external/CHRIS/C-1999-0404", headers=rivera)
    assert {k: v for k, v in other.json().items() if k not in ("request_id", "instance")} == {
        k: v for k, v in before.json().items() if k not in ("request_id", "instance")
    }


async def test_each_lookup_is_audited_found_or_not(
    network: RunningService,
    sacwis: dict[str, str],
    tokens: InternalTokens,
    maria_and_the_children: dict[str, Any],
) -> None:
    await network.client.get("/v1/case-views/by-external/CHRIS/C-1999-0404", headers=tokens.headers("network"))
    case_id = await _seed(network, sacwis, maria_and_the_children)
    await network.client.get(LOPEZ, headers=tokens.headers("network", subject="fsw.lindqvist"))
    await network.client.get(LOPEZ, headers=tokens.headers("network"))
    async with network.app.state.database.session() as s:
        rows = (
            await s.execute(
                select(platform.audit)
                .where(platform.audit.c.resource == "case", platform.audit.c.actor_type == "staff")
                .order_by(platform.audit.c.seq)
            )
        ).all()
        assert (await network.app.state.audit.verify(s)).intact
    assert [(r.actor_subject, r.action, str(r.case_id) if r.case_id else None, r.fields) for r in rows] == [
        ("fsw.rivera", "decide", None, ["denied"]),
        ("fsw.lindqvist", "decide", case_id, ["denied"]),
        ("fsw.rivera", "read", case_id, ["external:CHRIS/C-2026-0001"]),
    ]
    assert rows[0].resource_id == "CHRIS/C-1999-0404"


async def test_path_parameters_are_checked_and_unknown_query_parameters_refused(
    network: RunningService,
    tokens: InternalTokens,
) -> None:
    rivera = tokens.headers("network")
    for path, field in (
        ("/v1/case-views/by-external/CH%20RIS/C-1", "system"),
        (f"/v1/case-views/by-external/{'S' * 51}/C-1", "system"),
        (f"/v1/case-views/by-external/CHRIS/{'9' * 101}", "external_id"),
        ("/v1/case-views/by-external/CHRIS/C-1/C-2", "external_id"),
        ("/v1/case-views/by-external/CHRIS/C-1%2FC-2", "external_id"),
        ("/v1/case-views/by-external/CHRIS/C%3Cscript%3E", "external_id"),
    ):
        response = await network.client.get(path, headers=rivera)
        assert response.status_code == 422, (path, response.status_code, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field], path
    response = await network.client.get(LOPEZ, params={"include": "everything"}, headers=rivera)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "include"
    assert (await network.client.get(LOPEZ)).status_code == 401
