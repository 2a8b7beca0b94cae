"""The gateway's bulk read: the assessment part of the case view in one call, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sop_shared.testing import InternalTokens, RunningService


@pytest.mark.sqlite_smoke
async def test_the_case_view_brings_statements_goals_latest_ratings_trajectory_and_the_map_in_one_call(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
) -> None:
    client, case = assessment.client, f"/v1/cases/{lopez_case}"
    danger = (await client.post(f"{case}/statements", json=maria_danger_statement, headers=rivera)).json()
    harm = (await client.post(f"{case}/statements", json=maria_harm_statement, headers=rivera)).json()
    goal = (
        await client.post(
            f"{case}/safety-goals",
            headers=rivera,
            json={
                "danger_statement_id": danger["id"],
                "duration": "P3M",
                "owner": "family",
                "caregiver_will_be_doing": "Maria will call Rosa when she has been drinking",
            },
        )
    ).json()
    for on, score in (("2026-11-02", 3), ("2026-11-16", 6)):
        await client.post(
            f"{case}/scale-ratings",
            headers=rivera,
            json={
                "statement_id": danger["id"],
                "occasion_on": on,
                "rater_name": "Maria Lopez",
                "rater_role": "caregiver",
                "score": score,
            },
        )
    await client.post(
        f"{case}/scale-ratings",
        headers=rivera,
        json={"occasion_on": "2026-11-16", "rater_name": "Dana Rivera", "rater_role": "worker", "score": 5},
    )
    the_map = (
        await client.post(
            f"{case}/maps",
            headers=rivera,
            json={"context": "in_home", "title": "Lopez family", "strengths": [{"text": "Rosa lives close by"}]},
        )
    ).json()

    response = await client.get(f"{case}/case-view", headers=rivera)
    assert response.status_code == 200, response.text
    view = response.json()
    assert [s["id"] for s in view["statements"]["danger"]] == [danger["id"]]
    assert [s["id"] for s in view["statements"]["harm"]] == [harm["id"]]
    assert "plain_language" in view["statements"]["danger"][0]
    assert [g["id"] for g in view["safety_goals"]] == [goal["id"]] and view["safety_goals"][0]["duration_text"]
    assert [(r["statement_id"], r["score"]) for r in view["safety_scale"]["latest"]] == [(None, 5), (danger["id"], 6)]
    trajectories = {t["statement_id"]: t for t in view["safety_scale"]["trajectory"]}
    assert [o["mean"] for o in trajectories[danger["id"]]["occasions"]] == [3.0, 6.0]
    assert [o["mean"] for o in trajectories[None]["occasions"]] == [5.0]
    assert view["map"]["id"] == the_map["id"]
    assert view["map"]["content"]["strengths"][0]["text"] == "Rosa lives close by"
    assert view["pending_approvals"] == 0 and view["warnings"] == []


async def test_an_empty_case_has_an_empty_view_and_another_cases_token_sees_nothing(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    tokens: InternalTokens,
) -> None:
    view = (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=rivera)).json()
    nothing = {"total_count": 0, "next_cursor": None, "start_cursor": None, "end_cursor": None}
    assert view["statements"] == {"harm": [], "danger": [], "harm_paging": nothing, "danger_paging": nothing}
    assert view["map"] is None
    assert view["safety_scale"] == {"latest": [], "trajectory": [], "trajectory_paging": nothing}
    stranger = tokens.headers("assessment", case_id=uuid.uuid4())
    assert (await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", headers=stranger)).status_code == 404
    assert (
        await assessment.client.get(f"/v1/cases/{lopez_case}/case-view", params={"x": 1}, headers=rivera)
    ).status_code == 400
