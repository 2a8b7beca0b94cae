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
from typing import Any, NamedTuple

from sop_shared.plain_language import primary_language
from sop_shared.translations import pick

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

# Codes the services keep, said in the reader's words (`{kind}_{code}`): fixed, reviewed text, one catalogue for
# the case view and the family page (which adds its roles, modes and qualifications the same way). A code
# without words in a language is said in English, never shown as a code.
CODE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "end_reason_replaced_by_plan": "A newer plan took the place of this one.",
        "end_reason_expired": "This plan reached its end date.",
        "end_reason_terminated": "The worker ended this plan.",
    },
    "es": {
        "end_reason_replaced_by_plan": "Un plan más nuevo tomó el lugar de este.",
        "end_reason_expired": "Este plan llegó a su fecha final.",
        "end_reason_terminated": "El trabajador o la trabajadora terminó este plan.",
    },
}


def code_words(kind: str, code: str, language: str) -> str:
    """A code (`end_reason` `expired`, …) in the words of `language`'s labels (English when it has none)."""
    key = f"{kind}_{code}"
    return CODE_WORDS[labels_for(language).language].get(key) or CODE_WORDS[DEFAULT_LANGUAGE][key]


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


class InLanguage(NamedTuple):
    """Words as a reader is shown them (a named tuple: some 80 per full view, a frozen dataclass's `__init__`
    costs about four times its making)."""

    text: str
    language: str
    original_language: str
    fallback: bool


def in_language(
    original: str, original_language: str, translations: Iterable[Mapping[str, Any]], language: str
) -> InLanguage:
    """The text to show in `language`, by the shared rule (`sop_shared.translations.pick`): the original when
    it is already in that language; else the newest verified, current translation into it; else the original,
    flagged as a fallback (an unverified or stale translation is never shown to a family)."""
    if original_language == language:  # `pick`'s own first rule, without its `Shown` to copy
        return InLanguage(original, language, language, False)
    shown = pick(original, original_language, translations, language)
    return InLanguage(shown.text, shown.language, shown.original_language, shown.untranslated)


def item_in_language(body: Mapping[str, Any], fields: Iterable[str], language: str) -> dict[str, Any]:
    """A record with words in several fields (a map item: text, by whom, when, …) in `language`: each field
    its own translation (`translations` name the field they translate), `language_fallback` true when any of
    them is shown untranslated, and `untranslated_fields` naming those (shown in `original_language`).
    `language` is the language `text` is shown in."""
    original_language = str(body.get("language") or "en")
    translations = list(body.get("translations") or [])
    shown: dict[str, Any] = {"language": original_language, "original_language": original_language}
    untranslated: list[str] = []
    for field in fields:
        value = body.get(field)
        if not isinstance(value, str) or not value:
            continue
        picked = in_language(
            value,
            original_language,
            [t for t in translations if t.get("source_field", "text") == field],
            language,
        )
        shown[field] = picked.text
        if picked.fallback:
            untranslated.append(field)
        if field == "text":
            shown["language"] = picked.language
    return {**body, **shown, "language_fallback": bool(untranslated), "untranslated_fields": untranslated}


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
    # The word-boundary search only where the term occurs at all (most glossary terms are in no view's text).
    return term in haystack and re.search(rf"(?<!\w){re.escape(term)}(?!\w)", haystack) is not None


PLAN_RULE_FIELDS = ("text", "frequency", "how_verified")


def plan_in_language(plan: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A safety plan (as the plans service gives it, with `translations` beside its words and its rules') with
    its words in `language` where verified, current translations exist: the title, each red flag, what happens if
    a rule is broken, the backup plan, how it avoids each known trigger, and each rule's words.
    `language_fallback` when any of the plan's own words are shown as written; each rule carries its own."""
    original = str(plan.get("language") or "en")
    words: dict[str, Any] = {"title": plan.get("title"), "backup_plan": plan.get("backup_plan")}
    words |= {f"triggers.{i}": t for i, t in enumerate(plan.get("triggers") or [])}
    avoids = [dict(e) for e in plan.get("trigger_plan") or []]
    words |= {f"trigger_plan.{i}.how_avoided": e.get("how_avoided") for i, e in enumerate(avoids)}
    broken = dict(plan.get("if_rule_broken") or {})
    words["if_rule_broken.what_happens"] = broken.get("what_happens")
    shown = item_in_language(
        {**words, "language": original, "translations": plan.get("translations") or []}, list(words), language
    )
    if broken:
        broken["what_happens"] = shown["if_rule_broken.what_happens"]
    return {
        **plan,
        "title": shown["title"],
        "backup_plan": shown["backup_plan"],
        "triggers": [shown[f"triggers.{i}"] for i in range(len(plan.get("triggers") or []))],
        "trigger_plan": [{**e, "how_avoided": shown[f"trigger_plan.{i}.how_avoided"]} for i, e in enumerate(avoids)],
        "if_rule_broken": broken or plan.get("if_rule_broken"),
        "language_fallback": shown["language_fallback"],
        "untranslated_fields": shown["untranslated_fields"],
        "end_reason_words": code_words("end_reason", str(plan["end_reason"]), language)
        if plan.get("end_reason")
        else None,
        "rules": [
            item_in_language({**rule, "language": original}, PLAN_RULE_FIELDS, language)
            for rule in plan.get("rules") or []
        ],
    }
