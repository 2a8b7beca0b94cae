"""The plain-language check every family-facing text gets: parts, jargon, negative phrasing, service
compliance, reading grade. Every code and part is defined in docs/plain-language.md.

Checks warn; they never block. `check_text` is a plain function (no I/O, no global state) so services,
the gateway and `POST /v1/language/check` all give the same answer. It is cached (LRU) and its patterns are
compiled once per language.

Word lists
    Each language's terms (with plainer words and a category: acronym, professional term, label, service-speak),
    negative phrasings, service-compliance words and the cues by which parts are found in free text are data:
    `plain_language_data/<lang>.toml`, read once when this module is imported. Only real jargon is listed,
    never everyday words. A change to these files is a practice decision: it goes through review by a practice
    lead (and, for Spanish, a bilingual reviewer who knows Arkansas families), recorded in the change that makes
    it. Messages are for the worker and are in English; suggestions are in the language of the text, because
    they are words to put into it.
    Review status: both files were drafted by the engineering team from DOMAIN.md's examples and issue 11's
    findings and await that review (English: a practice lead; Spanish: a bilingual practice reviewer); each
    file's `[review]` section says so.

Languages without a reviewed list (Marshallese, `mh`, first among them) get one `info` finding,
`glossary_missing`: we say the words were not checked rather than invent a list nobody reviewed.

Reading grade
    English: Flesch-Kincaid grade (textstat), never below 0; above grade 8 is `reading_grade_high`.
    Other languages: `None`. textstat's Spanish formulas (Fernandez Huerta, Szigriszt-Pazos) are
    reading-*ease* scores on their own scales, and no validated conversion to a US school grade exists,
    so reporting one would be a made-up number. An `info` finding (`reading_grade_unavailable`) says so.
    textstat's module functions share one global language (`set_lang`); we never call it and ask its backend
    for English by name (sop_shared.readability, which also keeps the CMU dictionary it reads small), so
    concurrent checks in different languages cannot race (no lock needed).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

READING_GRADE_LIMIT = 8.0

KINDS = frozenset(
    {
        "danger_statement",
        "harm_statement",
        "safety_goal",
        "safety_plan_rule",
        "map_item",
        "network_commitment",
        "general",
    }
)
# Goals and plan rules say what people will be doing: only they are checked for negative phrasing and for
# asking for service compliance instead of a safe behaviour someone can see.
ACTION_KINDS = frozenset({"safety_goal", "safety_plan_rule"})

# The parts each kind of statement must have (DOMAIN.md, "Mapping and statements"), in reading order,
# with the words a worker would use for them. Checked when the caller sends the structured parts.
REQUIRED_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "danger_statement": (
        ("who_is_worried", "who is worried"),
        ("caregiver_behaviour", "the caregiver behaviour people are worried about"),
        ("impact_on_child", "what could happen to the child"),
    ),
    "harm_statement": (
        ("who_reported", "who reported it or how it is known"),
        ("caregiver", "which caregiver"),
        ("action", "what the caregiver did or did not do"),
        ("child", "which child"),
        ("impact", "how it affected the child"),
    ),
    "safety_goal": (
        ("caregiver_will_be_doing", "what the caregiver will be doing"),
        ("child_will_experience", "what the child will experience"),
        ("others_will_see", "what others will see"),
    ),
}

# The parts looked for in free text when no structured parts are sent (issue 11): the ones a reader can
# find in the words themselves. Names (which caregiver, which child) are not guessed from text.
FREE_TEXT_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "danger_statement": REQUIRED_PARTS["danger_statement"],
    "harm_statement": (
        ("who_reported", "who saw or reported it, or how it is known"),
        ("action", "what the caregiver did or did not do"),
        ("impact", "how it affected the child"),
    ),
    "safety_goal": (
        ("caregiver_will_be_doing", "what the caregiver will be doing"),
        ("duration", "for how long (or how often, over time) it must be seen"),
    ),
}
# Behaviour cues inside an impact cue describe what happens to the child ("Sofia could be hit"), not what
# the caregiver does.
_IMPACT_PART = {"caregiver_behaviour": "impact_on_child", "action": "impact"}

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "mh": "Marshallese"}

JargonCategory = Literal["acronym", "professional_term", "label", "service_speak"]
JARGON_CATEGORIES: tuple[JargonCategory, ...] = ("acronym", "professional_term", "label", "service_speak")


@dataclass(frozen=True)
class PlainWord:
    """One professional term (and its forms) and the plainer words to use instead."""

    forms: tuple[str, ...]
    suggestion: str
    category: JargonCategory = "professional_term"


@dataclass(frozen=True)
class WordList:
    """One language's reviewed data file (`plain_language_data/<lang>.toml`), as read."""

    language: str
    review_status: str
    review_note: str
    words: tuple[PlainWord, ...]
    allowed: tuple[str, ...]
    negative: tuple[str, ...]
    negative_unless_followed_by: Mapping[str, tuple[str, ...]]
    conditional: tuple[str, ...]
    service_verbs: tuple[str, ...]
    service_words: tuple[str, ...]
    service_gap_stops: tuple[str, ...]
    comply_verbs: tuple[str, ...]
    comply_objects: tuple[str, ...]
    service_phrases: tuple[str, ...]
    part_cues: Mapping[str, tuple[str, ...]]


WORD_LIST_LANGUAGES = ("en", "es")


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def load_word_list(language: str) -> WordList:
    """Read one language's data file; a malformed file is an error at import, never a silent empty list."""
    raw = tomllib.loads(
        resources.files("sop_shared").joinpath(f"plain_language_data/{language}.toml").read_text("utf-8")
    )
    where = f"plain_language_data/{language}.toml"
    words = []
    for i, term in enumerate(raw["term"]):
        category = term["category"]
        if category not in JARGON_CATEGORIES:
            raise ValueError(f"{where}: term {i}: unknown category {category!r}")
        words.append(PlainWord(_strings(term["forms"], f"{where}: term {i}"), str(term["suggestion"]), category))
    negative = raw["negative"]
    service = raw["service_compliance"]
    return WordList(
        language=language,
        review_status=str(raw["review"]["status"]),
        review_note=" ".join(str(raw["review"]["note"]).split()),
        words=tuple(words),
        allowed=_strings(raw.get("allow", {}).get("phrases", []), f"{where}: allow"),
        negative=_strings(negative["phrases"], f"{where}: negative"),
        negative_unless_followed_by={
            phrase: _strings(after, f"{where}: negative.unless_followed_by")
            for phrase, after in negative.get("unless_followed_by", {}).items()
        },
        conditional=_strings(negative.get("conditional", []), f"{where}: negative.conditional"),
        service_verbs=_strings(service["verbs"], f"{where}: service_compliance.verbs"),
        service_words=_strings(service["services"], f"{where}: service_compliance.services"),
        service_gap_stops=_strings(service.get("gap_stops", []), f"{where}: service_compliance.gap_stops"),
        comply_verbs=_strings(service["comply_verbs"], f"{where}: service_compliance.comply_verbs"),
        comply_objects=_strings(service["comply_objects"], f"{where}: service_compliance.comply_objects"),
        service_phrases=_strings(service.get("phrases", []), f"{where}: service_compliance.phrases"),
        part_cues={name: _strings(cues, f"{where}: parts.{name}") for name, cues in raw["parts"].items()},
    )


# Reviewed word lists, one data file per language, read once (see the module docstring for how they change).
WORD_LISTS: dict[str, WordList] = {lang: load_word_list(lang) for lang in WORD_LIST_LANGUAGES}
PLAIN_WORDS: dict[str, tuple[PlainWord, ...]] = {lang: wl.words for lang, wl in WORD_LISTS.items()}
# Safety goals and plan rules say what people will be *doing*; these phrasings say what they will not do.
NEGATIVE_PHRASES: dict[str, tuple[str, ...]] = {lang: wl.negative for lang, wl in WORD_LISTS.items()}

NEGATIVE_SUGGESTION = {
    "en": "say what the caregiver will be doing instead, e.g. 'Maria will call her sister when she feels angry'",
    "es": "diga lo que el cuidador va a hacer, p. ej. 'María va a llamar a su hermana cuando se sienta enojada'",
}
SERVICE_SUGGESTION = {
    "en": "say what the caregiver will do at home that the network can see, e.g. 'Maria will have Rosa "
    "stay over on nights she drinks, so a sober adult is with the children'",
    "es": "diga qué hará el cuidador en casa que la red pueda ver, p. ej. 'Rosa se queda a dormir las noches "
    "en que María toma, para que un adulto sobrio esté con los niños'",
}


class LanguageFinding(BaseModel):
    """One thing the check noticed; `start`/`end` are character offsets into the text checked."""

    code: str
    severity: Literal["warning", "info"]
    message: str
    start: int | None = None
    end: int | None = None
    term: str | None = None
    suggestion: str | None = None
    part: str | None = None
    category: JargonCategory | None = Field(
        default=None,
        description="For `jargon`: acronym, professional_term, label (a diagnosis or a label for a person) or "
        "service_speak",
    )


class LanguageCheck(BaseModel):
    language: str
    reading_grade: float | None = None
    findings: list[LanguageFinding] = Field(default_factory=list)


def primary_language(language: str) -> str:
    """`es-US` -> `es`: word lists and reading formulas are per language, not per region."""
    return language.strip().split("-")[0].split("_")[0].lower() or "en"


def check_text(
    text: str, *, kind: str, language: str = "en", parts: Mapping[str, str | None] | None = None
) -> LanguageCheck:
    """Check one text of one kind. `parts` are the structured parts it was written from, when there
    are any; without them the parts a reader can find in the words are looked for in the text itself
    (`FREE_TEXT_PARTS`, in the languages with a word list).

    The check is a pure function of its inputs and a case view checks every statement it shows on every
    read, so results are kept (bounded, per process); each caller gets its own copy to change."""
    frozen_parts = (
        None if parts is None else tuple(sorted((k, None if v is None else str(v)) for k, v in parts.items()))
    )
    check = _check_text(text, kind, language, frozen_parts)
    # a finding's fields are immutable values: copying each finding is a deep copy (`copy.deepcopy` is slow)
    return check.model_copy(update={"findings": [finding.model_copy() for finding in check.findings]})


@lru_cache(maxsize=4096)
def _check_text(
    text: str, kind: str, language: str, frozen_parts: tuple[tuple[str, str | None], ...] | None
) -> LanguageCheck:
    parts = dict(frozen_parts) if frozen_parts is not None else None
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {sorted(KINDS)}")
    lang = primary_language(language)
    findings: list[LanguageFinding] = []
    if not text.strip():
        findings.append(LanguageFinding(code="empty_text", severity="warning", message="There is no text to read."))
    if parts is not None:
        findings += _missing_parts(kind, parts)
    word_list = WORD_LISTS.get(lang)
    if word_list is not None:
        folded = fold(text)
        if parts is None and text.strip():
            findings += _missing_free_text_parts(folded, kind, word_list)
        findings += _jargon(text, folded, word_list)
        if kind in ACTION_KINDS:
            findings += _negative_phrasing(text, folded, word_list)
            findings += _service_compliance(text, folded, word_list)
    else:
        name = LANGUAGE_NAMES.get(lang, lang)
        findings.append(
            LanguageFinding(
                code="glossary_missing",
                severity="info",
                message=f"There is no reviewed plain-language word list for {name} ({lang}) yet, so jargon"
                f"{', negative phrasing and service compliance' if kind in ACTION_KINDS else ''}"
                f"{' and the parts of the text' if kind in FREE_TEXT_PARTS and parts is None else ''} were not "
                f"checked. Ask someone who reads {name} to check the wording with the family.",
            )
        )
    grade = reading_grade(text, lang)
    if grade is None and text.strip():
        findings.append(
            LanguageFinding(
                code="reading_grade_unavailable",
                severity="info",
                message=f"No reading-grade measure is used for {LANGUAGE_NAMES.get(lang, lang)}; "
                "keep sentences short and read it back with the family.",
            )
        )
    elif grade is not None and grade > READING_GRADE_LIMIT:
        findings.append(
            LanguageFinding(
                code="reading_grade_high",
                severity="warning",
                message=f"This reads at about grade {grade:g}; aim for grade {READING_GRADE_LIMIT:g} or below.",
                suggestion="use shorter sentences and everyday words",
            )
        )
    return LanguageCheck(language=language, reading_grade=grade, findings=_ordered(findings))


def _missing_parts(kind: str, parts: Mapping[str, str | None]) -> list[LanguageFinding]:
    missing = []
    for part, words in REQUIRED_PARTS.get(kind, ()):
        value = parts.get(part)
        if value is None or not str(value).strip():
            missing.append(
                LanguageFinding(
                    code="missing_part",
                    severity="warning",
                    part=part,
                    message=f"The {kind.replace('_', ' ')} does not say {words}.",
                )
            )
    return missing


def _missing_free_text_parts(folded: str, kind: str, word_list: WordList) -> list[LanguageFinding]:
    cues = _part_cue_patterns(word_list.language)
    missing = []
    for part, words in FREE_TEXT_PARTS.get(kind, ()):
        impact = [m.span() for p in cues.get(_IMPACT_PART.get(part, ""), ()) for m in p.finditer(folded)]
        found = any(
            not any(start < m.end() and m.start() < end for start, end in impact)
            for pattern in cues.get(part, ())
            for m in pattern.finditer(folded)
        )
        if not found:
            missing.append(
                LanguageFinding(
                    code="missing_part",
                    severity="warning",
                    part=part,
                    message=f"The {kind.replace('_', ' ')} does not seem to say {words}.",
                )
            )
    return missing


_CATEGORY_WORDS: dict[JargonCategory, str] = {
    "acronym": "an acronym",
    "professional_term": "a professional term",
    "label": "a diagnosis or a label for a person (say what they do instead)",
    "service_speak": "service-speak",
}


def _jargon(text: str, folded: str, word_list: WordList) -> list[LanguageFinding]:
    allowed = [m.span() for p in _allowed_patterns(word_list.language) for m in p.finditer(folded)]
    found = []
    for match, word in _scan(folded, _jargon_patterns(word_list.language)):
        if any(start <= match.start() and match.end() <= end for start, end in allowed):
            continue
        term = text[match.start() : match.end()]
        found.append(
            LanguageFinding(
                code="jargon",
                severity="warning",
                start=match.start(),
                end=match.end(),
                term=term,
                suggestion=word.suggestion,
                category=word.category,
                message=f"'{term}' is {_CATEGORY_WORDS[word.category]}; a family may not use it, try plainer words.",
            )
        )
    return found


def _negative_phrasing(text: str, folded: str, word_list: WordList) -> list[LanguageFinding]:
    conditional = _conditional_pattern(word_list.language)
    found = []
    for match, _ in _scan(folded, _negative_patterns(word_list.language)):
        clause_start = max(folded.rfind(mark, 0, match.start()) for mark in ",.;:!?\n") + 1
        if conditional.search(folded, clause_start, match.start()):
            continue  # "if Maria does not answer, ..." says when, not what she will be doing
        found.append(
            LanguageFinding(
                code="negative_phrasing",
                severity="warning",
                start=match.start(),
                end=match.end(),
                term=text[match.start() : match.end()],
                suggestion=NEGATIVE_SUGGESTION[word_list.language],
                message="A safety goal or plan rule says what people will be doing, not what they will stop or not do.",
            )
        )
    return found


def _service_compliance(text: str, folded: str, word_list: WordList) -> list[LanguageFinding]:
    return [
        LanguageFinding(
            code="service_compliance",
            severity="warning",
            start=match.start(),
            end=match.end(),
            term=text[match.start() : match.end()],
            suggestion=SERVICE_SUGGESTION[word_list.language],
            message="This asks for going to or completing a service, or complying with a plan or court. Safety "
            "is what the caregivers do to protect the children, seen over time: say what will happen "
            "differently at home and who will see it.",
        )
        for match, _ in _scan(folded, _service_patterns(word_list.language))
    ]


_Found = TypeVar("_Found", PlainWord, None)


def _scan(text: str, patterns: Sequence[tuple[re.Pattern[str], _Found]]) -> list[tuple[re.Match[str], _Found]]:
    """Every whole-word match; where two overlap ('alleged perpetrator' / 'alleged') the longer wins."""
    matches = [(m, word) for pattern, word in patterns for m in pattern.finditer(text)]
    matches.sort(key=lambda item: (item[0].start(), -(item[0].end() - item[0].start())))
    kept: list[tuple[re.Match[str], _Found]] = []
    for match, word in matches:
        if kept and match.start() < kept[-1][0].end():
            continue
        kept.append((match, word))
    return kept


# Matching is done on a folded copy of the text: accents dropped, curly apostrophes, odd hyphens and
# non-breaking spaces made plain. Every character maps to exactly one character, so offsets into the copy
# are offsets into the text as written, and findings quote the text as written.
_FOLD = str.maketrans(
    "áàâäãåÁÀÂÄÃÅéèêëÉÈÊËíìîïÍÌÎÏóòôöõÓÒÔÖÕúùûüÚÙÛÜñÑçÇ\u2019\u2018\u02bc\u2010\u2011\u00a0",
    "aaaaaaAAAAAAeeeeEEEEiiiiIIIIoooooOOOOOuuuuUUUUnNcC'''-- ",
)


def fold(text: str) -> str:
    """The text with accents, curly apostrophes and non-breaking spaces made plain, same length; for matching."""
    return text.translate(_FOLD)


def _phrase(phrase: str) -> str:
    """A phrase as a pattern: any run of spaces for a space; "-", a space or nothing for a hyphen."""
    pieces = []
    for char in fold(phrase):
        if char.isspace():
            pieces.append(r"\s+")
        elif char == "-":
            pieces.append(r"[-\s]?")
        else:
            pieces.append(re.escape(char))
    return "".join(pieces)


def _is_acronym(form: str) -> bool:
    return form.isalpha() and form.isupper() and len(form) >= 2


def _form_pattern(form: str) -> re.Pattern[str]:
    # An acronym matches in capitals only ("CASA", never Spanish "casa"), with an optional plural ("UAs").
    if _is_acronym(form):
        return re.compile(r"(?<!\w)" + _phrase(form) + r"(?:'?s)?(?!\w)")
    return re.compile(r"(?<!\w)" + _phrase(form) + r"(?!\w)", re.IGNORECASE)


def _alternation(forms: Sequence[str]) -> str:
    """Longest first, so the alternation prefers 'AA meetings' to 'AA'; acronyms stay case-sensitive."""
    ordered = sorted(set(forms), key=lambda form: (-len(form), form))
    return "(?:" + "|".join(f"(?-i:{_phrase(f)})" if _is_acronym(f) else _phrase(f) for f in ordered) + ")"


@cache
def _jargon_patterns(lang: str) -> tuple[tuple[re.Pattern[str], PlainWord], ...]:
    return tuple((_form_pattern(form), word) for word in WORD_LISTS[lang].words for form in word.forms)


@cache
def _allowed_patterns(lang: str) -> tuple[re.Pattern[str], ...]:
    return tuple(_form_pattern(phrase) for phrase in WORD_LISTS[lang].allowed)


@cache
def _negative_patterns(lang: str) -> tuple[tuple[re.Pattern[str], None], ...]:
    word_list = WORD_LISTS[lang]
    patterns = []
    for phrase in word_list.negative:
        unless = word_list.negative_unless_followed_by.get(phrase, ())
        not_before = rf"(?!\s+{_alternation(unless)}(?!\w))" if unless else ""
        patterns.append((re.compile(rf"(?<!\w){_phrase(phrase)}(?!\w){not_before}", re.IGNORECASE), None))
    return tuple(patterns)


@cache
def _conditional_pattern(lang: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){_alternation(WORD_LISTS[lang].conditional)}(?!\w)", re.IGNORECASE)


@cache
def _service_patterns(lang: str) -> tuple[tuple[re.Pattern[str], None], ...]:
    word_list = WORD_LISTS[lang]
    stops = _alternation(word_list.service_gap_stops) if word_list.service_gap_stops else "(?!)"
    # up to four words between the request and what it asks for, none a stop word or a possessive
    gap = rf"(?:(?!{stops}(?!\w))(?![\w-]+'s(?!\w))[\w'-]+\s+){{0,4}}?"

    def request(verbs: Sequence[str], objects: Sequence[str]) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){_alternation(verbs)}\s+{gap}{_alternation(objects)}(?!\w)", re.IGNORECASE)

    phrases = re.compile(rf"(?<!\w){_alternation(word_list.service_phrases)}(?!\w)", re.IGNORECASE)
    return (
        (request(word_list.service_verbs, word_list.service_words), None),
        (request(word_list.comply_verbs, word_list.comply_objects), None),
        (phrases, None),
    )


@cache
def _part_cue_patterns(lang: str) -> dict[str, tuple[re.Pattern[str], ...]]:
    return {
        part: tuple(re.compile(fold(cue), re.IGNORECASE) for cue in cues)
        for part, cues in WORD_LISTS[lang].part_cues.items()
    }


def reading_grade(text: str, language: str = "en") -> float | None:
    """Flesch-Kincaid grade for English text, rounded to one decimal and never below 0; else None."""
    if primary_language(language) != "en" or not text.strip():
        return None
    # Imported on the first English text: textstat and the CMU dictionary are for writes, not start-up.
    from sop_shared.readability import flesch_kincaid_grade

    grade = float(flesch_kincaid_grade(text))
    return round(max(grade, 0.0), 1)


def _ordered(findings: list[LanguageFinding]) -> list[LanguageFinding]:
    """Missing parts first (in the order the statement reads), then findings in text order, then notes."""

    def key(item: tuple[int, LanguageFinding]) -> tuple[int, int, int]:
        index, finding = item
        if finding.part is not None:
            return (0, index, 0)
        if finding.start is not None:
            return (1, finding.start, index)
        return (2 if finding.severity == "warning" else 3, index, 0)

    return [finding for _, finding in sorted(enumerate(findings), key=key)]
