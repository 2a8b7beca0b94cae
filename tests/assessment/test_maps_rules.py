"""The rules of maps, goals and ratings as plain functions: completion, versions, durations, trajectories."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from sop_assessment.goals.models import GoalOwner
from sop_assessment.goals.rules import compose_goal, duration_text, goal_check, owner_problems, parse_duration
from sop_assessment.maps.rules import (
    balance_problems,
    changed,
    completion_problems,
    item_check,
    map_warnings,
    prepare_content,
    shown_item_check,
    with_checks,
)
from sop_assessment.maps.schemas import MapContentIn
from sop_assessment.ratings.models import RaterRole, ScaleRating
from sop_assessment.ratings.rules import latest_occasion, rater_key, trajectory
from sop_assessment.supervision.models import ApprovalStatus, CoachingStatus
from sop_assessment.supervision.rules import check_coaching_move, check_decision
from sop_shared.problems import Conflict, Forbidden, InvalidInput


def test_every_active_danger_statement_needs_a_goal_and_a_rating_before_the_map_is_complete() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert completion_problems([a, b], with_goal={a, b}, rated={a, b}) == []
    assert [e["field"] for e in completion_problems([a, b], with_goal={a}, rated={b})] == [
        f"danger_statements.{a}.scale_rating",
        f"danger_statements.{b}.safety_goal",
    ]
    assert completion_problems([], with_goal=set(), rated=set()) == []


def test_a_map_is_balanced_with_a_danger_statement_something_working_well_and_a_safety_goal() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    working = {"strengths": [{"text": "Maria walks Sofia to school"}], "existing_safety": []}
    assert balance_problems(working, active_danger_statements=[a, b]) == []
    only_safety = {"strengths": [], "existing_safety": [{"text": "Rosa takes the children"}]}
    assert balance_problems(only_safety, active_danger_statements=[a]) == []
    assert [e["field"] for e in balance_problems({}, active_danger_statements=[])] == [
        "danger_statements",
        "working_well",
        "safety_goals",
    ]
    # with a danger statement, its missing goal is named statement by statement (completion_problems)
    assert balance_problems(working, active_danger_statements=[a]) == []


def test_a_safety_goal_is_owned_by_the_caregivers_or_jointly_never_by_the_agency_alone() -> None:
    assert owner_problems(GoalOwner.family) == [] and owner_problems(GoalOwner.joint) == []
    assert owner_problems(None) == [], "not setting the owner keeps the stored one"
    assert [e["field"] for e in owner_problems(GoalOwner.agency)] == ["owner"]


def test_more_than_three_danger_statements_warns() -> None:
    assert map_warnings(3) == [] and [w["code"] for w in map_warnings(4)] == ["many_danger_statements"]


def test_a_save_with_the_same_words_keeps_item_ids_and_is_not_a_change() -> None:
    first = prepare_content(MapContentIn(strengths=[{"text": "Rosa helps"}]), title="Map")  # type: ignore[list-item]
    again = prepare_content(
        MapContentIn(strengths=[{"text": "Rosa helps"}]),
        title="Map",  # type: ignore[list-item]
        previous=first,
    )
    assert again == first and not changed(first, again)
    moved = prepare_content(
        MapContentIn(strengths=[{"text": "Rosa helps a lot"}]),
        title="Map",  # type: ignore[list-item]
        previous=first,
    )
    assert changed(first, moved) and moved["strengths"][0]["id"] != first["strengths"][0]["id"]


def test_an_item_id_from_elsewhere_is_refused() -> None:
    first = prepare_content(MapContentIn(), title="Map")
    with pytest.raises(InvalidInput) as refused:
        prepare_content(
            MapContentIn(gray_areas=[{"id": str(uuid.uuid4()), "text": "?"}]),  # type: ignore[list-item]
            title="Map",
            previous=first,
        )
    assert [e["field"] for e in refused.value.errors] == ["gray_areas.0.id"]


@pytest.mark.parametrize(
    ("value", "en", "es"),
    [
        ("P3M", "3 months", "3 meses"),
        ("P1Y2M", "1 year and 2 months", "1 año y 2 meses"),
        ("P1W", "1 week", "1 semana"),
        ("P90D", "90 days", "90 días"),
        ("p6w", "6 weeks", "6 semanas"),
    ],
)
def test_a_goal_duration_reads_in_words(value: str, en: str, es: str) -> None:
    assert duration_text(value, "en") == en and duration_text(value, "es-US") == es


@pytest.mark.parametrize("value", ["", "3 months", "P", "P0M", "PT12H", "P1DT2H", "-P1M", "P1.5M"])
def test_a_goal_duration_must_be_years_months_weeks_or_days_above_zero(value: str) -> None:
    assert parse_duration(value) is None


def test_a_goal_is_composed_from_its_parts_with_the_duration_last() -> None:
    text = compose_goal(
        {
            "caregiver_will_be_doing": "maria will call Rosa.",
            "child_will_experience": None,
            "others_will_see": "Rosa will see it",
            "duration": "P2M",
        },
        "en",
    )
    assert text == "Maria will call Rosa. Rosa will see it. We need to see this for 2 months."


def test_a_goal_in_spanish_with_negative_phrasing_is_flagged() -> None:
    text = "María va a dejar de tomar."
    check = goal_check(text=text, language="es", values={"caregiver_will_be_doing": text})
    negative = [f for f in check.findings if f.code == "negative_phrasing"]
    assert [(f.term, f.start) for f in negative] == [("dejar de", text.index("dejar de"))]


def _rating(on: str, who: str, score: int, occasion: str = "") -> ScaleRating:
    return ScaleRating(
        case_id=uuid.uuid4(),
        target="overall",
        occasion_on=date.fromisoformat(on),
        occasion=occasion,
        rater_name=who,
        rater_key=rater_key(who),
        rater_role=RaterRole.caregiver,
        score=score,
        mode="verbal",
        zero_anchor="0",
        ten_anchor="10",
        created_by="t",
    )


def test_the_trajectory_orders_occasions_and_tracks_each_raters_moves() -> None:
    ratings = [_rating("2026-11-16", "Maria", 7), _rating("2026-11-02", "Maria", 4), _rating("2026-11-02", "Rosa", 6)]
    result = trajectory(ratings, None)
    assert [(o["occasion_on"].isoformat(), o["mean"]) for o in result["occasions"]] == [
        ("2026-11-02", 5.0),
        ("2026-11-16", 7.0),
    ]
    assert [(p["score"], p["change"]) for p in result["raters"][0]["points"]] == [(4, None), (7, 3)]
    assert [r.score for r in latest_occasion(ratings)] == [7]
    assert rater_key("  Maria   LOPEZ ") == rater_key("maria lopez")


def test_approval_decisions_keep_their_rules() -> None:
    with pytest.raises(Forbidden):
        check_decision(status=ApprovalStatus.pending, requested_by="a", decider="a", decision="approved", comment=None)
    with pytest.raises(Conflict):
        check_decision(status=ApprovalStatus.approved, requested_by="a", decider="b", decision="approved", comment=None)
    with pytest.raises(InvalidInput):
        check_decision(status=ApprovalStatus.pending, requested_by="a", decider="b", decision="returned", comment=" ")
    check_decision(status=ApprovalStatus.pending, requested_by="a", decider="b", decision="returned", comment="why")


def test_coaching_referrals_move_forward_only() -> None:
    check_coaching_move(CoachingStatus.requested, CoachingStatus.scheduled)
    for current, new in (
        (CoachingStatus.requested, CoachingStatus.completed),
        (CoachingStatus.completed, CoachingStatus.requested),
        (CoachingStatus.cancelled, CoachingStatus.scheduled),
    ):
        with pytest.raises(Conflict):
            check_coaching_move(current, new)


def test_a_map_items_check_grades_sentences_not_phrases() -> None:
    from sop_assessment.maps.rules import item_check, map_findings

    phrase = item_check({"text": "Rosa comes every evening"})  # Flesch-Kincaid would say grade 9.6
    assert (phrase.reading_grade, phrase.findings) == (None, [])
    long = item_check(
        {
            "text": "Notwithstanding considerable organizational difficulties, Maria consistently demonstrated "
            "extraordinary determination regarding transportation arrangements for educational appointments"
        }
    )
    assert "reading_grade_high" in {f.code for f in long.findings}
    content = {"strengths": [{"text": "Rosa comes every evening"}], "gray_areas": [{"text": "Is Maria's UA clean?"}]}
    assert map_findings(content) == []  # gray areas are the agency's open questions, not the family's words
    content["complicating_factors"] = [{"text": "Maria misses her UA screens"}]
    assert [f.term for f in map_findings(content)] == ["UA"]


def test_an_items_shown_check_is_kept_once_and_a_callers_check_is_its_own_to_change() -> None:
    item = {"id": "i1", "text": "The CPS worker will do a home visit per the case plan.", "language": "en"}
    shown = with_checks({"strengths": [item]})["strengths"][0]["plain_language"]
    assert shown is shown_item_check(item["text"], "en")
    assert with_checks({"strengths": [item]})["strengths"][0]["plain_language"] is shown
    assert shown.findings  # jargon
    mine = item_check(item)
    assert mine == shown and mine is not shown
    mine.findings[0].code = "changed"
    mine.findings.clear()
    assert item_check(item) == shown_item_check(item["text"], "en") == shown
    short = item_check({"text": "Rosa comes every evening"})
    assert short.reading_grade is None and all(f.code != "reading_grade_high" for f in short.findings)
