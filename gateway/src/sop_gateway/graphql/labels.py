"""The case view's words in the family's language: the fixed headings (the three questions and the section
names), which text of a statement to show, and which glossary terms the view uses. Plain data and functions.

Review status: the Spanish headings were written by the engineering team from the SOP literature's usual
wording and the assessment glossary's terms; they await a bilingual reviewer (``REVIEWED = False``).
Marshallese: nobody on the team reads it and no reviewed source was found, so there are no Marshallese
headings; a Marshallese view gets the English ones with ``fallback`` true — never a machine translation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sop_shared.plain_language import primary_language

REVIEWED = False
DEFAULT_LANGUAGE = "en"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "worries": "What are we worried about?",
        "working_well": "What's working well?",
        "needs_to_happen": "What needs to happen?",
        "harm": "What has happened (harm)",
        "danger": "What we are worried could happen (danger)",
        "complicating_factors": "Things that make it harder",
        "strengths": "Strengths",
        "existing_safety": "Safety that is already there",
        "safety_goals": "Safety goals",
        "next_steps": "Next steps",
        "safety_scale": "Safety scale",
        "sdm": "Safety and risk decisions",
        "safety_plan": "Safety plan",
        "network": "Safety network",
        "children": "Children",
        "caregivers": "Parents and caregivers",
        "child_voice": "In the children's words",
        "glossary": "What the words mean",
        "alerts": "Things that are due",
    },
    "es": {
        "worries": "¿Qué nos preocupa?",
        "working_well": "¿Qué está funcionando bien?",
        "needs_to_happen": "¿Qué tiene que pasar?",
        "harm": "Lo que ha pasado (daño)",
        "danger": "Lo que nos preocupa que pueda pasar (peligro)",
        "complicating_factors": "Cosas que lo hacen más difícil",
        "strengths": "Fortalezas",
        "existing_safety": "Seguridad que ya existe",
        "safety_goals": "Metas de seguridad",
        "next_steps": "Próximos pasos",
        "safety_scale": "Escala de seguridad",
        "sdm": "Decisiones de seguridad y de riesgo",
        "safety_plan": "Plan de seguridad",
        "network": "Red de seguridad",
        "children": "Niños",
        "caregivers": "Padres y cuidadores",
        "child_voice": "En palabras de los niños",
        "glossary": "Qué quieren decir las palabras",
        "alerts": "Cosas pendientes",
    },
}

# The glossary term (assessment service's key) behind each section of the view: a section with content uses it.
SECTION_TERMS: dict[str, tuple[str, ...]] = {
    "harm": ("harm_statement",),
    "danger": ("danger_statement",),
    "complicating_factors": ("complicating_factors",),
    "strengths": ("existing_strengths",),
    "existing_safety": ("existing_safety",),
    "safety_goals": ("safety_goal",),
    "next_steps": ("next_steps",),
    "safety_scale": ("safety_scale",),
    "safety_decision": ("sdm", "safety_assessment"),
    "risk_level": ("sdm", "risk_assessment"),
    "safety_plan": ("safety_plan",),
    "network": ("safety_network",),
}


@dataclass(frozen=True)
class Labels:
    language: str
    fallback: bool
    words: Mapping[str, str]


def labels_for(language: str) -> Labels:
    """The headings in `language` (by its primary subtag), else English with `fallback` true."""
    primary = primary_language(language)
    if primary in LABELS:
        return Labels(primary, False, LABELS[primary])
    return Labels(DEFAULT_LANGUAGE, True, LABELS[DEFAULT_LANGUAGE])


@dataclass(frozen=True)
class InLanguage:
    text: str
    language: str
    original_language: str
    fallback: bool


def in_language(
    original: str, original_language: str, translations: Iterable[Mapping[str, Any]], language: str
) -> InLanguage:
    """The text to show in `language`: the original when it is already in that language; else a verified,
    current translation into it (the newest, when a corrected one was added: the service lists them oldest
    first); else the original, flagged as a fallback (an unverified or stale translation is never shown to a
    family)."""
    wanted = primary_language(language)
    if primary_language(original_language) == wanted:
        return InLanguage(original, original_language, original_language, False)
    for translation in reversed(list(translations)):
        if (
            primary_language(str(translation.get("language", ""))) == wanted
            and translation.get("verified")
            and translation.get("current")
            and translation.get("text")
        ):
            return InLanguage(translation["text"], translation["language"], original_language, False)
    return InLanguage(original, original_language, original_language, True)


def terms_used(
    sections_with_content: Iterable[str], texts: Iterable[str], entries: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The glossary entries the view uses: those behind a section that has content, and those whose term
    (in the entry's language or in English) appears in the view's text; in the glossary's order."""
    keys = {key for section in sections_with_content for key in SECTION_TERMS.get(section, ())}
    haystack = "\n".join(texts).casefold()
    used = []
    for entry in entries:
        terms = {str(entry.get("term") or ""), str(entry.get("english_term") or "")} - {""}
        if entry.get("key") in keys or any(_mentions(haystack, term.casefold()) for term in terms):
            used.append(entry)
    return used


def _mentions(haystack: str, term: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", haystack) is not None
