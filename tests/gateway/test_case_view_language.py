"""The case view in the family's language: a statement's verified, current translation or the original with
`languageFallback`; the fixed headings from the catalog (English with `fallback` for Marshallese, which has
none sourced); the glossary of the terms the view uses, in the language; a malformed language refused."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from sop_gateway.graphql.labels import CODE_WORDS, LABELS, in_language, labels_for, plan_in_language, terms_used
from sop_shared.language_tags import BadLanguageTag, standard_language_tag

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

SPANISH = (
    "La abuela Rosa y la Sra. Rivera están preocupadas de que Maria beba hasta quedarse dormida cuando "
    "está sola con los niños por la noche."
)

LANGUAGE_VIEW = """query($id: ID!, $language: String!) { caseView(caseId: $id, audience: FAMILY, language: $language) {
  language
  labels { language fallback worries workingWell needsToHappen safetyPlan }
  worries { danger { recordId text language originalLanguage languageFallback } }
  needsToHappen { safetyGoals { text language languageFallback } }
  glossary { language entries { key term englishTerm meaning status } }
} }"""


# --- plain functions ---


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ("en", "en"),
        ("ES", "es"),
        ("mh", "mh"),
        ("es-us", "es-US"),
        ("es_US", "es-US"),
        ("es-419", "es-419"),
        (" fil ", "fil"),
        ("en-Latn-US", "en-US"),  # the script English is always written in adds nothing
        ("iw", "he"),  # a deprecated code, in its current spelling
    ],
)
def test_a_language_is_a_registered_bcp47_tag_in_its_standard_form(given: str, parsed: str) -> None:
    assert standard_language_tag(given) == parsed


@pytest.mark.parametrize("given", ["", "e", "english", "zz", "es-", "es-USA-x", "12", "es-U5", "español!", "e" * 36])
def test_anything_else_is_refused(given: str) -> None:
    with pytest.raises(BadLanguageTag):
        standard_language_tag(given)


def translation(**overrides: Any) -> dict[str, Any]:
    return {"language": "es", "text": "Hola", "verified": True, "current": True, "translated_by": "Lucía", **overrides}


def test_the_original_is_shown_in_its_own_language_without_a_fallback() -> None:
    shown = in_language("Hello", "en", [translation()], "en-US")
    assert (shown.text, shown.language, shown.fallback) == ("Hello", "en", False)


def test_a_verified_current_translation_is_shown_in_the_asked_language() -> None:
    shown = in_language("Hello", "en", [translation(language="es-MX")], "es")
    assert (shown.text, shown.language, shown.original_language, shown.fallback) == ("Hola", "es-MX", "en", False)


def test_the_newest_verified_translation_wins_over_an_older_one() -> None:
    older, corrected = translation(text="Hola"), translation(text="Hola, Maria")
    assert (
        in_language("Hello", "en", [older, corrected, translation(text="borrador", verified=False)], "es").text
        == "Hola, Maria"
    )


@pytest.mark.parametrize("other", [{"verified": False}, {"current": False}, {"language": "mh"}])
def test_an_unverified_stale_or_other_language_translation_falls_back_to_the_original(other: dict[str, Any]) -> None:
    shown = in_language("Hello", "en", [translation(**other)], "es")
    assert (shown.text, shown.language, shown.fallback) == ("Hello", "en", True)


def test_headings_come_from_the_catalog_and_marshallese_falls_back_to_english() -> None:
    spanish = labels_for("es-US")
    assert (spanish.language, spanish.fallback, spanish.words["worries"]) == ("es", False, "¿Qué nos preocupa?")
    marshallese = labels_for("mh")
    assert (marshallese.language, marshallese.fallback) == ("en", True)
    assert marshallese.words == LABELS["en"]
    assert set(LABELS["es"]) == set(LABELS["en"])  # every heading has its Spanish


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("es-US", "Un plan más nuevo tomó el lugar de este."),
        ("en", "A newer plan took the place of this one."),
        ("mh", "A newer plan took the place of this one."),  # no Marshallese words: English, never the code
    ],
)
def test_a_plan_s_end_reason_is_a_code_said_in_the_reader_s_words(language: str, words: str) -> None:
    ended = {"language": "en", "title": "Plan", "end_reason": "replaced_by_plan", "rules": []}
    assert plan_in_language(ended, language)["end_reason_words"] == words
    assert plan_in_language({**ended, "end_reason": None}, language)["end_reason_words"] is None
    assert all(set(CODE_WORDS[lang]) == set(CODE_WORDS["en"]) for lang in CODE_WORDS)


def test_the_glossary_keeps_the_terms_of_sections_with_content_and_terms_named_in_the_text() -> None:
    entries = [
        {"key": "danger_statement", "term": "declaración de peligro", "english_term": "danger statement"},
        {"key": "harm_statement", "term": "declaración de daño", "english_term": "harm statement"},
        {"key": "dcfs", "term": "DCFS", "english_term": "DCFS"},
        {"key": "gray_areas", "term": "zonas grises", "english_term": "gray areas"},
    ]
    used = terms_used(["danger"], ["Ms. Rivera from DCFS visits on Mondays.", "no grayareas here"], entries)
    assert [e["key"] for e in used] == ["danger_statement", "dcfs"]


# --- through GraphQL ---


async def language_view(system: EmbeddedSystem, case_id: Any, language: str) -> dict[str, Any]:
    response = await system.graphql(LANGUAGE_VIEW, {"id": str(case_id), "language": language})
    assert response.status_code == 200, response.text
    return response.json()


async def translate_danger_statement(system: EmbeddedSystem, case_id: uuid.UUID, **body: Any) -> None:
    view = (await language_view(system, case_id, "en"))["data"]["caseView"]
    [danger] = view["worries"]["danger"]
    response = await system.client.post(
        f"/api/assessment/v1/cases/{case_id}/statements/{danger['recordId']}/translations",
        headers=system.bearer("fsw.rivera"),
        json={"translated_by": "Lucía Gómez", **body},
    )
    assert response.status_code == 201, response.text


async def test_spanish_shows_the_verified_translation_spanish_headings_and_the_spanish_glossary(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    await translate_danger_statement(
        system,
        demo_case,
        language="es",
        text=SPANISH,
        verified=True,
        verified_by="Ana Ruiz",
        verifier_qualification="bilingual_staff",
    )
    body = await language_view(system, demo_case, "es")
    assert "errors" not in body, body
    view = body["data"]["caseView"]
    assert view["language"] == "es"
    assert view["labels"] == {
        "language": "es",
        "fallback": False,
        "worries": "¿Qué nos preocupa?",
        "workingWell": "¿Qué está funcionando bien?",
        "needsToHappen": "¿Qué tiene que pasar?",
        "safetyPlan": "Plan de seguridad",
    }
    [danger] = view["worries"]["danger"]
    assert (danger["text"], danger["language"], danger["originalLanguage"], danger["languageFallback"]) == (
        SPANISH,
        "es",
        "en",
        False,
    )
    # the goal has no translation yet: its English, flagged
    [goal] = view["needsToHappen"]["safetyGoals"]
    assert (goal["language"], goal["languageFallback"]) == ("en", True)
    glossary = view["glossary"]
    assert glossary["language"] == "es"
    by_key = {e["key"]: e for e in glossary["entries"]}
    assert by_key["danger_statement"]["term"] == "declaración de peligro"
    assert by_key["danger_statement"]["englishTerm"] == "danger statement"
    assert by_key["safety_plan"]["meaning"].startswith("Las reglas")
    assert "harm_statement" not in by_key  # the view has no harm statement
    assert body["extensions"]["upstreamCalls"] == {"network": 1, "assessment": 1, "plans": 1}


async def test_english_shows_the_original_even_when_a_translation_exists(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    await translate_danger_statement(
        system,
        demo_case,
        language="es",
        text=SPANISH,
        verified=True,
        verified_by="Ana Ruiz",
        verifier_qualification="bilingual_staff",
    )
    view = (await language_view(system, demo_case, "en"))["data"]["caseView"]
    [danger] = view["worries"]["danger"]
    assert danger["text"].startswith("Grandma Rosa and Ms. Rivera") and danger["languageFallback"] is False
    assert view["labels"]["worries"] == "What are we worried about?" and view["labels"]["fallback"] is False
    assert {e["status"] for e in view["glossary"]["entries"]} == {"DRAFT"}


async def test_marshallese_falls_back_to_english_everywhere_and_says_so(
    system: EmbeddedSystem,
    demo_case: uuid.UUID,
) -> None:
    # an unverified Marshallese translation is never shown to the family
    await translate_danger_statement(system, demo_case, language="mh", text="(not verified)", verified=False)
    body = await language_view(system, demo_case, "mh")
    assert "errors" not in body, body
    view = body["data"]["caseView"]
    assert view["language"] == "mh"
    assert view["labels"]["language"] == "en" and view["labels"]["fallback"] is True
    assert view["labels"]["worries"] == "What are we worried about?"
    [danger] = view["worries"]["danger"]
    assert (danger["language"], danger["languageFallback"]) == ("en", True)
    assert "(not verified)" not in str(body)
    glossary = view["glossary"]
    assert glossary["language"] == "mh" and glossary["entries"]
    assert {(e["meaning"], e["status"]) for e in glossary["entries"]} == {(None, "MISSING")}


@pytest.mark.parametrize("language", ["english", "e", "zz", "../en"])
async def test_a_malformed_language_is_bad_input_naming_it_and_calls_no_service(
    sqlite_system: EmbeddedSystem,
    language: str,
) -> None:
    body = await language_view(sqlite_system, uuid.uuid4(), language)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "language"
    assert body["extensions"]["upstreamCalls"] == {}
