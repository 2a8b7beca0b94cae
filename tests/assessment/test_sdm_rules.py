"""The SDM engine on the illustrative instruments: scoring tables with known inputs and outputs, the
safety-decision rules, override limits, downgrades, rating summaries and due dates. Plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from sop_assessment.sdm import rules
from sop_assessment.sdm.instrument import Instrument, load_catalog

CATALOG = load_catalog()


def instrument(key: str) -> Instrument:
    loaded = CATALOG.get(key, "illustrative-1")
    assert loaded is not None
    return loaded.instrument


RISK = instrument("risk_assessment")


def risk_answers(threats_remain: bool = False, **choices: str) -> dict[str, Any]:
    """Every risk item answered 'a' (no points) unless chosen otherwise."""
    answers: dict[str, Any] = {i.code: "a" for i in RISK.items if i.type == "single"}
    return {**answers, **choices, "threats_remain": threats_remain}


# --- risk assessment: neglect and abuse indices -> levels -> scored level = the higher one ---------------


@pytest.mark.parametrize(
    ("choices", "neglect", "abuse", "scored"),
    [
        ({}, (0, "low"), (0, "low"), "low"),
        ({"N1": "b"}, (1, "low"), (0, "low"), "low"),
        ({"N2": "c"}, (2, "moderate"), (0, "low"), "moderate"),
        ({"N2": "c", "N8": "c"}, (4, "moderate"), (0, "low"), "moderate"),
        ({"N1": "b", "N2": "c", "N8": "c"}, (5, "high"), (0, "low"), "high"),
        (
            {"N1": "b", "N2": "c", "N3": "b", "N4": "b", "N5": "b", "N6": "b", "N7": "b"},
            (8, "high"),
            (0, "low"),
            "high",
        ),
        (
            {"N1": "b", "N2": "c", "N3": "b", "N4": "b", "N5": "b", "N6": "b", "N7": "b", "N9": "b"},
            (9, "very_high"),
            (0, "low"),
            "very_high",
        ),
        ({"A1": "b", "A5": "b"}, (0, "low"), (3, "moderate"), "moderate"),
        ({"N1": "b", "A2": "c", "A4": "c", "A5": "b", "A3": "b"}, (1, "low"), (7, "high"), "high"),
        ({"A1": "b", "A2": "c", "A4": "c", "A5": "b", "A3": "b"}, (0, "low"), (8, "very_high"), "very_high"),
        ({"N2": "c", "A1": "b", "A2": "c", "A4": "b", "A3": "b"}, (2, "moderate"), (5, "high"), "high"),
    ],
)
def test_risk_indices_map_to_levels_and_the_higher_one_is_scored(
    choices: dict[str, str],
    neglect: tuple[int, str],
    abuse: tuple[int, str],
    scored: str,
) -> None:
    result = rules.score(RISK, risk_answers(**choices))
    assert (result["indices"]["neglect"]["score"], result["indices"]["neglect"]["level"]) == neglect
    assert (result["indices"]["abuse"]["score"], result["indices"]["abuse"]["level"]) == abuse
    assert result["scored_level"] == scored == result["final_level"]


@pytest.mark.parametrize(
    ("choices", "threats_remain", "recommendation"),
    [
        ({}, False, "close"),
        ({"N2": "c"}, False, "close"),
        ({"N2": "c"}, True, "open_for_services"),
        ({"N1": "b", "N2": "c", "N8": "c"}, False, "open_for_services"),
    ],
)
def test_low_or_moderate_risk_recommends_closing_unless_threats_remain(
    choices: dict[str, str],
    threats_remain: bool,
    recommendation: str,
) -> None:
    result = rules.score(RISK, risk_answers(threats_remain, **choices))
    assert result["decisions"]["recommendation"]["final"] == recommendation


def test_recommendation_follows_the_final_level_after_an_override() -> None:
    result = rules.score(RISK, risk_answers(), final_level="very_high")
    assert result["scored_level"] == "low" and result["final_level"] == "very_high"
    assert result["decisions"]["recommendation"]["final"] == "open_for_services"


# --- overrides ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scored", ["low", "moderate", "high", "very_high"])
def test_a_policy_override_forces_very_high_whatever_was_scored(scored: str) -> None:
    assert rules.policy_override_level(RISK, scored, ["P2"]) == "very_high"


def test_a_policy_override_must_name_a_policy_reason_of_the_instrument() -> None:
    with pytest.raises(rules.OverrideRefused) as refused:
        rules.policy_override_level(RISK, "low", ["P99"])
    assert refused.value.field == "policy_reasons"
    with pytest.raises(rules.OverrideRefused):
        rules.policy_override_level(RISK, "low", [])


@pytest.mark.parametrize(("scored", "raised"), [("low", "moderate"), ("moderate", "high"), ("high", "very_high")])
def test_discretionary_override_raises_risk_one_level_only(scored: str, raised: str) -> None:
    assert rules.discretionary_override_level(RISK, scored, None) == raised
    assert rules.discretionary_override_level(RISK, scored, raised) == raised


@pytest.mark.parametrize(
    ("scored", "asked"), [("low", "high"), ("low", "very_high"), ("moderate", "low"), ("high", "high")]
)
def test_discretionary_override_refuses_two_levels_or_lowering(scored: str, asked: str) -> None:
    with pytest.raises(rules.OverrideRefused) as refused:
        rules.discretionary_override_level(RISK, scored, asked)
    assert refused.value.field == "to_level"


def test_very_high_risk_cannot_be_raised_further() -> None:
    with pytest.raises(rules.OverrideRefused, match="already the highest"):
        rules.discretionary_override_level(RISK, "very_high", None)


def test_instruments_without_a_scored_level_have_no_overrides() -> None:
    with pytest.raises(rules.OverrideRefused):
        rules.discretionary_override_level(instrument("safety_assessment"), None, None)
    with pytest.raises(rules.OverrideRefused):
        rules.policy_override_level(instrument("safety_assessment"), None, ["P1"])


# --- safety assessment ------------------------------------------------------------------------------------

SAFETY = instrument("safety_assessment")


def safety_answers(threats: tuple[str, ...] = (), interventions: tuple[str, ...] = ()) -> dict[str, Any]:
    answers: dict[str, Any] = {i.code: False for i in SAFETY.items if i.type == "yes_no"}
    answers.update({code: True for code in threats})
    if interventions:
        answers["interventions"] = list(interventions)
    return answers


@pytest.mark.parametrize(
    ("threats", "interventions", "decision"),
    [
        ((), (), "safe"),
        ((), ("I1",), "safe"),
        (("T4",), ("I2",), "conditionally_safe"),
        (("T4", "T9"), ("I2", "I3"), "conditionally_safe"),
        (("T4",), ("I2", "I5"), "unsafe"),
        (("T1",), ("I6",), "unsafe"),
        (("T4",), (), "unsafe"),
    ],
)
def test_safety_decision_from_threats_and_interventions(
    threats: tuple[str, ...],
    interventions: tuple[str, ...],
    decision: str,
) -> None:
    result = rules.score(SAFETY, safety_answers(threats, interventions))
    assert result["decisions"]["safety_decision"]["final"] == decision


@pytest.mark.parametrize("threat", [i.code for i in SAFETY.items if i.section == "threats"])
def test_any_threat_present_means_not_safe(threat: str) -> None:
    for interventions in ((), ("I1",), ("I5",)):
        result = rules.score(SAFETY, safety_answers((threat,), interventions))
        assert result["decisions"]["safety_decision"]["final"] != "safe"


def test_conditionally_safe_raises_the_safety_plan_signal() -> None:
    assert rules.score(SAFETY, safety_answers(("T4",), ("I2",)))["signals"] == ["safety_plan_required"]
    assert rules.score(SAFETY, safety_answers())["signals"] == []


def test_unsafe_without_a_protective_placement_fails_the_completion_check() -> None:
    answers = safety_answers(("T4",))
    errors = rules.check_errors(SAFETY, answers, rules.score(SAFETY, answers))
    assert [e["field"] for e in errors] == ["answers.interventions"]
    placed = safety_answers(("T4",), ("I5",))
    assert rules.check_errors(SAFETY, placed, rules.score(SAFETY, placed)) == []


def test_the_least_safe_child_decides_the_overall_safety_decision() -> None:
    household = {
        k: v
        for k, v in safety_answers(interventions=("I2",)).items()
        if not SAFETY.item(k) or not SAFETY.item(k).per_child
    }  # type: ignore[union-attr]
    children = [{"name": "Sofia", "answers": safety_answers(("T4",))}, {"name": "Mateo", "answers": safety_answers()}]
    children = [
        {"name": c["name"], "answers": {k: v for k, v in c["answers"].items() if k != "interventions"}}
        for c in children
    ]
    result = rules.score(SAFETY, household, children)
    decision = result["decisions"]["safety_decision"]
    assert [(c["name"], c["outcome"]) for c in decision["children"]] == [
        ("Sofia", "conditionally_safe"),
        ("Mateo", "safe"),
    ]
    assert decision["final"] == "conditionally_safe"


# --- hotline screening and response priority --------------------------------------------------------------

SCREENING = instrument("hotline_screening")


@pytest.mark.parametrize(
    ("answers", "screening", "priority"),
    [
        ({}, "screen_out", "none"),
        ({"screening_criteria": ["neglect"]}, "screen_in", "72_hours"),
        ({"screening_criteria": ["physical_abuse"], "priority_criteria": ["serious_injury"]}, "screen_in", "24_hours"),
        ({"priority_criteria": ["child_under_3_alone"]}, "screen_in", "24_hours"),
    ],
)
def test_screening_criteria_decide_the_threshold_and_the_response_priority(
    answers: dict[str, Any],
    screening: str,
    priority: str,
) -> None:
    result = rules.score(SCREENING, answers)
    assert result["decisions"]["screening"]["final"] == screening
    assert result["decisions"]["response_priority"]["final"] == priority


def test_a_downgrade_must_be_less_urgent() -> None:
    assert rules.downgrade_outcome(SCREENING, "24_hours", "72_hours") == "72_hours"
    for asked in ("24_hours", "urgent", None):
        with pytest.raises(rules.OverrideRefused):
            rules.downgrade_outcome(SCREENING, "24_hours", asked)
    with pytest.raises(rules.OverrideRefused):
        rules.downgrade_outcome(SCREENING, "72_hours", "24_hours")


def test_an_approved_downgrade_keeps_the_initial_priority_and_shows_the_current_one() -> None:
    answers = {"screening_criteria": ["neglect"], "priority_criteria": ["serious_injury"]}
    result = rules.score(SCREENING, answers, adjusted={"response_priority": "72_hours"})
    assert result["decisions"]["response_priority"] == {"outcome": "24_hours", "final": "72_hours", "children": []}


def test_the_response_due_time_follows_the_priority() -> None:
    received = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    urgent = {"priority_criteria": ["serious_injury"]}
    due = rules.due_dates(
        SCREENING, {"report_received": received}, answers=urgent, results=rules.score(SCREENING, urgent)
    )
    assert due["initiate_by"]["due"] == "2026-11-28T15:00:00+00:00"
    routine = {"screening_criteria": ["neglect"]}
    due = rules.due_dates(
        SCREENING, {"report_received": received}, answers=routine, results=rules.score(SCREENING, routine)
    )
    assert due["initiate_by"]["due"] == "2026-11-30T15:00:00+00:00"


# --- risk reassessment and reunification ------------------------------------------------------------------


def test_risk_reassessment_counts_behaviour_change_not_attendance() -> None:
    reassessment = instrument("risk_reassessment")
    changed = {"R1": "b", "R2": "a", "R3": "a", "R4": "n", "R5": "a", "R6": "a", "threats_remain": False}
    attended = {**changed, "R3": "c"}
    assert rules.score(reassessment, changed)["indices"]["reassessment"] == {"score": 1, "level": "low"}
    assert rules.score(reassessment, attended)["indices"]["reassessment"] == {"score": 3, "level": "moderate"}


@pytest.mark.parametrize(
    ("answers", "decision"),
    [
        (
            {"U1": "low", "U2": "a", "U3": "a", "V1": "a", "V2": "a", "S1": False, "S2": False, "S3": True},
            "return_home",
        ),
        (
            {"U1": "moderate", "U2": "a", "U3": "b", "V1": "b", "V2": "a", "S1": True, "S2": True, "S3": True},
            "return_home",
        ),
        (
            {"U1": "moderate", "U2": "a", "U3": "b", "V1": "b", "V2": "a", "S1": True, "S2": False, "S3": True},
            "continue_reunification",
        ),
        (
            {"U1": "high", "U2": "a", "U3": "c", "V1": "c", "V2": "c", "S1": True, "S2": False, "S3": True},
            "continue_reunification",
        ),
        (
            {"U1": "high", "U2": "a", "U3": "c", "V1": "c", "V2": "c", "S1": True, "S2": False, "S3": False},
            "terminate_reunification",
        ),
    ],
)
def test_reunification_decision(answers: dict[str, Any], decision: str) -> None:
    result = rules.score(instrument("reunification_reassessment"), answers)
    assert result["decisions"]["reunification_decision"]["final"] == decision


# --- strengths and needs in both rating styles -------------------------------------------------------------


def test_a_to_d_ratings_give_priority_needs_most_urgent_first_and_strengths() -> None:
    fsna = instrument("strengths_and_needs")
    answers = {i.code: "B" for i in fsna.items} | {"D1": "C", "D2": "D", "D3": "A"}
    result = rules.score(fsna, answers)
    assert [(n["item"], n["rating"]) for n in result["priority_needs"]] == [("D2", "D"), ("D1", "C")]
    assert [s["item"] for s in result["strengths"]] == ["D3"]


def test_zero_to_three_action_ratings_give_priority_needs_and_useful_strengths() -> None:
    fast = instrument("fast")
    answers = {i.code: "1" for i in fast.items} | {"F1": "2", "F4": "3", "FS1": "0", "FS2": "2"}
    result = rules.score(fast, answers)
    assert [(n["item"], n["rating"]) for n in result["priority_needs"]] == [("F4", "3"), ("F1", "2")]
    assert [s["item"] for s in result["strengths"]] == ["FS1", "FS3"]


def test_a_rating_outside_the_instruments_style_is_an_answer_error() -> None:
    errors = rules.answer_errors(instrument("fast"), {"F1": "D"}, [], complete=False)
    assert errors == [{"field": "answers.F1", "message": "choose one of ['0', '1', '2', '3']"}]


# --- answers ----------------------------------------------------------------------------------------------


def test_answers_that_do_not_fit_their_items_are_named() -> None:
    errors = rules.answer_errors(RISK, {"N1": "z", "threats_remain": "yes", "Q1": "a"}, [], complete=False)
    assert {e["field"] for e in errors} == {"answers.N1", "answers.threats_remain", "answers.Q1"}


def test_completing_needs_every_required_answer_and_per_child_items_for_each_child() -> None:
    children = [{"name": "Sofia", "answers": {"V1": True}}, {"name": "Mateo", "answers": {}}]
    errors = rules.answer_errors(SAFETY, {"T1": False}, children, complete=True)
    fields = {e["field"] for e in errors}
    assert "children.1.answers.V1" in fields and "children.0.answers.V1" not in fields
    assert "answers.T1" not in fields and "children.0.answers.T1" not in fields  # answered for all children
    assert rules.answer_errors(
        SAFETY, {}, [{"name": "Sofia", "answers": {"interventions": ["I1"]}}], complete=False
    ) == [{"field": "children.0.answers.interventions", "message": "this item is not answered per child"}]


# --- due dates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "holidays", "due"),
    [
        (date(2026, 11, 24), 2, (), date(2026, 11, 26)),  # Tuesday -> Thursday
        (date(2026, 11, 27), 2, (), date(2026, 12, 1)),  # Friday -> Tuesday: the weekend does not count
        (date(2026, 11, 28), 2, (), date(2026, 12, 1)),  # Saturday -> Tuesday
        (date(2026, 11, 25), 2, (date(2026, 11, 26),), date(2026, 11, 30)),  # Thanksgiving is skipped too
        (date(2026, 12, 24), 2, (date(2026, 12, 25),), date(2026, 12, 29)),
        (date(2026, 11, 24), 0, (), date(2026, 11, 24)),
    ],
)
def test_working_days_skip_weekends_and_holidays(start: date, days: int, holidays: tuple[date, ...], due: date) -> None:
    assert rules.add_working_days(start, days, holidays) == due


def test_the_safety_assessment_is_due_two_working_days_after_first_contact() -> None:
    first_contact = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)  # a Friday
    due = rules.due_dates(SAFETY, {"first_contact": first_contact}, [date(2026, 11, 30)])
    assert due["complete_by"]["due"] == "2026-12-02"
    assert rules.due_dates(SAFETY, {})["complete_by"]["due"] is None


# --- SDM practice rules: the response priority, protective interventions, closing ---------------------------

RECEIVED = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def _priority_errors(answers: dict[str, Any], anchors: dict[str, datetime], **adjusted: str) -> list[dict[str, str]]:
    results = rules.score(SCREENING, answers, adjusted=adjusted or None)
    due = rules.due_dates(SCREENING, anchors, answers=answers, results=results)
    return rules.response_priority_errors(SCREENING, results, due)


def test_a_screened_in_report_has_a_response_priority_and_its_deadline() -> None:
    neglect = {"screening_criteria": ["neglect"]}
    assert _priority_errors(neglect, {"report_received": RECEIVED}) == []
    assert _priority_errors({}, {}) == []  # screened out: no response, no deadline
    assert _priority_errors(neglect, {"report_received": RECEIVED}, response_priority="none") == [
        {"field": "decisions.response_priority", "message": "a screened-in report needs a response priority, not none"}
    ]
    assert _priority_errors(neglect, {}) == [
        {
            "field": "anchors.report_received",
            "message": "a screened-in report's initiation deadline counts from report_received: give it",
        }
    ]


def test_a_priority_the_instrument_gives_no_deadline_is_refused() -> None:
    no_deadline = SCREENING.model_copy(update={"due": SCREENING.due[:1]})  # only the 24-hour rule
    routine = {"screening_criteria": ["neglect"]}
    results = rules.score(no_deadline, routine)
    due = rules.due_dates(no_deadline, {"report_received": RECEIVED}, answers=routine, results=results)
    assert rules.response_priority_errors(no_deadline, results, due) == [
        {
            "field": "decisions.response_priority",
            "message": "the instrument gives the priority 72_hours no initiate_by deadline",
        }
    ]


def test_a_hotline_instrument_must_say_which_decision_is_the_response_priority() -> None:
    data = SCREENING.model_dump(by_alias=True, exclude_none=True)
    with pytest.raises(ValueError, match="needs response_priority"):
        Instrument.model_validate({k: v for k, v in data.items() if k != "response_priority"})
    wrong = {**data["response_priority"], "no_response": ["never"], "deadline": "start_by"}
    with pytest.raises(ValueError, match=r"never is not an outcome.*no due rule has the key start_by"):
        Instrument.model_validate({**data, "response_priority": wrong})


@pytest.mark.parametrize(
    ("threats", "interventions", "refused"),
    [
        ((), ("I6",), True),  # custody with no threat: the decision would be "safe"
        ((), ("I1", "I5"), True),
        ((), ("I1",), False),  # an in-home intervention is not a protective one
        (("T1",), ("I6",), False),
        ((), (), False),
    ],
)
def test_a_protective_intervention_needs_the_threat_it_answers(
    threats: tuple[str, ...], interventions: tuple[str, ...], refused: bool
) -> None:
    errors = rules.protective_intervention_errors(SAFETY, safety_answers(threats, interventions))
    assert [e["field"] for e in errors] == (["answers.interventions"] if refused else [])


def test_a_threat_marked_for_one_child_answers_the_households_custody() -> None:
    household = {"interventions": ["I6"]}
    children = [{"name": "Sofia", "answers": {"T3": True}}, {"name": "Mateo", "answers": {"T3": False}}]
    assert rules.protective_intervention_errors(SAFETY, household, children) == []
    assert rules.threats_present(SAFETY, household, children) == ["T3"]


def test_an_intervention_that_names_its_threats_needs_one_of_those() -> None:
    item = SAFETY.item("interventions")
    assert item is not None
    custody = next(o for o in item.options if o.code == "I6").model_copy(update={"controls": ("T7",)})
    options = tuple(custody if o.code == "I6" else o for o in item.options)
    named = SAFETY.model_copy(
        update={"items": tuple(i.model_copy(update={"options": options}) if i is item else i for i in SAFETY.items)}
    )
    assert rules.protective_intervention_errors(named, safety_answers(("T1",), ("I6",)))[0]["message"].startswith(
        "I6: a protective intervention needs the threat it answers"
    )
    assert rules.protective_intervention_errors(named, safety_answers(("T7",), ("I6",))) == []


def test_a_close_recommendation_schedules_no_reassessment() -> None:
    reassessment = instrument("risk_reassessment")
    low = {"R1": "a", "R2": "a", "R3": "a", "R4": "n", "R5": "a", "R6": "a", "threats_remain": False}
    anchors = {"completed": RECEIVED}
    closing = rules.score(reassessment, low)
    assert closing["decisions"]["recommendation"]["final"] == "close"
    assert rules.schedules_reassessment(reassessment, {"recommendation": "close"}) is False
    assert "reassess_by" not in rules.due_dates(reassessment, anchors, answers=low, results=closing)
    remaining = {**low, "threats_remain": True}
    continuing = rules.score(reassessment, remaining)
    assert continuing["decisions"]["recommendation"]["final"] == "continue_services"
    due = rules.due_dates(reassessment, anchors, answers=remaining, results=continuing)
    assert due["reassess_by"]["due"] == "2027-02-25"
    # a draft (not scored yet) still shows the reassessment it will schedule unless it closes
    assert "reassess_by" in rules.due_dates(reassessment, {})


def test_a_closing_outcome_must_be_one_of_the_decisions_outcomes() -> None:
    data = instrument("risk_reassessment").model_dump(by_alias=True, exclude_none=True)
    data["decisions"][0]["closing"] = ["closed"]
    with pytest.raises(ValueError, match=r"outcomes \['closed'\] are not among"):
        Instrument.model_validate(data)
