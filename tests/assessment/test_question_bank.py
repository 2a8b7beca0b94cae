"""The solution-focused question bank is data (question_bank/questions.json): every family-facing audience has
the miracle, exception, coping, relationship and scaling questions in English and Spanish, and a file that breaks
the rules is refused when loaded. Plain functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sop_assessment.supervision import questions as bank_module
from sop_assessment.supervision.questions import BANK_FILE, FAMILY_AUDIENCES, SOLUTION_FOCUSED, bank, questions


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", SOLUTION_FOCUSED)
def test_each_family_audience_has_each_solution_focused_question(kind: str, language: str) -> None:
    for audience in FAMILY_AUDIENCES:
        found = questions(question_type=kind, audience=audience, language=language)
        assert found and all(q["text"] for q in found), (kind, audience, language)


def test_the_miracle_question_is_asked_in_each_audiences_own_words() -> None:
    spanish = {q["audience"]: q["text"] for q in questions(question_type="miracle", language="es")}
    assert "milagro" in spanish["caregiver"] and "te duermes" in spanish["child"]  # tú for the child


def _write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "questions.json"
    path.write_text(json.dumps(data))
    return path


def test_a_bank_without_a_solution_focused_question_or_a_language_is_refused(tmp_path: Path) -> None:
    data = json.loads(BANK_FILE.read_text())
    no_miracle = {**data, "questions": [q for q in data["questions"] if q["key"] != "miracle_child"]}
    with pytest.raises(ValueError, match="no miracle question for the child"):
        bank_module.bank.__wrapped__(_write(tmp_path, no_miracle))
    english_only = {**data, "questions": [{**data["questions"][0], "text": {"en": "Where are things today?"}}]}
    with pytest.raises(ValueError, match="has no es words"):
        bank_module.bank.__wrapped__(_write(tmp_path, english_only))
    twice = {**data, "questions": [*data["questions"], data["questions"][0]]}
    with pytest.raises(ValueError, match="repeats"):
        bank_module.bank.__wrapped__(_write(tmp_path, twice))


def test_the_packaged_bank_says_it_awaits_review() -> None:
    assert bank().reviewed is False and all(q["reviewed"] is False for q in questions())
