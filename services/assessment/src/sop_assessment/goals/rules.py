"""Rules for safety goals: the duration, the composed sentence and the plain-language check. No HTTP, no
session."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sop_assessment.goals.models import GoalOwner
from sop_shared.plain_language import REQUIRED_PARTS, LanguageCheck, check_text, primary_language

COMPOSED_LANGUAGES = ("en", "es")
GOAL_PARTS = REQUIRED_PARTS["safety_goal"]  # the plain-language check's parts of a safety goal
_DURATION = re.compile(r"^P(?:(?P<Y>\d{1,3})Y)?(?:(?P<M>\d{1,3})M)?(?:(?P<W>\d{1,3})W)?(?:(?P<D>\d{1,4})D)?$")
_UNITS = {
    "en": {"Y": ("year", "years"), "M": ("month", "months"), "W": ("week", "weeks"), "D": ("day", "days")},
    "es": {"Y": ("año", "años"), "M": ("mes", "meses"), "W": ("semana", "semanas"), "D": ("día", "días")},
}
_AND = {"en": "and", "es": "y"}


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


def parse_duration(value: str) -> dict[str, int] | None:
    """`P3M` -> {"M": 3}; None unless an ISO-8601 duration of years, months, weeks or days above zero.
    Hours and minutes are refused: a caregiver shows safety over weeks and months, not hours."""
    match = _DURATION.match(value.strip().upper()) if value else None
    if match is None:
        return None
    parts = {unit: int(n) for unit, n in match.groupdict().items() if n is not None and int(n) > 0}
    return parts or None


def duration_text(value: str, language: str = "en") -> str:
    """`P1Y2M` -> "1 year and 2 months" ("1 año y 2 meses"); the words a family reads."""
    parts = parse_duration(value) or {}
    lang = primary_language(language)
    units = _UNITS.get(lang, _UNITS["en"])
    words = [f"{n} {units[unit][0] if n == 1 else units[unit][1]}" for unit, n in parts.items()]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {_AND.get(lang, 'and')} {words[-1]}"


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
