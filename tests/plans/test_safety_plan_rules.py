"""The plan rules as plain functions: the canonical form and hash a signature binds to, the cross-field
checks and the practice warnings. No HTTP, no database."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import datetime
from typing import Any

import pytest

from sop_plans.safety_plans.rules import (
    canonical_json,
    check_new_plan,
    content_hash,
    is_referral_only,
    plan_content,
    plan_warnings,
)
from sop_plans.schemas import PlanContent, SafetyPlanIn
from sop_shared.ids import new_id
from sop_shared.problems import InvalidInput


def _content(plan: dict[str, Any]) -> dict[str, Any]:
    body = SafetyPlanIn.model_validate(plan)
    return plan_content(body, rule_ids=[new_id() for _ in body.rules])


def test_the_hash_is_sha256_of_sorted_compact_utf8_json(lopez_ongoing_plan: dict[str, Any]) -> None:
    content = _content(lopez_ongoing_plan)
    expected = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    assert content_hash(content) == expected
    assert len(content_hash(content)) == 64
    # UTF-8 bytes, not \u escapes: the family's words as written
    assert "Sofía".encode() in canonical_json(content)
    assert b" " not in canonical_json({"a": [1, 2], "b": {"c": None}})


def test_the_hash_does_not_depend_on_key_order() -> None:
    assert content_hash({"rules": [{"text": "x", "frequency": "daily"}], "triggers": []}) == content_hash(
        {"triggers": [], "rules": [{"frequency": "daily", "text": "x"}]}
    )


def test_changing_a_word_of_a_rule_changes_the_hash(lopez_ongoing_plan: dict[str, Any]) -> None:
    content = _content(lopez_ongoing_plan)
    before = content_hash(content)
    content["rules"][0]["text"] = content["rules"][0]["text"].replace("for the night", "for the weekend")
    assert content_hash(content) != before
    content["rules"][0]["text"] = content["rules"][0]["text"].replace("for the weekend", "for the night")
    assert content_hash(content) == before


def test_changing_who_monitors_or_what_happens_if_broken_changes_the_hash(lopez_ongoing_plan: dict[str, Any]) -> None:
    content = _content(lopez_ongoing_plan)
    before = content_hash(content)
    content["rules"][1]["monitors"].pop()
    after_monitor = content_hash(content)
    content["if_rule_broken"]["what_happens"] = "Rosa calls the hotline."
    assert len({before, after_monitor, content_hash(content)}) == 3


def test_accents_typed_two_ways_hash_the_same(lopez_ongoing_plan: dict[str, Any]) -> None:
    decomposed = unicodedata.normalize("NFD", "Sofía")
    assert decomposed != "Sofía"
    typed_on_a_phone = dict(lopez_ongoing_plan, rules=[dict(r) for r in lopez_ongoing_plan["rules"]])
    typed_on_a_phone["rules"][0]["text"] = typed_on_a_phone["rules"][0]["text"].replace("Sofía", decomposed)
    ids, people = [new_id(), new_id()], [new_id(), new_id()]
    a = plan_content(SafetyPlanIn.model_validate(lopez_ongoing_plan), rule_ids=ids, participant_ids=people)
    b = plan_content(SafetyPlanIn.model_validate(typed_on_a_phone), rule_ids=ids, participant_ids=people)
    assert content_hash(a) == content_hash(b)


def test_the_stored_content_round_trips_through_the_typed_model(lopez_ongoing_plan: dict[str, Any]) -> None:
    """What the API returns as `content` is exactly what was hashed, so anyone can re-check the hash."""
    content = _content(lopez_ongoing_plan)
    assert PlanContent.model_validate(content).model_dump(mode="json") == content


def test_canonical_json_refuses_values_that_are_not_json() -> None:
    with pytest.raises(TypeError):
        canonical_json({"at": datetime(2026, 11, 2)})
    with pytest.raises(ValueError):
        canonical_json({"score": float("nan")})


@pytest.mark.parametrize(
    "text",
    [
        "Attend parenting classes",
        "Maria will attend parenting classes every Tuesday.",
        "Maria will complete a substance abuse assessment and follow the recommendations",
        "Luis must complete the anger management program",
        "Maria goes to AA",
        "Maria va a asistir a clases de crianza",
        "Asistir a terapia cada semana",
    ],
)
def test_a_rule_that_only_sends_a_parent_to_a_service_is_recognised(text: str) -> None:
    assert is_referral_only(text)


@pytest.mark.parametrize(
    "text",
    [
        "When Maria has been drinking, Rosa takes Sofía and Mateo to her house for the night.",
        "Maria never drives the children after drinking.",
        "When Maria feels she will drink, she will call Rosa to come over.",
        "Maria will take the children to Rosa's house on Friday nights.",
        "Rosa checks that there is no alcohol in the house when she visits.",
    ],
)
def test_a_protective_action_is_not_mistaken_for_a_referral(text: str) -> None:
    assert not is_referral_only(text)


def test_an_agreed_plan_raises_no_warnings(lopez_ongoing_plan: dict[str, Any]) -> None:
    assert plan_warnings(PlanContent.model_validate(_content(lopez_ongoing_plan))) == []


def test_warnings_name_the_rule_and_what_is_missing(lopez_ongoing_plan: dict[str, Any]) -> None:
    lopez_ongoing_plan["rules"][1]["monitors"] = []
    lopez_ongoing_plan["rules"].append(
        {"text": "Maria will complete parenting classes", "responsible": [], "monitors": [{"name": "Rosa Delgado"}]}
    )
    lopez_ongoing_plan["threat_codes"] = ["T4"]
    warnings = plan_warnings(PlanContent.model_validate(_content(lopez_ongoing_plan)))
    assert [(w.code, w.field) for w in warnings] == [
        ("rule_without_monitor", "rules.1.monitors"),
        ("rule_without_responsible", "rules.2.responsible"),
        ("rule_is_only_a_service_referral", "rules.2.text"),
    ]


def test_a_plan_cannot_expire_before_it_takes_effect(lopez_ongoing_plan: dict[str, Any]) -> None:
    lopez_ongoing_plan["expires_at"] = "2026-11-01T00:00:00Z"
    body = SafetyPlanIn.model_validate(lopez_ongoing_plan)
    with pytest.raises(InvalidInput) as raised:
        check_new_plan(body, effective_from=body.effective_from)
    assert [e["field"] for e in raised.value.errors] == ["expires_at"]


def test_a_rule_must_answer_a_threat_the_plan_says_it_answers(lopez_ongoing_plan: dict[str, Any]) -> None:
    lopez_ongoing_plan["rules"][1]["threat_code"] = "T9"
    lopez_ongoing_plan["threat_codes"] = ["T4", "T4"]
    body = SafetyPlanIn.model_validate(lopez_ongoing_plan)
    with pytest.raises(InvalidInput) as raised:
        check_new_plan(body, effective_from=body.effective_from)
    assert [e["field"] for e in raised.value.errors] == ["threat_codes", "rules.1.threat_code"]
