"""caseView's long lists — harm and danger statements, the safety scale's trajectories, a plan's check-ins — are
bounded at the source and read page after page: `first` items with the list's total, then `…Page(first, after)`
to the end, every item exactly once, or backward with `…Page(last, before)` from the end to the start; bad `first`
and `after` are a 400 naming the argument, a cursor of another case or list is refused like a forged one, and a
family's pages are redacted like its first."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sharing_steps import share_at

from sop_gateway.demo.assessment import DEMO_DANGER_STATEMENT
from sop_shared.pagination import CaseList

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

REPORTER = "Ms. Alvarez, Sofia's teacher"
HARM_STATEMENTS = 5
MORE_DANGER_STATEMENTS = 2
DEMO_CHECK_INS = 4

PAGE = """query($id: ID!, $audience: Audience = STAFF, $first: Int!) {
 caseView(caseId: $id, audience: $audience) {
  worries {
    harm(first: $first) { recordId }
    harmPage(first: $first) { totalCount pageInfo { endCursor hasNextPage } }
    dangerPage(first: $first) { totalCount pageInfo { endCursor hasNextPage } }
  }
  safetyScale {
    trajectory(first: $first) { statementId }
    trajectoryPage(first: $first) { totalCount pageInfo { endCursor hasNextPage } }
  }
  safetyPlan {
    recentCheckIns(first: $first) { occurredAt }
    checkInPage(first: $first) { totalCount pageInfo { endCursor hasNextPage } }
  }
 } }"""

# One list, a page at a time: (section, page field) -> its nodes' fields.
NODES = {
    ("worries", "harmPage"): "recordId text whoReported redacted",
    ("worries", "dangerPage"): "recordId",
    ("safetyScale", "trajectoryPage"): "statementId",
    ("safetyPlan", "checkInPage"): "occurredAt note",
}


def page_query(path: tuple[str, str]) -> str:
    return f"""query($id: ID!, $audience: Audience = STAFF, $first: Int!, $after: String) {{
     caseView(caseId: $id, audience: $audience) {{ {path[0]} {{
      {path[1]}(first: $first, after: $after) {{
       nodes {{ {NODES[path]} }} totalCount pageInfo {{ endCursor hasNextPage }} }} }} }} }}"""


@pytest.fixture
async def crowded_case(system: EmbeddedSystem, demo_case: uuid.UUID) -> uuid.UUID:
    """The demo family with five harm statements naming their reporter, two more danger statements and an
    overall rating."""
    worker = system.bearer("fsw.rivera")
    base = f"/api/assessment/v1/cases/{demo_case}/statements"
    for night in range(HARM_STATEMENTS):
        harm = {
            "kind": "harm",
            "language": "en",
            "who_reported": REPORTER,
            "caregivers": [{"name": "Maria"}],
            "action_or_inaction": "was asleep and could not be woken",
            "when_or_how_often": f"on the night of {night + 10} October",
            "children": [{"name": "Sofia"}, {"name": "Mateo"}],
            "impact_on_child": "were alone and frightened until Grandma Rosa came",
            "threat_codes": ["T4"],
        }
        written = await system.client.post(base, json=harm, headers=worker)
        assert written.status_code == 201, written.text
        await share_at(system.client, f"{base}/{written.json()['id']}", worker, written.json())  # the family reads it
    for _ in range(MORE_DANGER_STATEMENTS):
        written = await system.client.post(base, json=DEMO_DANGER_STATEMENT, headers=worker)
        assert written.status_code == 201, written.text
        await share_at(system.client, f"{base}/{written.json()['id']}", worker, written.json())
    overall = {"occasion_on": "2026-10-20", "rater_name": "Maria Lopez", "rater_role": "caregiver", "score": 6}
    rated = await system.client.post(
        f"/api/assessment/v1/cases/{demo_case}/scale-ratings", json=overall, headers=worker
    )
    assert rated.status_code == 201, rated.text
    return demo_case


async def _page(system: EmbeddedSystem, case_id: uuid.UUID, **variables: Any) -> Any:
    return await system.graphql(PAGE, {"id": str(case_id), **variables})


async def _all_pages(
    system: EmbeddedSystem, case_id: uuid.UUID, path: tuple[str, str], first: int, **extra: Any
) -> tuple[list[dict[str, Any]], list[int]]:
    """Every node of one list, reading page after page, and the total each page reported."""
    nodes: list[dict[str, Any]] = []
    totals: list[int] = []
    after = None
    for _ in range(20):  # far more pages than any list here needs
        variables = {"id": str(case_id), "first": first, "after": after, **extra}
        response = await system.graphql(page_query(path), variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        page = body["data"]["caseView"][path[0]][path[1]]
        assert len(page["nodes"]) <= first
        nodes += page["nodes"]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, totals
        after = page["pageInfo"]["endCursor"]
    raise AssertionError(f"{path} never ended: {nodes}")


async def test_each_long_list_shows_first_items_and_its_total_and_pages_to_the_end_once_each(
    system: EmbeddedSystem, crowded_case: uuid.UUID
) -> None:
    rest = await system.client.get(
        f"/api/assessment/v1/cases/{crowded_case}/statements",
        params={"limit": 200},
        headers=system.bearer("fsw.rivera"),
    )
    every = rest.json()["items"]
    harm_ids = [s["id"] for s in every if s["kind"] == "harm"]
    danger_ids = [s["id"] for s in every if s["kind"] == "danger"]
    assert len(harm_ids) == HARM_STATEMENTS and len(danger_ids) == 1 + MORE_DANGER_STATEMENTS

    first = await _page(system, crowded_case, first=2)
    assert first.status_code == 200, first.text
    view = first.json()["data"]["caseView"]
    assert [s["recordId"] for s in view["worries"]["harm"]] == harm_ids[:2]
    assert view["worries"]["harmPage"]["totalCount"] == HARM_STATEMENTS
    assert view["worries"]["harmPage"]["pageInfo"]["hasNextPage"] is True
    assert len(view["safetyScale"]["trajectory"]) == 2 and view["safetyScale"]["trajectory"][0]["statementId"] is None
    assert len(view["safetyPlan"]["recentCheckIns"]) == 2

    harm, harm_totals = await _all_pages(system, crowded_case, ("worries", "harmPage"), 2)
    assert [s["recordId"] for s in harm] == harm_ids and set(harm_totals) == {HARM_STATEMENTS}
    danger, _ = await _all_pages(system, crowded_case, ("worries", "dangerPage"), 2)
    assert [s["recordId"] for s in danger] == danger_ids
    trajectories, totals = await _all_pages(system, crowded_case, ("safetyScale", "trajectoryPage"), 1)
    assert [t["statementId"] for t in trajectories] == [None, *danger_ids]  # overall first, then oldest first
    assert set(totals) == {len(danger_ids) + 1}
    check_ins, totals = await _all_pages(system, crowded_case, ("safetyPlan", "checkInPage"), 3)
    assert len(check_ins) == DEMO_CHECK_INS and set(totals) == {DEMO_CHECK_INS}
    occurred = [c["occurredAt"] for c in check_ins]
    assert occurred == sorted(occurred, reverse=True)  # newest first, as recentCheckIns always were


def backward_query(path: tuple[str, str], arguments: str = "last: $last, before: $before") -> str:
    return f"""query($id: ID!, $last: Int, $before: String) {{
     caseView(caseId: $id) {{ {path[0]} {{
      {path[1]}({arguments}) {{
       nodes {{ {NODES[path]} }} totalCount
       pageInfo {{ startCursor endCursor hasPreviousPage hasNextPage }} }} }} }} }}"""


@pytest.mark.parametrize("path", list(NODES))
async def test_each_long_list_pages_backward_from_its_end_to_its_start_once_each(
    system: EmbeddedSystem, crowded_case: uuid.UUID, path: tuple[str, str]
) -> None:
    forward, _ = await _all_pages(system, crowded_case, path, 50)
    assert len(forward) > 2
    nodes: list[dict[str, Any]] = []
    before = None
    for _ in range(20):
        response = await system.graphql(backward_query(path), {"id": str(crowded_case), "last": 2, "before": before})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        page = body["data"]["caseView"][path[0]][path[1]]
        assert 0 < len(page["nodes"]) <= 2 and page["totalCount"] == len(forward)
        assert page["pageInfo"]["hasNextPage"] is (before is not None)  # from the end: nothing after it
        nodes = page["nodes"] + nodes  # each page in the list's own order
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert nodes == forward  # every item once, in the list's order

    # Any cursor reads either way: the page after the first two, then back before it is the first two again.
    second = await system.graphql(
        backward_query(path, "first: $last, after: $before"), {"id": str(crowded_case), "last": 2}
    )
    first_two = second.json()["data"]["caseView"][path[0]][path[1]]
    assert first_two["nodes"] == forward[:2]
    after_them = await system.graphql(
        backward_query(path, "first: $last, after: $before"),
        {"id": str(crowded_case), "last": 1, "before": first_two["pageInfo"]["endCursor"]},
    )
    [third] = after_them.json()["data"]["caseView"][path[0]][path[1]]["nodes"]
    assert third == forward[2]
    start = after_them.json()["data"]["caseView"][path[0]][path[1]]["pageInfo"]["startCursor"]
    back = await system.graphql(backward_query(path), {"id": str(crowded_case), "last": 5, "before": start})
    page = back.json()["data"]["caseView"][path[0]][path[1]]
    assert page["nodes"] == forward[:2] and page["pageInfo"]["hasPreviousPage"] is False


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ("first: 2, before: $cursor", "first"),
        ("last: 2, after: $cursor", "last"),
        ("last: 201, before: $cursor", "last"),
        ("after: $cursor, before: $cursor", "before"),
    ],
)
async def test_paging_both_ways_at_once_or_too_far_is_400_naming_the_argument(
    system: EmbeddedSystem, crowded_case: uuid.UUID, arguments: str, field: str
) -> None:
    cursor = CaseList(crowded_case, "statements.harm").cursor([str(uuid.uuid4())])
    query = f"""query($id: ID!, $cursor: String) {{ caseView(caseId: $id) {{
      worries {{ harmPage({arguments}) {{ totalCount }} }} }} }}"""
    response = await system.graphql(query, {"id": str(crowded_case), "cursor": cursor})
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert response.json()["extensions"]["upstreamCalls"] == {}


async def test_the_default_bound_and_only_the_count(system: EmbeddedSystem, crowded_case: uuid.UUID) -> None:
    query = """query($id: ID!) { caseView(caseId: $id) {
      worries { harm { recordId }
        harmPage(first: 0) { nodes { recordId } totalCount pageInfo { endCursor hasNextPage } } }
      safetyPlan { recentCheckIns { kept } } } }"""
    body = (await system.graphql(query, {"id": str(crowded_case)})).json()
    assert "errors" not in body, body
    worries = body["data"]["caseView"]["worries"]
    assert len(worries["harm"]) == HARM_STATEMENTS  # under the default bound of 50
    assert worries["harmPage"]["nodes"] == [] and worries["harmPage"]["totalCount"] == HARM_STATEMENTS
    start = worries["harmPage"]["pageInfo"]
    assert start["hasNextPage"] is True
    rest, _ = await _all_pages(system, crowded_case, ("worries", "harmPage"), 50)
    variables = {"id": str(crowded_case), "first": 50, "after": start["endCursor"]}
    again = await system.graphql(page_query(("worries", "harmPage")), variables)
    assert again.json()["data"]["caseView"]["worries"]["harmPage"]["nodes"] == rest
    assert len(body["data"]["caseView"]["safetyPlan"]["recentCheckIns"]) == DEMO_CHECK_INS  # default 5


@pytest.mark.parametrize("first", [-1, 201])
@pytest.mark.parametrize(
    "selection",
    [
        "worries { harm(first: $first) { recordId } }",
        "worries { dangerPage(first: $first) { totalCount } }",
        "safetyScale { trajectory(first: $first) { statementId } }",
        "safetyPlan { checkInPage(first: $first) { totalCount } }",
    ],
)
async def test_a_first_out_of_range_is_400_naming_it_and_calls_no_service(
    system: EmbeddedSystem, demo_case: uuid.UUID, selection: str, first: int
) -> None:
    query = f"query($id: ID!, $first: Int!) {{ caseView(caseId: $id) {{ {selection} }} }}"
    response = await system.graphql(query, {"id": str(demo_case), "first": first})
    assert response.status_code == 400, response.text
    body = response.json()
    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "first")
    assert body["extensions"]["upstreamCalls"] == {}


async def test_a_forged_cursor_or_one_of_another_list_or_case_is_refused_alike(
    system: EmbeddedSystem, crowded_case: uuid.UUID
) -> None:
    view = (await _page(system, crowded_case, first=2)).json()["data"]["caseView"]
    harm_cursor = view["worries"]["harmPage"]["pageInfo"]["endCursor"]
    danger_cursor = view["worries"]["dangerPage"]["pageInfo"]["endCursor"]
    check_in_cursor = view["safetyPlan"]["checkInPage"]["pageInfo"]["endCursor"]
    plan_id = (
        await system.graphql(
            "query($id: ID!) { caseView(caseId: $id) { safetyPlan { recordId } } }", {"id": str(crowded_case)}
        )
    ).json()["data"]["caseView"]["safetyPlan"]["recordId"]
    last_harm = view["worries"]["harm"][-1]["recordId"]
    elsewhere = uuid.uuid4()
    refused = {
        "garbage": "bm90LWEtY3Vyc29y",
        "not base64": "%%%",
        "too long": "A" * 600,
        # the same position, issued for another case or list: exactly what its cursors look like
        "another case": CaseList(elsewhere, "statements.harm").cursor([last_harm]),
        "another list": danger_cursor,
        "another plan's check-ins": check_in_cursor,
    }
    messages = set()
    for name, cursor in refused.items():
        query = """query($id: ID!, $after: String) { caseView(caseId: $id) {
          worries { harmPage(first: 2, after: $after) { totalCount } } } }"""
        response = await system.graphql(query, {"id": str(crowded_case), "after": cursor})
        assert response.status_code == 400, (name, response.text)
        [error] = response.json()["errors"]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "after"), name
        messages.add(error["message"])
    assert len(messages) == 1  # nothing tells a cursor of another case from a forged one

    query = """query($id: ID!, $after: String) { caseView(caseId: $id) {
      safetyPlan { checkInPage(first: 2, after: $after) { totalCount } } } }"""
    for cursor in (
        harm_cursor,
        CaseList(elsewhere, f"check-ins.{plan_id}").cursor(["2026-01-01T00:00:00+00:00", last_harm]),
    ):
        response = await system.graphql(query, {"id": str(crowded_case), "after": cursor})
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"]["field"] == "after"


async def test_a_familys_pages_are_redacted_like_its_first(system: EmbeddedSystem, crowded_case: uuid.UUID) -> None:
    staff, _ = await _all_pages(system, crowded_case, ("worries", "harmPage"), 2)
    assert {s["whoReported"] for s in staff} == {REPORTER}
    family, totals = await _all_pages(system, crowded_case, ("worries", "harmPage"), 2, audience="FAMILY")
    assert [s["recordId"] for s in family] == [s["recordId"] for s in staff] and set(totals) == {HARM_STATEMENTS}
    assert all(s["whoReported"] is None and "whoReported" in s["redacted"] for s in family)
    assert all("Alvarez" not in s["text"] for s in family)


async def test_the_services_window_endpoints_check_limit_and_cursor(
    system: EmbeddedSystem, crowded_case: uuid.UUID
) -> None:
    worker = system.bearer("fsw.rivera")
    windows = f"/api/assessment/v1/cases/{crowded_case}/case-view"
    for params, field in (
        ({"kind": "harm", "limit": 0}, "limit"),
        ({"kind": "harm", "limit": 201}, "limit"),
        ({"kind": "harm", "cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"cursor": CaseList(crowded_case, "statements.harm").cursor([str(uuid.uuid4())])}, "cursor"),
    ):
        path = f"{windows}/statements" if "kind" in params else f"{windows}/safety-scale"
        response = await system.client.get(path, params=params, headers=worker)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]][-1].endswith(field)
    page = (
        await system.client.get(f"{windows}/statements", params={"kind": "harm", "limit": 2}, headers=worker)
    ).json()
    assert len(page["items"]) == 2 and page["total_count"] == HARM_STATEMENTS and page["next_cursor"]
