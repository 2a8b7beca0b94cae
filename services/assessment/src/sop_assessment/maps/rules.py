"""Rules for maps: what a save stores, when a save is a new version, and when a map may be marked complete.
No HTTP, no session."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sop_assessment.maps.schemas import MapContentIn
from sop_shared.ids import new_id
from sop_shared.plain_language import LanguageCheck, LanguageFinding, check_text
from sop_shared.problems import InvalidInput

ITEM_CATEGORIES = ("complicating_factors", "strengths", "existing_safety", "next_steps", "gray_areas")
DANGER_STATEMENT_WARNING_LIMIT = 3
# The map's columns a family reads (gray areas are the agency's open questions, not shown to them).
FAMILY_CATEGORIES = ("complicating_factors", "strengths", "existing_safety", "next_steps")


# A reading grade says nothing about a phrase: Flesch-Kincaid on "Rosa comes every evening" is 9.6. Items shorter
# than this are checked for jargon and labels only.
GRADED_ITEM_WORDS = 12


def item_check(item: Mapping[str, Any]) -> LanguageCheck:
    """The shared plain-language check of one map item's words (`map_item`: jargon, labels, and the reading
    grade of an item long enough to have one), in the item's language (English unless it says otherwise). The
    caller's own copy, to change (`with_checks` shows the one kept per process)."""
    check = shown_item_check(str(item.get("text") or ""), str(item.get("language") or "en"))
    return check.model_copy(update={"findings": [finding.model_copy() for finding in check.findings]})


@lru_cache(maxsize=4096)  # a pure function of its arguments; bounded like `check_text`'s own
def shown_item_check(text: str, language: str) -> LanguageCheck:
    """`item_check` of an item's text and language, kept per process and the same object for every caller with
    the same words: for a response that only serialises it (a case view shows every item's check on every
    read). Never change it."""
    check = check_text(text, kind="map_item", language=language)
    if len(text.split()) < GRADED_ITEM_WORDS:
        kept = [f for f in check.findings if f.code != "reading_grade_high"]
        return check.model_copy(update={"reading_grade": None, "findings": kept})
    return check


def with_checks(content: Mapping[str, Any]) -> dict[str, Any]:
    """`content` with each item's `plain_language` beside it (computed, never stored: the rule may improve)."""
    return {
        **content,
        **{
            category: [
                {
                    **item,
                    "plain_language": shown_item_check(str(item.get("text") or ""), str(item.get("language") or "en")),
                }
                for item in content.get(category) or []
            ]
            for category in ITEM_CATEGORIES
        },
    }


def map_findings(content: Mapping[str, Any]) -> list[LanguageFinding]:
    """Every finding on the items a family reads: what stands in the way of sharing the version."""
    return [
        finding
        for category in FAMILY_CATEGORIES
        for item in content.get(category) or []
        for finding in item_check(item).findings
    ]


def prepare_content(
    body: MapContentIn,
    *,
    title: str,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of a version as stored, or InvalidInput naming every item that cannot be saved.

    An item sent back with its id keeps it; an id must be one this map already had, so a typo cannot
    attach one item's agreement history to another. An item sent without an id keeps the id of the item
    in the same place of the previous version when its words are the same (so saving an unchanged map
    is not a change), else gets a new one. Nobody both agrees and disputes one item.
    """
    errors: list[dict[str, str]] = []
    known = item_ids(previous) if previous is not None else set()
    seen: set[uuid.UUID] = set()
    content: dict[str, Any] = {"title": title, "participants": [p.model_dump(mode="json") for p in body.participants]}
    for category in ITEM_CATEGORIES:
        old = list(previous.get(category, [])) if previous is not None else []
        items = []
        for i, item in enumerate(getattr(body, category)):
            field = f"{category}.{i}"
            if item.id is not None:
                if item.id in seen:
                    errors.append({"field": f"{field}.id", "message": "this item id appears twice on the map"})
                elif item.id not in known:
                    errors.append(
                        {"field": f"{field}.id", "message": "not an item of this map; leave the id out for a new item"}
                    )
                seen.add(item.id)
            agreeing = {name.casefold() for name in item.agrees}
            for j, name in enumerate(item.disputes):
                if name.casefold() in agreeing:
                    errors.append(
                        {"field": f"{field}.disputes.{j}", "message": "this person is also listed as agreeing"}
                    )
            stored = item.model_dump(mode="json", exclude={"id"})
            if item.id is not None:
                item_id = str(item.id)
            elif i < len(old) and _words(old[i]) == stored and uuid.UUID(old[i]["id"]) not in seen:
                item_id = old[i]["id"]
                seen.add(uuid.UUID(item_id))
            else:
                item_id = str(new_id())
            items.append({"id": item_id, **stored})
        content[category] = items
    if errors:
        raise InvalidInput(errors)
    return content


def _words(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "id"}


def item_ids(content: Mapping[str, Any]) -> set[uuid.UUID]:
    return {uuid.UUID(item["id"]) for category in ITEM_CATEGORIES for item in content.get(category, [])}


def changed(previous: Mapping[str, Any], content: Mapping[str, Any]) -> bool:
    """Whether a save changes the map (a save that changes nothing is not a new version)."""
    return dict(previous) != dict(content)


def completion_problems(
    active_danger_statements: Sequence[uuid.UUID], *, with_goal: set[uuid.UUID], rated: set[uuid.UUID]
) -> list[dict[str, str]]:
    """What stops a map from being marked complete: every active danger statement needs a paired safety
    goal and at least one safety-scale rating (DOMAIN.md, cross-rules). One error per missing piece."""
    errors = []
    for statement_id in active_danger_statements:
        if statement_id not in with_goal:
            errors.append(
                {
                    "field": f"danger_statements.{statement_id}.safety_goal",
                    "message": "this active danger statement has no safety goal yet",
                }
            )
        if statement_id not in rated:
            errors.append(
                {
                    "field": f"danger_statements.{statement_id}.scale_rating",
                    "message": "this active danger statement has no safety-scale rating yet",
                }
            )
    return errors


def balance_problems(
    content: Mapping[str, Any], *, active_danger_statements: Sequence[uuid.UUID]
) -> list[dict[str, str]]:
    """What makes a map unbalanced (issue 14): the three questions each answered — at least one active danger
    statement in the case (what we are worried about), something working well on the map's current version
    (its strengths or existing safety) and a safety goal for an active danger statement (what needs to
    happen). One error per missing piece; a supervisor may record an exception to these, never to the pairing
    of each danger statement with its goal and rating (`completion_problems`, which names a missing goal
    statement by statement: here `safety_goals` is named only when there is no active danger statement)."""
    errors = []
    if not active_danger_statements:
        errors.append(
            {
                "field": "danger_statements",
                "message": "the case has no active danger statement: what are we worried about?",
            }
        )
    if not content.get("strengths") and not content.get("existing_safety"):
        errors.append(
            {
                "field": "working_well",
                "message": "this version of the map has no strengths and no existing safety: what is working well?",
            }
        )
    if not active_danger_statements:
        errors.append(
            {"field": "safety_goals", "message": "no active danger statement has a safety goal: what needs to happen?"}
        )
    return errors


def map_warnings(active_danger_statements: int) -> list[dict[str, str]]:
    if active_danger_statements > DANGER_STATEMENT_WARNING_LIMIT:
        return [
            {
                "code": "many_danger_statements",
                "message": f"This case has {active_danger_statements} active danger statements; more than "
                f"{DANGER_STATEMENT_WARNING_LIMIT} is hard for a family and network to hold in mind. "
                "Consider combining or prioritising them.",
            }
        ]
    return []
