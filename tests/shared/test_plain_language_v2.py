"""The plain-language check, second version (issue 11): parts read from free text, jargon from the reviewed
data files, service compliance and negative phrasing in goals and rules, in English and Spanish."""

from __future__ import annotations

import pytest

from sop_shared.plain_language import (
    JARGON_CATEGORIES,
    KINDS,
    WORD_LISTS,
    LanguageCheck,
    check_text,
    fold,
)


def codes(check: LanguageCheck, code: str) -> list[str]:
    return [f.term or f.part or "" for f in check.findings if f.code == code]


def missing(text: str, kind: str, language: str = "en") -> list[str]:
    return codes(check_text(text, kind=kind, language=language), "missing_part")


# --- parts found in free text ------------------------------------------------------------------------------


def test_a_danger_statement_in_free_text_names_each_part_it_does_not_say() -> None:
    assert missing("DCFS is worried that Maria is an alcoholic with anger problems.", "danger_statement") == [
        "caregiver_behaviour",
        "impact_on_child",
    ]
    assert missing("Maria drinks until she passes out while she cares for Sofia.", "danger_statement") == [
        "who_is_worried",
        "impact_on_child",
    ]
    assert missing("There are concerns that the children could be hurt.", "danger_statement") == [
        "who_is_worried",
        "caregiver_behaviour",
    ]


def test_a_complete_danger_statement_in_free_text_has_no_missing_part_in_either_language() -> None:
    english = (
        "Grandma Rosa is worried that when Maria drinks until she passes out, Sofia (4) could be hurt "
        "because no adult is awake to watch her."
    )
    spanish = (
        "A la abuela Rosa le preocupa que cuando María toma hasta quedarse dormida, Sofía (4) podría "
        "lastimarse porque no hay un adulto despierto."
    )
    assert missing(english, "danger_statement") == []
    assert missing(spanish, "danger_statement", "es") == []


def test_being_hit_is_what_happens_to_the_child_not_the_caregivers_behaviour() -> None:
    assert missing("The worker is worried that Sofia could be hit.", "danger_statement") == ["caregiver_behaviour"]
    assert missing("La trabajadora teme que Sofía salga golpeada.", "danger_statement", "es") == ["caregiver_behaviour"]


def test_spanish_danger_statement_parts_with_and_without_a_worried_person() -> None:
    assert missing("Hay preocupación de que Lupe deja a la bebé sola.", "danger_statement", "es") == [
        "who_is_worried",
        "impact_on_child",
    ]
    assert missing("La bebé podría ahogarse en la tina.", "danger_statement", "es") == [
        "who_is_worried",
        "caregiver_behaviour",
    ]


def test_a_harm_statement_in_free_text_needs_who_reported_the_action_and_the_impact() -> None:
    complete = "On May 3, Sofia told her teacher that Maria hit her with a belt; the teacher saw red marks on her legs."
    assert missing(complete, "harm_statement") == []
    assert missing("Sofia had bruises on her face and arms.", "harm_statement") == ["who_reported", "action"]
    assert missing("Maria hit Sofia with a belt.", "harm_statement") == ["who_reported", "impact"]
    assert missing("La maestra vio que Sofía tenía moretones en los brazos.", "harm_statement", "es") == ["action"]
    assert missing("María le pegó a Sofía con un cinturón.", "harm_statement", "es") == ["who_reported", "impact"]


def test_a_safety_goal_in_free_text_needs_an_action_and_how_long() -> None:
    assert missing("Maria will call Rosa every night before she drinks, for six months.", "safety_goal") == []
    assert missing("Maria will call Rosa before she drinks.", "safety_goal") == ["duration"]
    assert missing("The children will be safe and happy.", "safety_goal") == ["caregiver_will_be_doing", "duration"]
    assert missing("María llamará a Rosa cada noche durante seis meses.", "safety_goal", "es") == []
    assert missing("Los niños estarán seguros.", "safety_goal", "es") == ["caregiver_will_be_doing", "duration"]


def test_the_word_baby_in_spanish_is_not_a_caregiver_drinking() -> None:
    # "bebé" folds to "bebe" (drinks): an article before it makes it the baby
    assert missing("La abuela teme que la bebé se caiga de la cama.", "danger_statement", "es") == [
        "caregiver_behaviour"
    ]


def test_structured_parts_win_over_the_text_and_rules_maps_and_commitments_have_no_parts() -> None:
    parts = {"who_is_worried": "Rosa", "caregiver_behaviour": "Maria drinks", "impact_on_child": "Sofia is hurt"}
    assert missing("Rosa is worried.", "danger_statement") != []
    assert codes(check_text("Rosa is worried.", kind="danger_statement", parts=parts), "missing_part") == []
    for kind in ("safety_plan_rule", "map_item", "network_commitment", "general"):
        assert missing("Rosa.", kind) == []


# --- jargon from the reviewed data files -------------------------------------------------------------------


def test_acronyms_labels_and_service_speak_are_flagged_with_a_category_and_plainer_words() -> None:
    text = "Mom is bipolar and an addict; the CASA asked about UAs, IOP, her case plan and services."
    check = check_text(text, kind="general")
    jargon = [f for f in check.findings if f.code == "jargon"]
    assert [(f.term, f.category) for f in jargon] == [
        ("bipolar", "label"),
        ("addict", "label"),
        ("CASA", "acronym"),
        ("UAs", "acronym"),
        ("IOP", "acronym"),
        ("case plan", "service_speak"),
        ("services", "service_speak"),
    ]
    assert all(f.suggestion and text[f.start or 0 : f.end] == f.term for f in jargon)


def test_spanish_labels_and_service_speak_with_or_without_accents() -> None:
    text = "Papa es alcoholico; la victima no cumplio con el plan de caso y su sobriedad."
    terms = codes(check_text(text, kind="general", language="es"), "jargon")
    assert terms == ["alcoholico", "victima", "no cumplio", "plan de caso", "sobriedad"]


def test_an_acronym_matches_only_in_capitals_so_spanish_casa_is_a_home() -> None:
    assert codes(check_text("Los niños están en la casa de la abuela.", kind="general", language="es"), "jargon") == []
    assert codes(check_text("La voluntaria de CASA visitó.", kind="general", language="es"), "jargon") == ["CASA"]
    assert codes(check_text("Rosa gave the baby a bath mat and an odd toy.", kind="general"), "jargon") == []


def test_plain_words_that_contain_or_resemble_jargon_are_not_flagged() -> None:
    plain = [
        ("The Division of Children and Family Services will call Maria on Monday.", "en"),
        ("Maria drinks beer until she falls asleep on the couch.", "en"),
        ("Rosa placed the pills in a locked box.", "en"),
        ("La División de Servicios para Niños y Familias llamará a María.", "es"),
        ("María toma cerveza hasta quedarse dormida en el sillón.", "es"),
    ]
    for text, lang in plain:
        assert codes(check_text(text, kind="general", language=lang), "jargon") == [], text


# --- service compliance ------------------------------------------------------------------------------------


def test_goals_and_rules_that_ask_for_services_or_compliance_are_flagged_in_english() -> None:
    goal = "Maria will attend AA, complete parenting classes, and submit to drug screens."
    assert codes(check_text(goal, kind="safety_goal"), "service_compliance") == [
        "attend AA",
        "complete parenting classes",
        "submit to drug screens",
    ]
    for rule in (
        "Luis will comply with the case plan.",
        "Brenda will follow all court orders.",
        "Keisha will provide clean UAs every week.",
        "Dad will go to counseling on Tuesdays.",
    ):
        assert codes(check_text(rule, kind="safety_plan_rule"), "service_compliance"), rule


def test_goals_and_rules_that_ask_for_services_or_compliance_are_flagged_in_spanish() -> None:
    for rule in (
        "María va a asistir a clases de crianza.",
        "Luis cumplirá con todos los requisitos de la corte.",
        "Ana se someterá a pruebas de drogas al azar.",
        "Raúl irá a terapia cada semana.",
    ):
        assert codes(check_text(rule, kind="safety_plan_rule", language="es"), "service_compliance"), rule


def test_safe_behaviour_near_service_words_is_not_service_compliance() -> None:
    plain = [
        ("Ashley will take Ava to her doctor appointments and give her medicine on time.", "en"),
        ("Rosa will follow up with Maria every evening.", "en"),
        ("Maria will attend Sofia's school meetings and read with her each night.", "en"),
        ("Verónica va a llevar a Luisito a terapia cada martes.", "es"),
        ("María va a llamar a Rosa cuando tenga ganas de tomar.", "es"),
    ]
    for text, lang in plain:
        assert codes(check_text(text, kind="safety_goal", language=lang), "service_compliance") == [], text


def test_service_compliance_is_only_a_goal_or_rule_finding() -> None:
    text = "Maria will attend AA meetings."
    for kind in ("danger_statement", "harm_statement", "map_item", "network_commitment", "general"):
        assert codes(check_text(text, kind=kind), "service_compliance") == []


# --- negative phrasing -------------------------------------------------------------------------------------


def test_negative_phrasing_in_rules_in_both_languages() -> None:
    assert codes(check_text("Derek must stop yelling at the boys.", kind="safety_plan_rule"), "negative_phrasing") == [
        "must stop"
    ]
    assert codes(check_text("No alcohol in the home.", kind="safety_plan_rule"), "negative_phrasing") == ["No"]
    assert codes(check_text("Luis no más va a tomar.", kind="safety_plan_rule", language="es"), "negative_phrasing")
    assert codes(
        check_text("Jorge nunca manejará después de tomar.", kind="safety_plan_rule", language="es"),
        "negative_phrasing",
    ) == ["nunca"]


def test_words_that_only_look_negative_are_not_negative_phrasing() -> None:
    plain = [
        ("Pastor Jim will stop by each Sunday to see the boys.", "en"),
        ("If Maria does not answer by 8, Rosa will go over.", "en"),
        ("Maria will be home no later than 6 p.m. every day.", "en"),
        ("Si María no contesta, Rosa irá a su casa.", "es"),
        ("María llevará a los niños a la escuela, no solo los lunes sino todos los días.", "es"),
    ]
    for text, lang in plain:
        assert codes(check_text(text, kind="safety_plan_rule", language=lang), "negative_phrasing") == [], text


# --- kinds and data ----------------------------------------------------------------------------------------


def test_the_kinds_other_parts_of_issue_11_will_check() -> None:
    assert {"safety_plan_rule", "map_item", "network_commitment"} <= KINDS
    assert check_text("Rosa brings dinner on Sundays.", kind="map_item").findings == []


def test_the_data_files_are_read_once_with_their_review_status_and_valid_entries() -> None:
    assert set(WORD_LISTS) == {"en", "es"}
    for lang, word_list in WORD_LISTS.items():
        assert word_list.review_status in {"draft", "reviewed"} and word_list.review_note, lang
        assert {w.category for w in word_list.words} == set(JARGON_CATEGORIES), lang
        assert {"who_is_worried", "impact", "duration", "caregiver_will_be_doing"} <= set(word_list.part_cues)


@pytest.mark.parametrize("text", ["Acción", "ni\u00f1o\u2019s", "e\u00a0x", "ÁÉÍÓÚÜÑ"])
def test_folding_keeps_every_offset(text: str) -> None:
    assert len(fold(text)) == len(text)
