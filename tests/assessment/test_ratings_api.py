"""Safety-scale ratings over HTTP, on SQLite and PostgreSQL: 0 to 10 enforced, one rating per rater per
statement per occasion, and the trajectory of a danger statement over the occasions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sop_assessment.ratings.models import ScaleRating
from sop_shared.db import Database
from sop_shared.ids import new_id
from sop_shared.testing import RunningService


async def rating_count(svc: RunningService) -> int:
    db = Database(svc.database_url)
    try:
        async with db.session() as s:
            return int((await s.execute(select(func.count()).select_from(ScaleRating))).scalar_one())
    finally:
        await db.dispose()


async def rate(svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], **body: Any) -> Any:
    return await svc.client.post(f"/v1/cases/{case_id}/scale-ratings", json=body, headers=headers)


async def statement_id(svc: RunningService, case_id: uuid.UUID, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = await svc.client.post(f"/v1/cases/{case_id}/statements", json=body, headers=headers)
    return str(response.json()["id"])


async def test_a_rating_keeps_who_rated_why_and_what_would_move_it_one_up(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement_id(assessment, lopez_case, rivera, maria_danger_statement)
    response = await rate(
        assessment,
        lopez_case,
        rivera,
        statement_id=danger,
        occasion_on="2026-11-02",
        occasion="home visit",
        rater_name="Maria Lopez",
        rater_role="caregiver",
        score=6,
        mode="written_independent",
        rationale="Rosa comes over most nights now",
        one_step_up="Rosa staying on weekends too",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["score"], body["rater_role"], body["mode"], body["one_step_up"]) == (
        6,
        "caregiver",
        "written_independent",
        "Rosa staying on weekends too",
    )
    assert body["anchors_shown"] is True and body["zero_anchor"].startswith("The children cannot safely")


async def test_a_score_outside_0_to_10_and_other_bad_input_is_422_and_nothing_is_written(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_harm_statement: dict[str, Any],
) -> None:
    harm = await statement_id(assessment, lopez_case, rivera, maria_harm_statement)
    base = {"occasion_on": "2026-11-02", "rater_name": "Maria Lopez", "rater_role": "caregiver"}
    for body, fields in [
        ({**base, "score": 11}, ["score"]),
        ({**base, "score": -1}, ["score"]),
        ({**base, "score": 5, "mode": "shouted"}, ["mode"]),
        ({**base, "score": 5, "rater_role": "judge"}, ["rater_role"]),
        ({**base, "score": 5, "statement_id": harm}, ["statement_id"]),
        ({**base, "score": 5, "statement_id": str(uuid.uuid4())}, ["statement_id"]),
    ]:
        response = await rate(assessment, lopez_case, rivera, **body)
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["errors"]] == fields
    assert await rating_count(assessment) == 0


async def test_one_rating_per_rater_per_statement_per_occasion(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement_id(assessment, lopez_case, rivera, maria_danger_statement)
    once = dict(statement_id=danger, occasion_on="2026-11-02", rater_name="Maria Lopez", rater_role="caregiver")
    assert (await rate(assessment, lopez_case, rivera, **once, score=6)).status_code == 201
    again = await rate(assessment, lopez_case, rivera, **{**once, "rater_name": " maria  LOPEZ"}, score=7)
    assert again.status_code == 409
    # the same rater on the same day is one occasion, whatever the label says
    same_day = await rate(assessment, lopez_case, rivera, **{**once, "occasion": "evening call"}, score=7)
    assert same_day.status_code == 409
    other_day = await rate(assessment, lopez_case, rivera, **{**once, "occasion_on": "2026-11-16"}, score=7)
    assert other_day.status_code == 201
    overall = {k: v for k, v in once.items() if k != "statement_id"}
    assert (await rate(assessment, lopez_case, rivera, **overall, score=5)).status_code == 201
    assert await rating_count(assessment) == 3


async def test_the_anchors_are_fixed_per_case_and_statement_by_the_first_rating(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement_id(assessment, lopez_case, rivera, maria_danger_statement)
    zero, ten = "The danger is certain to happen.", "Everyone agrees it is safe enough to close."
    first = dict(statement_id=danger, occasion_on="2026-11-02", rater_name="Maria Lopez", rater_role="caregiver")
    made = await rate(assessment, lopez_case, rivera, **first, score=4, zero_anchor=zero, ten_anchor=ten)
    assert made.status_code == 201, made.text
    # a later rating that does not say takes the fixed anchors
    rosa = {**first, "rater_name": "Rosa Delgado", "rater_role": "network"}
    taken = await rate(assessment, lopez_case, rivera, **rosa, score=6)
    assert taken.status_code == 201 and (taken.json()["zero_anchor"], taken.json()["ten_anchor"]) == (zero, ten)
    # one that would turn the scale round is refused, naming the fields, and nothing is written
    before = await rating_count(assessment)
    reversed_scale = await rate(
        assessment,
        lopez_case,
        rivera,
        **{**rosa, "occasion_on": "2026-11-09"},
        score=8,
        zero_anchor=ten,
        ten_anchor=zero,
    )
    assert reversed_scale.status_code == 422
    assert [e["field"] for e in reversed_scale.json()["errors"]] == ["zero_anchor", "ten_anchor"]
    assert await rating_count(assessment) == before
    # the same words with other spacing are the same anchors; the case overall has its own scale
    spaced = await rate(
        assessment, lopez_case, rivera, **{**rosa, "occasion_on": "2026-11-09"}, score=7, zero_anchor=f" {zero}  "
    )
    assert spaced.status_code == 201, spaced.text
    overall = {k: v for k, v in first.items() if k != "statement_id"}
    assert (
        await rate(assessment, lopez_case, rivera, **overall, score=5, zero_anchor="Not safe at all.")
    ).status_code == 201


def test_one_rater_on_one_day_is_one_occasion_in_the_trajectory_whatever_the_labels() -> None:
    from datetime import date

    from sop_assessment.ratings.models import RaterRole, RatingMode
    from sop_assessment.ratings.rules import fixed_anchors, trajectory

    def rating(rater: str, on: date, label: str, score: int) -> ScaleRating:
        return ScaleRating(
            id=new_id(),  # time-ordered: the ratings are given in this order
            case_id=uuid.uuid4(),
            target="overall",
            occasion_on=on,
            occasion=label,
            rater_name=rater,
            rater_key=rater.casefold(),
            rater_role=RaterRole.caregiver,
            score=score,
            mode=RatingMode.verbal,
            zero_anchor="0",
            ten_anchor="10",
            created_by="fsw.rivera",
        )

    day = date(2026, 11, 2)
    chart = trajectory([rating("Maria", day, "home visit", 6), rating("Rosa", day, "evening call", 7)], None)
    assert [(o["occasion_on"], o["occasion"], o["mean"]) for o in chart["occasions"]] == [
        (day, "home visit / evening call", 6.5)
    ]
    assert fixed_anchors(("a", "b"), None, given_fields=set()) == (("a", "b"), [])
    assert fixed_anchors(("x", "b"), ("a", "b"), given_fields=set()) == (("a", "b"), [])  # not given: fixed ones
    assert [e["field"] for e in fixed_anchors(("x", "b"), ("a", "b"), given_fields={"zero_anchor"})[1]] == [
        "zero_anchor"
    ]


@pytest.mark.sqlite_smoke
async def test_the_trajectory_shows_each_occasion_and_how_each_rater_moved(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement_id(assessment, lopez_case, rivera, maria_danger_statement)
    for on, maria, dana in (("2026-11-16", 7, 5), ("2026-11-02", 5, 3)):  # entered out of order on purpose
        await rate(
            assessment,
            lopez_case,
            rivera,
            statement_id=danger,
            occasion_on=on,
            rater_name="Maria Lopez",
            rater_role="caregiver",
            score=maria,
        )
        await rate(
            assessment,
            lopez_case,
            rivera,
            statement_id=danger,
            occasion_on=on,
            rater_name="Dana Rivera",
            rater_role="worker",
            score=dana,
        )
    response = await assessment.client.get(
        f"/v1/cases/{lopez_case}/scale-ratings/trajectory", params={"statement_id": danger}, headers=rivera
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(o["occasion_on"], o["lowest"], o["highest"], o["mean"]) for o in body["occasions"]] == [
        ("2026-11-02", 3, 5, 4.0),
        ("2026-11-16", 5, 7, 6.0),
    ]
    maria = next(r for r in body["raters"] if r["rater_name"] == "Maria Lopez")
    assert [(p["score"], p["change"]) for p in maria["points"]] == [(5, None), (7, 2)]
    listed = (
        await assessment.client.get(
            f"/v1/cases/{lopez_case}/scale-ratings", params={"statement_id": danger}, headers=rivera
        )
    ).json()
    assert len(listed["items"]) == 4
    unclear = await assessment.client.get(f"/v1/cases/{lopez_case}/scale-ratings/trajectory", headers=rivera)
    assert unclear.status_code == 422
    typo = await assessment.client.get(
        f"/v1/cases/{lopez_case}/scale-ratings", params={"statment_id": danger}, headers=rivera
    )
    assert typo.status_code == 400


async def test_a_mistaken_rating_is_withdrawn_with_a_reason_kept_and_left_out_of_the_trajectory(
    assessment: RunningService,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
) -> None:
    danger = await statement_id(assessment, lopez_case, rivera, maria_danger_statement)
    maria = dict(statement_id=danger, occasion_on="2026-11-02", rater_name="Maria Lopez", rater_role="caregiver")
    await rate(assessment, lopez_case, rivera, **maria, score=6)
    wrong = (await rate(assessment, lopez_case, rivera, **{**maria, "occasion_on": "2026-11-09"}, score=1)).json()
    base = f"/v1/cases/{lopez_case}/scale-ratings"
    without_reason = await assessment.client.post(f"{base}/{wrong['id']}/withdraw", json={}, headers=rivera)
    assert without_reason.status_code == 422 and without_reason.json()["errors"][0]["field"] == "reason"
    withdrawn = await assessment.client.post(
        f"{base}/{wrong['id']}/withdraw", json={"reason": "Rated the other statement by mistake"}, headers=rivera
    )
    assert withdrawn.status_code == 200, withdrawn.text
    body = withdrawn.json()
    assert (body["score"], body["withdrawal_reason"], body["withdrawn_by"]) == (
        1,
        "Rated the other statement by mistake",
        "fsw.rivera",
    )
    again = await assessment.client.post(f"{base}/{wrong['id']}/withdraw", json={"reason": "x"}, headers=rivera)
    assert again.status_code == 409
    assert (
        await assessment.client.post(f"{base}/{uuid.uuid4()}/withdraw", json={"reason": "x"}, headers=rivera)
    ).status_code == 404
    # kept in the list, left out of the trajectory; the rater may rate that day again
    listed = (await assessment.client.get(base, params={"statement_id": danger}, headers=rivera)).json()["items"]
    assert [(r["score"], r["withdrawn_at"] is not None) for r in listed] == [(6, False), (1, True)]
    corrected = await rate(assessment, lopez_case, rivera, **{**maria, "occasion_on": "2026-11-09"}, score=7)
    assert corrected.status_code == 201, corrected.text
    chart = (await assessment.client.get(f"{base}/trajectory", params={"statement_id": danger}, headers=rivera)).json()
    assert [o["mean"] for o in chart["occasions"]] == [6.0, 7.0]  # no false dip
    assert await rating_count(assessment) == 3
