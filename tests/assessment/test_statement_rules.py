"""The statement rules as plain functions: the composed sentence, input checks, and the check's field names."""

from __future__ import annotations

from typing import Any

import pytest

from sop_assessment.models import StatementKind, TextSource
from sop_assessment.schemas import StatementIn
from sop_assessment.statements.rules import (
    compose_text,
    names,
    prepare_statement,
    revised_words,
    shown_statement_check,
    statement_check,
    statement_words,
)
from sop_shared.problems import InvalidInput


def danger(**parts: Any) -> str:
    return compose_text(StatementKind.danger, parts.pop("language", "en"), parts)


@pytest.mark.parametrize(
    ("who", "verb"),
    [
        ("The agency", "is"),
        ("Grandma Rosa", "is"),
        ("Ms. Jones", "is"),
        ("Grandma Rosa and the agency", "are"),
        ("Sofia's teachers", "are"),
        ("We", "are"),
        ("The school, the doctor and Grandma Rosa", "are"),
    ],
)
def test_who_is_worried_agrees_with_its_verb(who: str, verb: str) -> None:
    assert danger(who_is_worried=who, caregiver_behaviour="Maria drinks") == f"{who} {verb} worried that Maria drinks."


def test_spanish_uses_e_before_an_i_sound_and_y_otherwise() -> None:
    assert names([{"name": "Sofía"}, {"name": "Isabel"}], "es") == "Sofía e Isabel"
    assert names([{"name": "Sofía"}, {"name": "Hilda"}], "es") == "Sofía e Hilda"
    assert names([{"name": "Ana"}, {"name": "Sofía"}, {"name": "Mateo"}], "es") == "Ana, Sofía y Mateo"
    assert names([{"name": "Ana"}, {"name": "Sofia"}, {"name": "Mateo"}], "en") == "Ana, Sofia and Mateo"


def test_the_workers_words_are_kept_and_only_the_frame_is_added() -> None:
    text = danger(
        who_is_worried="grandma Rosa",
        caregiver_behaviour="Maria drinks.",
        children=[{"name": "Sofia"}],
        feared_impact_on_child="could be hurt.",
    )
    assert text == "Grandma Rosa is worried that Maria drinks. If nothing changes, Sofia could be hurt."


def test_a_harm_statement_without_who_reported_starts_with_the_caregiver() -> None:
    text = compose_text(
        StatementKind.harm,
        "en",
        {
            "caregivers": [{"name": "Maria"}, {"name": "Luis"}],
            "action_or_inaction": "left the children alone",
            "when_or_how_often": "three nights in October",
            "children": [],
            "impact_on_child": "were scared",
        },
    )
    assert text == "Maria and Luis left the children alone three nights in October. The children were scared."


def test_a_spanish_harm_statement_agrees_with_who_reported() -> None:
    text = compose_text(
        StatementKind.harm,
        "es-US",
        {
            "who_reported": "Las maestras de Sofía",
            "caregivers": [{"name": "María"}],
            "action_or_inaction": "dejó a los niños solos",
            "children": [{"name": "Sofía"}],
            "impact_on_child": "tuvo miedo",
        },
    )
    assert text == "Las maestras de Sofía informaron que María dejó a los niños solos. Sofía tuvo miedo."


def test_a_statement_the_worker_wrote_is_kept_as_written() -> None:
    prepared = prepare_statement(
        StatementIn(kind="danger", text="  Rosa está preocupada.  ", language="es", caregiver_behaviour="María toma")
    )
    assert prepared["composed_text"] == "Rosa está preocupada."
    assert prepared["text_source"] == TextSource.worker


def test_every_mistake_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as raised:
        prepare_statement(
            StatementIn(
                kind="danger",
                who_reported="the school",
                caregivers=[{"name": "Maria"}],
                agrees=["Rosa"],
                disputes=["ROSA"],
            )
        )
    assert [e["field"] for e in raised.value.errors] == ["who_reported", "caregivers", "disputes.0", "text"]


def test_the_check_names_missing_parts_by_the_apis_field_names() -> None:
    check = statement_check(
        kind=StatementKind.harm,
        language="en",
        text="Maria left them alone.",
        values={"caregivers": [{"name": "Maria"}], "action_or_inaction": "left them alone"},
    )
    assert [f.part for f in check.findings if f.code == "missing_part"] == [
        "who_reported",
        "children",
        "impact_on_child",
    ]
    danger_check = statement_check(
        kind=StatementKind.danger, language="en", text="Rosa is worried.", values={"who_is_worried": "Rosa"}
    )
    assert [f.part for f in danger_check.findings if f.code == "missing_part"] == [
        "caregiver_behaviour",
        "feared_impact_on_child",
    ]


def test_a_shown_check_is_kept_once_and_a_callers_check_is_its_own_to_change() -> None:
    values = {"caregivers": [{"name": "Maria"}], "action_or_inaction": "left them alone"}
    asked = {"kind": StatementKind.harm, "language": "en", "text": "Maria left them alone.", "values": values}
    shown = shown_statement_check(**asked)
    assert shown_statement_check(**asked) is shown  # a case view shows it on every read without building it again
    mine = statement_check(**asked)
    assert mine == shown and mine is not shown
    mine.findings[0].part = "changed"
    mine.findings.clear()
    assert statement_check(**asked) == shown_statement_check(**asked) == shown
    assert [f.part for f in shown.findings if f.code == "missing_part"] == [
        "who_reported",
        "children",
        "impact_on_child",
    ]


def test_a_child_named_in_the_list_and_in_the_words_is_named_once() -> None:
    """The text behind "Eli Eli was found…": the child in the children list and again in the impact."""
    harm = compose_text(
        StatementKind.harm,
        "en",
        {
            "who_reported": "The school",
            "caregivers": [{"name": "Dana"}],
            "action_or_inaction": "left Eli alone at home",
            "when_or_how_often": "on 3 November 2026",
            "children": [{"name": "Eli"}],
            "impact_on_child": "Eli was found by a neighbour, hungry and scared",
        },
    )
    assert harm == (
        "The school reported that Dana left Eli alone at home on 3 November 2026. "
        "Eli was found by a neighbour, hungry and scared."
    )
    two = danger(
        who_is_worried="The agency",
        caregiver_behaviour="Dana drinks",
        children=[{"name": "Eli"}, {"name": "Mia"}],
        feared_impact_on_child="Eli and Mia could be hurt",
    )
    assert two == "The agency is worried that Dana drinks. If nothing changes, Eli and Mia could be hurt."
    assert danger(children=[{"name": "Eli"}], feared_impact_on_child="Eli's arm could be broken again") == (
        "If nothing changes, Eli's arm could be broken again."
    )
    # a name that only starts the same way is another word
    assert danger(children=[{"name": "Eli"}], feared_impact_on_child="Elijah could hurt him") == (
        "If nothing changes, Eli Elijah could hurt him."
    )
    assert danger(children=[{"name": "Ana"}], feared_impact_on_child="could be hurt") == (
        "If nothing changes, Ana could be hurt."
    )


@pytest.mark.parametrize(
    ("who", "language", "expected"),
    [
        (
            "Gladys Moore, a neighbour",
            "en",
            "Gladys Moore, a neighbour, reported that Dana left Eli alone at home. Eli was scared.",
        ),
        (
            "Gladys Moore, Eli's teacher",
            "en",
            "Gladys Moore, Eli's teacher, reported that Dana left Eli alone at home. Eli was scared.",
        ),
        (
            "Gladys Moore, una vecina",
            "es",
            "Gladys Moore, una vecina, informó que Dana left Eli alone at home. Eli was scared.",
        ),
        (
            "La escuela, el médico y la abuela Rosa",
            "es",
            "La escuela, el médico y la abuela Rosa informaron que Dana left Eli alone at home. Eli was scared.",
        ),
    ],
)
def test_a_reporter_with_a_description_after_a_comma_is_one_person_and_the_comma_is_closed(
    who: str, language: str, expected: str
) -> None:
    """The text behind "Gladys Moore, a neighbour reported…": an appositive left open before the verb."""
    values = {
        "who_reported": who,
        "caregivers": [{"name": "Dana"}],
        "action_or_inaction": "left Eli alone at home",
        "children": [{"name": "Eli"}],
        "impact_on_child": "was scared",
    }
    assert compose_text(StatementKind.harm, language, values) == expected


def test_a_worried_person_with_a_description_is_one_person() -> None:
    assert danger(who_is_worried="Gladys Moore, a neighbour", caregiver_behaviour="Dana drinks") == (
        "Gladys Moore, a neighbour, is worried that Dana drinks."
    )


def test_a_correction_of_the_words_needs_a_reason_and_recomposes_the_text() -> None:
    current = prepare_statement(
        StatementIn(
            kind="danger", who_is_worried="Rosa", caregiver_behaviour="Maria drinks", children=[{"name": "Eli"}]
        )
    )
    new = revised_words(current, {"caregiver_behaviour": "Maria drinks at night"}, change_reason="Rosa's words")
    assert new is not None and new["composed_text"] == "Rosa is worried that Maria drinks at night."
    assert new["text_source"] == "composed" and new["children"] == current["children"]
    with pytest.raises(InvalidInput) as raised:
        revised_words(current, {"caregiver_behaviour": "Maria drinks at night"}, change_reason="  ")
    assert [e["field"] for e in raised.value.errors] == ["change_reason"]
    with pytest.raises(InvalidInput) as raised:
        revised_words(current, {"impact_on_child": "was hurt"}, change_reason=None)
    assert [e["field"] for e in raised.value.errors] == ["impact_on_child", "change_reason"]
    with pytest.raises(InvalidInput) as raised:
        revised_words(current, {"status": "resolved"}, change_reason="no words")
    assert [e["field"] for e in raised.value.errors] == ["change_reason"]
    assert revised_words(current, {"status": "resolved"}, change_reason=None) is None
    assert revised_words(current, {"caregiver_behaviour": "Maria drinks"}, change_reason="same") is None


def test_the_workers_own_text_stays_theirs_unless_new_text_is_sent() -> None:
    current = prepare_statement(StatementIn(kind="danger", text="Rosa worries.", caregiver_behaviour="Maria drinks"))
    kept = revised_words(current, {"caregiver_behaviour": "Maria drinks a lot"}, change_reason="more exact")
    assert kept is not None and (kept["composed_text"], kept["text_source"]) == ("Rosa worries.", "worker")
    assert statement_words(current)["composed_text"] == "Rosa worries."
