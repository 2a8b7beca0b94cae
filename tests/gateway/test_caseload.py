"""The `cases` connection through the embedded gateway: Relay paging over the network's caseload, filters
passed through, a page's assessment and plan summaries batched into one call per service (the same number
of calls for 3 cases as for 50), a failing service costing only its section, and typed refusals."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sacwis_records import case_record as _case
from sacwis_records import seed_cases

from sop_gateway.graphql.loaders import CaseLoaders
from sop_gateway.upstream import upstream_calls
from sop_shared.auth import Principal
from sop_shared.policy import ActorType

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

CASES = """query($first: Int, $after: String, $filter: CaseFilter) {
  cases(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id externalId county status
      assessmentSummary { activeDangerStatements latestOverallRating { score occasionOn } safetyDecision riskLevel
                          pendingApprovals }
      planSummary { planInForce { id status planType versionNumber } openAlerts overdueNextSteps } } }
    pageInfo { hasNextPage endCursor }
  } }"""
IDS_ONLY = """query($first: Int, $after: String, $filter: CaseFilter) {
  cases(first: $first, after: $after, filter: $filter) { edges { cursor node { id externalId } }
                                                         pageInfo { hasNextPage endCursor } } }"""
A_PAGE_OF_CALLS = {"network": 2, "assessment": 1, "plans": 1}  # caseload + access decision, then one each


async def _cases(
    system: EmbeddedSystem, query: str = CASES, *, user: str = "fsw.rivera", **variables: Any
) -> dict[str, Any]:
    response = await system.graphql(query, variables, user=user)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_page_of_50_costs_the_same_calls_as_a_page_of_3(system: EmbeddedSystem) -> None:
    ids = await seed_cases(system, [_case(n) for n in range(50)])
    await system.events_delivered()  # the new cases' events would otherwise drop decisions cached below
    system.forget_access_decisions()
    small = await _cases(system, first=3)
    assert "errors" not in small, small["errors"]
    assert len(small["data"]["cases"]["edges"]) == 3
    assert small["extensions"]["upstreamCalls"] == A_PAGE_OF_CALLS

    system.forget_access_decisions(ttl_seconds=600)  # the warm page below must find them, however slow the machine
    large = await _cases(system, first=50)
    assert "errors" not in large, large["errors"]
    edges = large["data"]["cases"]["edges"]
    assert sorted(e["node"]["id"] for e in edges) == sorted(ids)
    assert large["extensions"]["upstreamCalls"] == A_PAGE_OF_CALLS
    # nothing is assessed or planned on these new cases yet: the summaries say so
    node = edges[0]["node"]
    assert node["assessmentSummary"] == {
        "activeDangerStatements": 0,
        "latestOverallRating": None,
        "safetyDecision": None,
        "riskLevel": None,
        "pendingApprovals": 0,
    }
    assert node["planSummary"] == {"planInForce": None, "openAlerts": 0, "overdueNextSteps": 0}

    # decisions the page cached spare the next page the network's access call
    warm = await _cases(system, first=50)
    assert warm["extensions"]["upstreamCalls"] == {"network": 1, "assessment": 1, "plans": 1}


@pytest.mark.sqlite_smoke
async def test_the_demo_case_on_the_caseload_carries_its_assessment_and_plan(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    body = await _cases(system)
    assert "errors" not in body, body["errors"]
    [edge] = body["data"]["cases"]["edges"]
    node = edge["node"]
    assert (node["id"], node["externalId"], node["county"], node["status"]) == (
        str(demo_case),
        "DEMO-2026-0001",
        "Pulaski",
        "OPEN",
    )
    assert node["assessmentSummary"]["activeDangerStatements"] == 1
    assert node["assessmentSummary"]["safetyDecision"] == "CONDITIONALLY_SAFE"
    assert node["assessmentSummary"]["riskLevel"] == "HIGH"
    plan = node["planSummary"]["planInForce"]
    assert plan["status"] == "ACTIVE" and plan["planType"] == "ONGOING" and plan["versionNumber"] == 1
    assert body["data"]["cases"]["pageInfo"] == {"hasNextPage": False, "endCursor": edge["cursor"]}


BACKWARD = """query($last: Int, $before: String) {
  cases(last: $last, before: $before) { edges { cursor node { id } }
                                        pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }"""


@pytest.mark.sqlite_smoke
async def test_paging_backward_from_any_cursor_reaches_the_start_in_id_order(system: EmbeddedSystem) -> None:
    ids = sorted(await seed_cases(system, [_case(n) for n in range(7)]), key=uuid.UUID)
    forward = (await _cases(system, IDS_ONLY, first=7))["data"]["cases"]
    assert forward["pageInfo"] == {"hasNextPage": False, "endCursor": forward["edges"][-1]["cursor"]}
    pages: list[list[str]] = []
    before = forward["edges"][-1]["cursor"]  # an edge's cursor: the cases before it
    while True:
        body = await _cases(system, BACKWARD, last=3, before=before)
        assert "errors" not in body, body
        connection = body["data"]["cases"]
        pages.append([e["node"]["id"] for e in connection["edges"]])
        assert connection["pageInfo"]["hasNextPage"] is True  # the case `before` named is after this page
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
        assert len(pages) < 5
    assert pages == [ids[3:6], ids[0:3]]  # each page in id order, the nearest first
    # the last page of all, and a page's start taken forward again
    tail = (await _cases(system, BACKWARD, last=2))["data"]["cases"]
    assert [e["node"]["id"] for e in tail["edges"]] == ids[5:]
    assert tail["pageInfo"]["hasNextPage"] is False and tail["pageInfo"]["hasPreviousPage"] is True
    again = await _cases(system, IDS_ONLY, first=2, after=tail["pageInfo"]["startCursor"])
    assert [e["node"]["id"] for e in again["data"]["cases"]["edges"]] == ids[6:]
    mixed = await _cases(
        system,
        "query($after: String) { cases(last: 2, after: $after) { edges { cursor } } }",
        after=tail["pageInfo"]["startCursor"],
    )
    assert mixed["errors"][0]["extensions"]["field"] == "last"


@pytest.mark.sqlite_smoke
async def test_paging_follows_the_cursor_to_the_end_in_id_order(system: EmbeddedSystem) -> None:
    ids = await seed_cases(system, [_case(n) for n in range(7)])
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await _cases(system, IDS_ONLY, first=3, after=after)
        assert "errors" not in body, body
        connection = body["data"]["cases"]
        seen += [e["node"]["id"] for e in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]
    assert pages == 3
    assert seen == sorted(ids, key=uuid.UUID)
    # an edge's cursor is a place to continue from
    first_page = (await _cases(system, IDS_ONLY, first=3))["data"]["cases"]["edges"]
    resumed = await _cases(system, IDS_ONLY, first=2, after=first_page[0]["cursor"])
    assert [e["node"]["id"] for e in resumed["data"]["cases"]["edges"]] == seen[1:3]


async def test_filters_reach_the_network_caseload(system: EmbeddedSystem) -> None:
    await seed_cases(
        system,
        [
            _case(0, county="Saline"),
            _case(1, county="Saline", status="closed"),
            _case(2, county="Pulaski", status="closed"),
            _case(3, worker="fsw.lindqvist"),
        ],
    )

    async def external_ids(user: str = "fsw.rivera", **case_filter: Any) -> list[str]:
        body = await _cases(system, IDS_ONLY, user=user, filter=case_filter)
        assert "errors" not in body, body
        return sorted(e["node"]["externalId"] for e in body["data"]["cases"]["edges"])

    assert await external_ids() == ["LOAD-000", "LOAD-001", "LOAD-002"]
    assert await external_ids(county="Saline") == ["LOAD-000", "LOAD-001"]
    assert await external_ids(county="Saline", status="CLOSED") == ["LOAD-001"]
    assert await external_ids(status="CLOSED") == ["LOAD-001", "LOAD-002"]
    assert await external_ids(updatedSince="2999-01-01T00:00:00+00:00") == []
    assert await external_ids(assignedTo="sup.okafor") == ["LOAD-000", "LOAD-001", "LOAD-002"]
    # another worker's case is never on this caseload, whatever the filter asks
    assert await external_ids(assignedTo="fsw.lindqvist") == []
    assert await external_ids(user="fsw.lindqvist") == ["LOAD-003"]
    assert await external_ids(user="sup.okafor") == ["LOAD-000", "LOAD-001", "LOAD-002", "LOAD-003"]


async def test_a_failing_service_empties_only_its_summary_and_the_page_still_answers(system: EmbeddedSystem) -> None:
    await seed_cases(system, [_case(n) for n in range(3)])

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    clients = system.gateway.state.services.clients
    real_plans = clients["plans"]
    clients["plans"] = httpx.AsyncClient(transport=httpx.MockTransport(unreachable), base_url="http://plans")
    try:
        body = await _cases(system)
    finally:
        await clients["plans"].aclose()
        clients["plans"] = real_plans
    edges = body["data"]["cases"]["edges"]
    assert len(edges) == 3
    assert all(e["node"]["planSummary"] is None for e in edges)
    assert all(e["node"]["assessmentSummary"]["activeDangerStatements"] == 0 for e in edges)
    assert {e["extensions"]["section"] for e in body["errors"]} == {"planSummary"}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"SECTION_UNAVAILABLE"}
    assert body["extensions"]["upstreamCalls"]["plans"] == 1  # one failed bulk call, not one per case


async def test_bad_paging_arguments_are_refused_naming_the_argument(system: EmbeddedSystem) -> None:
    for first in (0, 51, -1):
        body = await _cases(system, IDS_ONLY, first=first)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["field"] == "first"
        assert body["extensions"]["upstreamCalls"] == {}
    naive = await _cases(system, IDS_ONLY, filter={"updatedSince": "2026-10-02T00:00:00"})
    assert naive["errors"][0]["extensions"]["field"] == "filter.updatedSince"
    assert naive["extensions"]["upstreamCalls"] == {}
    # a cursor the network did not issue: its 422 comes back naming the GraphQL argument
    forged = await _cases(system, IDS_ONLY, after="bm90LWEtY3Vyc29y")
    assert forged["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert forged["errors"][0]["extensions"]["field"] == "after"


async def test_the_bulk_token_names_only_cases_the_network_allowed(system: EmbeddedSystem) -> None:
    allowed, other = (uuid.UUID(i) for i in await seed_cases(system, [_case(0), _case(1, worker="fsw.lindqvist")]))
    principal = Principal(
        subject="fsw.rivera",
        actor_type=ActorType.staff,
        roles=frozenset({"worker"}),
        scopes=frozenset({"case:read", "case:write"}),
    )
    calls: Counter[str] = Counter()
    upstream_calls.set(calls)
    loaders = CaseLoaders(system.gateway.state.services, principal)
    assert await loaders.plans.load(other) is None  # never allowed in this request: never asked for
    assert calls == Counter()
    loaders.allow([allowed])
    mine, theirs = await asyncio.gather(loaders.plans.load(allowed), loaders.plans.load(other))
    assert mine is not None and mine["case_id"] == str(allowed)
    assert theirs is None
    assert calls == Counter({"plans": 1})
