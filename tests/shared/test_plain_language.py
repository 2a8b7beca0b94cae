"""The plain-language check: each rule, and that it warns without ever refusing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import textstat

from sop_shared.plain_language import (
    NEGATIVE_PHRASES,
    PLAIN_WORDS,
    REQUIRED_PARTS,
    LanguageCheck,
    LanguageFinding,
    check_text,
    reading_grade,
)


def found(check: LanguageCheck, code: str) -> list[LanguageFinding]:
    return [f for f in check.findings if f.code == code]


def test_jargon_is_flagged_at_its_exact_position_with_plainer_words() -> None:
    text = "The agency is worried about DV, Neglect and substance   abuse; Maria was non-compliant with CPS."
    jargon = found(check_text(text, kind="general"), "jargon")
    assert [(f.term, f.start, f.end) for f in jargon] == [
        ("DV", 28, 30),
        ("Neglect", 32, 39),
        ("substance   abuse", 44, 61),
        ("non-compliant", 73, 86),
        ("CPS", 92, 95),
    ]
    for finding in jargon:
        assert text[finding.start : finding.end] == finding.term
        assert finding.severity == "warning" and finding.suggestion
    assert jargon[0].suggestion.startswith("hurting or scaring a partner")


def test_jargon_matches_whole_words_only() -> None:
    text = "Maria is a devoted mother; the children's dvds and the CPSR form are not jargon here."
    assert found(check_text(text, kind="general"), "jargon") == []


def test_the_longer_phrase_wins_over_a_word_inside_it() -> None:
    text = "The alleged perpetrator is Luis."
    [finding] = found(check_text(text, kind="general"), "jargon")
    assert (finding.term, finding.start, finding.end) == ("alleged perpetrator", 4, 23)


def test_spanish_jargon_is_found_with_or_without_accents() -> None:
    text = "María no cumple el plan; hay negligencia, abuso de sustancias y violencia domestica."
    jargon = found(check_text(text, kind="general", language="es"), "jargon")
    assert [f.term for f in jargon] == ["no cumple", "negligencia", "abuso de sustancias", "violencia domestica"]
    assert all(text[f.start : f.end] == f.term for f in jargon)
    assert jargon[1].suggestion.startswith("diga qué le faltó")


def test_english_words_are_not_spanish_jargon_and_spanish_words_are_not_english_jargon() -> None:
    assert found(check_text("Hay negligencia.", kind="general", language="en"), "jargon") == []
    assert found(check_text("There was neglect.", kind="general", language="es"), "jargon") == []


def test_a_regional_tag_uses_its_languages_word_list() -> None:
    assert [f.term for f in found(check_text("Hay negligencia.", kind="general", language="es-US"), "jargon")] == [
        "negligencia"
    ]


def test_a_danger_statement_missing_its_parts_names_each_one() -> None:
    check = check_text(
        "Rosa is worried.",
        kind="danger_statement",
        parts={"who_is_worried": "Rosa", "caregiver_behaviour": "  ", "impact_on_child": None},
    )
    missing = found(check, "missing_part")
    assert [f.part for f in missing] == ["caregiver_behaviour", "impact_on_child"]
    assert all(f.severity == "warning" and f.start is None for f in missing)
    assert check.findings[:2] == missing  # what is missing comes first


def test_a_harm_statement_needs_all_five_parts() -> None:
    check = check_text("Something happened.", kind="harm_statement", parts={"caregiver": "Maria"})
    assert [f.part for f in found(check, "missing_part")] == ["who_reported", "action", "child", "impact"]
    assert [p for p, _ in REQUIRED_PARTS["harm_statement"]] == [
        "who_reported",
        "caregiver",
        "action",
        "child",
        "impact",
    ]


def test_a_complete_statement_has_no_missing_parts_and_a_bare_text_is_judged_on_its_words() -> None:
    parts = {"who_is_worried": "Rosa", "caregiver_behaviour": "Maria drinks", "impact_on_child": "Sofia is hurt"}
    assert found(check_text("Rosa is worried.", kind="danger_statement", parts=parts), "missing_part") == []
    # issue 11: without parts, the text itself is read for them (before, a bare text was never judged)
    bare = found(check_text("Rosa is worried.", kind="danger_statement"), "missing_part")
    assert [f.part for f in bare] == ["caregiver_behaviour", "impact_on_child"]


def test_negative_phrasing_is_flagged_in_safety_goals_only() -> None:
    goal = "Maria will not drink, and she won\u2019t leave the children; she will stop yelling and never hit."
    negative = found(check_text(goal, kind="safety_goal"), "negative_phrasing")
    assert [(f.term, f.start) for f in negative] == [
        ("will not", 6),
        ("won\u2019t", goal.index("won")),
        ("stop", goal.index("stop")),
        ("never", goal.index("never")),
    ]
    for kind in ("danger_statement", "harm_statement", "general"):
        assert found(check_text(goal, kind=kind), "negative_phrasing") == []


def test_a_positive_safety_goal_has_no_negative_phrasing() -> None:
    goal = "Maria will call Grandma Rosa every night at 8 and Rosa will stay until the children are asleep."
    assert found(check_text(goal, kind="safety_goal"), "negative_phrasing") == []


def test_spanish_negative_phrasing_in_a_safety_goal() -> None:
    goal = "María no va a tomar alcohol y va a dejar de gritar; nunca dejará solos a los niños."
    negative = found(check_text(goal, kind="safety_goal", language="es"), "negative_phrasing")
    assert [f.term for f in negative] == ["no va a", "dejar de", "nunca"]
    assert negative[0].suggestion.startswith("diga lo que")


def test_marshallese_reports_the_missing_glossary_instead_of_inventing_words() -> None:
    check = check_text("Kwōj aikuj jipañ ajri ro.", kind="safety_goal", language="mh")
    [missing] = found(check, "glossary_missing")
    assert missing.severity == "info" and "Marshallese" in missing.message
    assert "mh" not in PLAIN_WORDS and "mh" not in NEGATIVE_PHRASES
    assert not found(check, "jargon") and not found(check, "negative_phrasing")
    assert check.reading_grade is None


def test_english_has_a_reading_grade_and_hard_text_is_flagged_above_grade_8() -> None:
    easy = check_text("Maria will call Rosa. Rosa will come over.", kind="general")
    hard = check_text(
        "Notwithstanding multidisciplinary recommendations, the caregiver's protective "
        "capacities necessitate comprehensive therapeutic intervention.",
        kind="general",
    )
    assert easy.reading_grade is not None and easy.reading_grade <= 8
    assert not found(easy, "reading_grade_high")
    assert hard.reading_grade is not None and hard.reading_grade > 8
    [high] = found(hard, "reading_grade_high")
    assert high.severity == "warning"


def test_spanish_reports_no_grade_rather_than_a_converted_guess() -> None:
    check = check_text("María va a llamar a Rosa cada noche.", kind="general", language="es")
    assert check.reading_grade is None
    assert [f.severity for f in found(check, "reading_grade_unavailable")] == ["info"]


def test_checking_spanish_does_not_change_textstats_shared_language() -> None:
    sentence = "Maria will call her sister when she feels angry and the children are asleep."
    before = textstat.flesch_kincaid_grade(sentence)
    check_text("La abuela Rosa se preocupa porque María toma alcohol.", kind="general", language="es")
    assert textstat.flesch_kincaid_grade(sentence) == before
    textstat.set_lang("es")  # someone else changing the shared language must not change our grade either
    try:
        assert reading_grade(sentence) == round(max(before, 0.0), 1)
    finally:
        textstat.set_lang("en_US")


def test_checks_in_different_languages_at_once_give_the_same_answers_as_one_by_one() -> None:
    texts = [
        ("Maria has a history of DV and substance abuse with the children present.", "en"),
        ("María tiene historial de violencia doméstica y negligencia con los niños.", "es"),
    ] * 20
    alone = [check_text(t, kind="general", language=lang) for t, lang in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda item: check_text(item[0], kind="general", language=item[1]), texts))
    assert together == alone


def test_an_empty_text_is_a_warning_not_an_error() -> None:
    check = check_text("   ", kind="general")
    assert [f.code for f in check.findings] == ["empty_text"] and check.reading_grade is None


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        check_text("text", kind="danger")


def test_the_word_lists_have_plainer_words_for_every_term() -> None:
    for lang, words in PLAIN_WORDS.items():
        for word in words:
            assert word.forms and word.suggestion.strip(), (lang, word)
            assert all(form.strip() == form and form for form in word.forms), (lang, word)
