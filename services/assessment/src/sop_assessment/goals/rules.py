"""Rules for safety goals: the duration, the composed sentence and the plain-language check. No HTTP, no
session."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sop_assessment.goals.models import GoalOwner
from sop_shared.locale_words import babel_locale, duration_words, parse_duration
from sop_shared.plain_language import REQUIRED_PARTS, LanguageCheck, check_text, primary_language

__all__ = ["compose_goal", "duration_text", "goal_check", "owner_problems", "parse_duration"]

COMPOSED_LANGUAGES = ("en", "es")
GOAL_PARTS = REQUIRED_PARTS["safety_goal"]  # the plain-language check's parts of a safety goal


# Who may own a safety goal: the caregivers, or the caregivers and the agency together. Safety in SOP is what
# the caregivers are seen doing; a goal the agency alone owns is a service plan, not a safety goal.
ALLOWED_OWNERS = (GoalOwner.family, GoalOwner.joint)


def owner_problems(owner: GoalOwner | None) -> list[dict[str, str]]:
    """An error naming `owner` when a goal would be the agency's alone (None: the owner is not being set; rows
    stored before this rule keep their owner when read or changed otherwise)."""
    if owner is None or owner in ALLOWED_OWNERS:
        return []
    return [
        {
            "field": "owner",
            "message": "a safety goal is owned by the caregivers (`family`) or jointly (`joint`), "
            "never by the agency alone",
        }
    ]


@lru_cache(maxsize=1024)  # a pure function of its arguments, and every read of a goal shows it (Babel is slow)
def duration_text(value: str, language: str = "en") -> str:
    """`P1Y2M` -> "1 year and 2 months" ("1 año y 2 meses"), from Babel in `language`; the words a family
    reads (ISO-8601 years, months, weeks or days: `sop_shared.locale_words.parse_duration`)."""
    return duration_words(value, babel_locale(language)) or ""


def compose_goal(values: Mapping[str, Any], language: str) -> str:
    """The goal as short sentences from its parts, ending with how long it must be seen."""
    lang = primary_language(language)
    sentences = [_sentence(values[name]) for name, _ in GOAL_PARTS if values.get(name)]
    how_long = duration_text(values["duration"], lang)
    sentences.append(
        f"We need to see this for {how_long}." if lang == "en" else f"Necesitamos ver esto durante {how_long}."
    )
    return " ".join(sentences)


def _sentence(text: str) -> str:
    text = str(text).strip().rstrip(".").strip()
    return f"{text[0].upper()}{text[1:]}."


def goal_check(*, text: str, language: str, values: Mapping[str, Any]) -> LanguageCheck:
    """The shared check for a safety goal (jargon, negative phrasing, reading grade) plus the goal's own
    parts: a goal that does not say what the caregiver will be doing or what the child will experience
    is saved, with a warning naming the part."""
    parts = {name: str(values[name]) if values.get(name) else None for name, _ in GOAL_PARTS}
    return check_text(text, kind="safety_goal", language=language, parts=parts)
