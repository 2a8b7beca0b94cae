"""The case view's long lists at the source, on SQLite and PostgreSQL: the case-view read carries the first
window of the statements and of the safety scale with their totals and cursors, and `…/case-view/statements`
and `…/case-view/safety-scale` read the rest, every item once, redacted for the audience like the first."""

from __future__ import annotations

import uuid
from typing import Any

from sop_shared.pagination import CaseList
from sop_shared.testing import RunningService

DANGER_STATEMENTS = 7


async def _crowded(
    client: Any, case: str, headers: dict[str, str], danger: dict[str, Any], harm: dict[str, Any]
) -> Any:
    dangers = [
        (await client.post(f"{case}/statements", json=danger, headers=headers)).json()["id"]
        for _ in range(DANGER_STATEMENTS)
    ]
    harms = []
    for _ in range(3):  # shared with the family: the windows below are read as the family too
        written = (await client.post(f"{case}/statements", json=harm, headers=headers)).json()
        version = {"If-Match": f'"{written["version"]}"'}
        shared = await client.post(
            f"{case}/statements/{written['id']}/share",
            json={"reason": "chosen with the family"},
            headers={**headers, **version},
        )
        assert shared.status_code == 200, shared.text
        harms.append(written["id"])
    overall = {"occasion_on": "2026-11-16", "rater_name": "Dana Rivera", "rater_role": "worker", "score": 5}
    assert (await client.post(f"{case}/scale-ratings", json=overall, headers=headers)).status_code == 201
    return dangers, harms


async def _rest(client: Any, path: str, headers: dict[str, str], cursor: str | None, **params: Any) -> list[Any]:
    items: list[Any] = []
    for _ in range(20):
        if cursor is None:
            return items
        response = await client.get(path, params={**params, "cursor": cursor}, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
    raise AssertionError("the list never ended")


async def test_the_first_window_carries_totals_and_the_rest_reads_every_item_once(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    client, case = assessment.client, f"/v1/cases/{lopez_case}"
    dangers, _ = await _crowded(client, case, rivera, maria_danger_statement, maria_harm_statement)
    response = await client.get(f"{case}/case-view", params={"danger_first": 3, "scale_first": 2}, headers=rivera)
    assert response.status_code == 200, response.text
    view = response.json()
    statements = view["statements"]
    assert [s["id"] for s in statements["danger"]] == dangers[:3]
    assert statements["danger_paging"]["total_count"] == DANGER_STATEMENTS
    assert (
        len(statements["harm"]) == 3
        and statements["harm_paging"]["total_count"] == 3
        and statements["harm_paging"]["next_cursor"] is None
    )
    rest = await _rest(
        client,
        f"{case}/case-view/statements",
        rivera,
        statements["danger_paging"]["next_cursor"],
        kind="danger",
        limit=2,
    )
    assert [s["id"] for s in rest] == dangers[3:]
    assert all("translations" in s and "plain_language" in s for s in rest)  # the case view's own shape

    scale = view["safety_scale"]
    assert [t["statement_id"] for t in scale["trajectory"]] == [None, dangers[0]]
    assert {r["statement_id"] for r in scale["latest"]} == {None}  # only the overall rating was given
    assert scale["trajectory_paging"]["total_count"] == DANGER_STATEMENTS + 1
    rest = await _rest(
        client, f"{case}/case-view/safety-scale", rivera, scale["trajectory_paging"]["next_cursor"], limit=3
    )
    assert [t["statement_id"] for t in rest] == dangers[1:]


async def test_every_window_is_redacted_for_the_audience_like_the_first(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    client, case = assessment.client, f"/v1/cases/{lopez_case}"
    _, harms = await _crowded(client, case, rivera, maria_danger_statement, maria_harm_statement)
    family = {**rivera, "X-SOP-Audience": "family"}
    view = (await client.get(f"{case}/case-view", params={"harm_first": 1}, headers=family)).json()
    first = view["statements"]["harm"]
    rest = await _rest(
        client,
        f"{case}/case-view/statements",
        family,
        view["statements"]["harm_paging"]["next_cursor"],
        kind="harm",
        limit=1,
    )
    assert [s["id"] for s in first + rest] == harms
    assert all(s["who_reported"] is None and "who_reported" in s["redacted"] for s in first + rest)
    assert "teacher" not in str(first + rest)


async def test_a_bad_bound_limit_or_cursor_is_refused_naming_it(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    client, case = assessment.client, f"/v1/cases/{lopez_case}"
    dangers, _ = await _crowded(client, case, rivera, maria_danger_statement, maria_harm_statement)
    for params in ({"danger_first": 201}, {"scale_first": -1}, {"harm_first": "many"}):
        response = await client.get(f"{case}/case-view", params=params, headers=rivera)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].endswith(next(iter(params)))
    view = (await client.get(f"{case}/case-view", params={"danger_first": 1}, headers=rivera)).json()
    danger_cursor = view["statements"]["danger_paging"]["next_cursor"]
    refused = [
        ("statements", {"kind": "danger", "limit": 0}, "limit"),
        ("statements", {"kind": "danger", "limit": 201}, "limit"),
        ("statements", {"kind": "danger", "cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ("statements", {"kind": "harm", "cursor": danger_cursor}, "cursor"),  # another list's
        ("safety-scale", {"cursor": danger_cursor}, "cursor"),
        # the same position, issued for another case
        (
            "statements",
            {"kind": "danger", "cursor": CaseList(uuid.uuid4(), "statements.danger").cursor([dangers[0]])},
            "cursor",
        ),
    ]
    messages = set()
    for endpoint, params, field in refused:
        response = await client.get(f"{case}/case-view/{endpoint}", params=params, headers=rivera)
        assert response.status_code == 422, (params, response.text)
        error = response.json()["errors"][0]
        assert error["field"].endswith(field), (params, error)
        if field == "cursor":
            messages.add(error["message"])
    assert len(messages) == 1
    stranger = await client.get(
        f"/v1/cases/{uuid.uuid4()}/case-view/statements", params={"kind": "harm"}, headers=rivera
    )
    assert stranger.status_code == 404  # case-scoped like every read
