"""A unit's translation queue through the gateway (`translationQueue`): the caseload's cases, each with what its
family reads that waits for a translation into the language or for its check, from the assessment and plans
services' own per-case queues; only cases the caller may see; refused input named; one audit record."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

QUEUE = """query($language: String!, $first: Int) {
  translationQueue(language: $language, first: $first) {
    language
    cases { case { id externalId } items { service recordKind recordId sourceField sourceLanguage text state } }
    pageInfo { hasNextPage endCursor }
  } }"""


async def queue(system: EmbeddedSystem, user: str, language: str = "es", first: int = 10) -> dict[str, Any]:
    response = await system.graphql(QUEUE, {"language": language, "first": first}, user=user)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_units_queue_lists_what_waits_per_case_from_both_services(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    body = await queue(system, "sup.okafor", "es-US")
    assert "errors" not in body, body["errors"]
    page = body["data"]["translationQueue"]
    assert page["language"] == "es-US"
    [case] = [c for c in page["cases"] if c["case"]["id"] == str(demo_case)]
    waiting = {(i["service"], i["recordKind"], i["sourceField"]) for i in case["items"]}
    # the map's items and the plan's words have no Spanish translation yet; the danger statement has a verified one
    assert ("assessment", "map_item", "text") in waiting
    assert ("plans", "plan_rule", "text") in waiting and ("plans", "safety_plan", "title") in waiting
    assert not any(kind == "statement" for _, kind, _ in waiting)
    assert all(i["state"] == "UNTRANSLATED" and i["sourceLanguage"] == "en" for i in case["items"])
    rows = [r for r in await system.audit_rows() if r.resource == "translation_queue"]
    assert [(r.actor_subject, r.fields) for r in rows] == [
        ("sup.okafor", ["language:es-US", f"{len(page['cases'])} cases"])
    ]


async def test_a_worker_off_the_case_sees_none_of_its_words(system: EmbeddedSystem, demo_case: uuid.UUID) -> None:
    body = await queue(system, "fsw.lindqvist")
    assert "errors" not in body, body["errors"]
    assert str(demo_case) not in {c["case"]["id"] for c in body["data"]["translationQueue"]["cases"]}


@pytest.mark.parametrize(("language", "first", "field"), [("english!", 10, "language"), ("es", 21, "first")])
async def test_bad_input_is_refused_naming_the_argument(
    system: EmbeddedSystem, language: str, first: int, field: str
) -> None:
    body = await queue(system, "sup.okafor", language, first)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == field
    assert not [r for r in await system.audit_rows() if r.resource == "translation_queue"]
