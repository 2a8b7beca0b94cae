"""The plain-language check every statement gets: required parts, jargon, negative goals, reading grade.

Checks warn; they never block. `check_text` is a plain function (no I/O, no global state) so services,
the gateway and `POST /v1/language/check` all give the same answer.

Word lists
    `PLAIN_WORDS` and `NEGATIVE_PHRASES` are data: a small list per language of terms that families,
    networks and courts keep meeting in our statements, each with plainer words. Only real jargon is
    listed, never everyday words. A change to these lists is a practice decision: it goes through review
    by a practice lead (and, for Spanish, a bilingual reviewer who knows Arkansas families), recorded in
    the change that makes it. Messages are for the worker and are in English; suggestions are in the
    language of the text, because they are words to put into it.
    Review status: this first version was drafted by the engineering team from DOMAIN.md's examples
    and awaits that review (English: a practice lead; Spanish: a bilingual practice reviewer).

Languages without a reviewed list (Marshallese, `mh`, first among them) get one `info` finding,
`glossary_missing`: we say the words were not checked rather than invent a list nobody reviewed.

Reading grade
    English: Flesch-Kincaid grade (textstat), never below 0; above grade 8 is `reading_grade_high`.
    Other languages: `None`. textstat's Spanish formulas (Fernandez Huerta, Szigriszt-Pazos) are
    reading-*ease* scores on their own scales, and no validated conversion to a US school grade exists,
    so reporting one would be a made-up number. An `info` finding (`reading_grade_unavailable`) says so.
    textstat's module functions share one global language (`set_lang`); we never call it and use our own
    `textstatistics` instance, so concurrent checks in different languages cannot race (no lock needed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

READING_GRADE_LIMIT = 8.0

KINDS = frozenset({"danger_statement", "harm_statement", "safety_goal", "general"})

# The parts each kind of statement must have (DOMAIN.md, "Mapping and statements"), in reading order,
# with the words a worker would use for them.
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
}

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "mh": "Marshallese"}


@dataclass(frozen=True)
class PlainWord:
    """One professional term (and its forms) and the plainer words to use instead."""

    forms: tuple[str, ...]
    suggestion: str


# Reviewed word lists, one per language (see the module docstring for how they change).
PLAIN_WORDS: dict[str, tuple[PlainWord, ...]] = {
    "en": (
        PlainWord(
            ("DV", "IPV", "domestic violence", "intimate partner violence"),
            "hurting or scaring a partner (say what happened)",
        ),
        PlainWord(
            ("neglect", "neglected", "neglectful", "neglecting"),
            "say what the child went without (for example food, a safe bed, a doctor)",
        ),
        PlainWord(
            ("substance abuse", "substance use", "substance misuse", "SUD"),
            "drinking alcohol or using drugs (say which, and what happens)",
        ),
        PlainWord(
            ("non-compliant", "noncompliant", "non-compliance", "noncompliance"),
            "did not do what was agreed (say what)",
        ),
        PlainWord(("inappropriate", "inappropriately"), "say what happened and why it worries people"),
        PlainWord(("maltreatment",), "harm (say what happened)"),
        PlainWord(("CPS",), "the child welfare agency"),
        PlainWord(("DCFS",), "the Division of Children and Family Services (the child welfare agency)"),
        PlainWord(("FSW",), "family service worker (use the worker's name)"),
        PlainWord(("TPR", "termination of parental rights"), "a judge ending a parent's legal rights to the child"),
        PlainWord(("perpetrator", "alleged perpetrator", "offender"), "the person who hurt the child (use their name)"),
        PlainWord(("allegation", "allegations", "alleged"), "what someone said happened"),
        PlainWord(("substantiated", "unsubstantiated"), "the agency decided it did (or did not) happen"),
        PlainWord(("protective capacity", "protective capacities"), "what the caregiver does to keep the child safe"),
        PlainWord(("failure to protect",), "say what the caregiver did or did not do to keep the child safe"),
        PlainWord(("lack of supervision", "inadequate supervision"), "say who was with the child and what happened"),
        PlainWord(("protective custody",), "the agency taking the children somewhere safe for now"),
        PlainWord(("out-of-home placement", "OOH"), "living away from home (with another family or in foster care)"),
        PlainWord(("reunification",), "the children coming back home"),
        PlainWord(("adjudication", "adjudicated"), "the court hearing that decides what happened"),
        PlainWord(("dependent-neglected", "dependency-neglect"), "the court decided the children need protection"),
    ),
    "es": (
        PlainWord(
            ("violencia doméstica", "violencia intrafamiliar", "violencia de pareja", "DV"),
            "lastimar o asustar a la pareja (diga qué pasó)",
        ),
        PlainWord(
            ("negligencia", "negligente", "negligentes"),
            "diga qué le faltó al niño (por ejemplo comida, una cama segura, un médico)",
        ),
        PlainWord(
            ("abuso de sustancias", "uso de sustancias", "consumo de sustancias"),
            "tomar alcohol o usar drogas (diga cuál y qué pasa)",
        ),
        PlainWord(("no cumple", "no cumplió", "incumplimiento"), "no hizo lo que se acordó (diga qué)"),
        PlainWord(
            ("inapropiado", "inapropiada", "inapropiados", "inapropiadas", "inapropiadamente"),
            "diga qué pasó y por qué preocupa",
        ),
        PlainWord(("maltrato",), "daño (diga qué pasó)"),
        PlainWord(("CPS",), "la agencia de bienestar infantil"),
        PlainWord(("DCFS",), "la División de Servicios para Niños y Familias (la agencia de bienestar infantil)"),
        PlainWord(("FSW",), "trabajador o trabajadora de servicios familiares (use su nombre)"),
        PlainWord(
            ("TPR", "terminación de la patria potestad", "terminación de los derechos parentales"),
            "un juez termina los derechos legales del padre o de la madre",
        ),
        PlainWord(
            ("perpetrador", "perpetradora", "agresor", "agresora"), "la persona que lastimó al niño (use su nombre)"
        ),
        PlainWord(("alegación", "alegaciones", "presunto", "presunta"), "lo que alguien dijo que pasó"),
        PlainWord(
            ("capacidad protectora", "capacidades protectoras"), "lo que hace el cuidador para mantener seguro al niño"
        ),
        PlainWord(("falta de supervisión",), "diga quién estaba con el niño y qué pasó"),
        PlainWord(("custodia protectora",), "la agencia lleva a los niños a un lugar seguro por ahora"),
        PlainWord(("reunificación",), "que los niños vuelvan a casa"),
    ),
}

# Safety goals say what the caregiver will be *doing*; these phrasings say what they will not do.
NEGATIVE_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "will not",
        "won't",
        "will never",
        "never",
        "stop",
        "stops",
        "stopping",
        "refrain",
        "refrains",
        "refraining",
        "no longer",
    ),
    "es": (
        "no va a",
        "no van a",
        "no volverá a",
        "no volverán a",
        "dejar de",
        "deja de",
        "dejará de",
        "dejarán de",
        "deje de",
        "nunca",
        "jamás",
        "abstenerse",
        "se abstendrá",
        "ya no",
    ),
}

NEGATIVE_SUGGESTION = {
    "en": "say what the caregiver will be doing instead, e.g. 'Maria will call her sister when she feels angry'",
    "es": "diga lo que el cuidador va a hacer, p. ej. 'María va a llamar a su hermana cuando se sienta enojada'",
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
    are any; without them the required-parts rule is not applied (a bare text cannot show them).

    The check is a pure function of its inputs and a case view checks every statement it shows on every
    read, so results are kept (bounded, per process); each caller gets its own copy to change."""
    frozen_parts = (
        None if parts is None else tuple(sorted((k, None if v is None else str(v)) for k, v in parts.items()))
    )
    return _check_text(text, kind, language, frozen_parts).model_copy(deep=True)


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
    if lang in PLAIN_WORDS:
        findings += _jargon(text, lang)
        if kind == "safety_goal":
            findings += _negative_phrasing(text, lang)
    else:
        name = LANGUAGE_NAMES.get(lang, lang)
        findings.append(
            LanguageFinding(
                code="glossary_missing",
                severity="info",
                message=f"There is no reviewed plain-language word list for {name} ({lang}) yet, so jargon"
                f"{' and negative phrasing' if kind == 'safety_goal' else ''} were not checked. "
                f"Ask someone who reads {name} to check the wording with the family.",
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


def _jargon(text: str, lang: str) -> list[LanguageFinding]:
    found = []
    for match, word in _scan(text, _jargon_patterns(lang)):
        found.append(
            LanguageFinding(
                code="jargon",
                severity="warning",
                start=match.start(),
                end=match.end(),
                term=match.group(0),
                suggestion=word.suggestion,
                message=f"'{match.group(0)}' is a professional term or label a family may not use; try plainer words.",
            )
        )
    return found


def _negative_phrasing(text: str, lang: str) -> list[LanguageFinding]:
    found = []
    for match, _ in _scan(text, _negative_patterns(lang)):
        found.append(
            LanguageFinding(
                code="negative_phrasing",
                severity="warning",
                start=match.start(),
                end=match.end(),
                term=match.group(0),
                suggestion=NEGATIVE_SUGGESTION[lang],
                message="A safety goal says what the caregiver will be doing, not what they will stop doing.",
            )
        )
    return found


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


# Accented and unaccented spellings both count (workers on phones often skip accents); the offsets stay
# those of the text as written, because nothing is rewritten before matching.
_ACCENTS = {
    "a": "aá",
    "e": "eé",
    "i": "ií",
    "o": "oó",
    "u": "uúü",
    "á": "aá",
    "é": "eé",
    "í": "ií",
    "ó": "oó",
    "ú": "uúü",
}


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    pieces = []
    for char in phrase.lower():
        if char in _ACCENTS:
            pieces.append(f"[{_ACCENTS[char]}]")
        elif char == "'":
            pieces.append("['\u2019]")
        elif char.isspace():
            pieces.append(r"\s+")
        elif char == "-":
            pieces.append(r"[-\u2010\u2011]")
        else:
            pieces.append(re.escape(char))
    return re.compile(r"(?<!\w)" + "".join(pieces) + r"(?!\w)", re.IGNORECASE)


@cache
def _jargon_patterns(lang: str) -> tuple[tuple[re.Pattern[str], PlainWord], ...]:
    return tuple((_phrase_pattern(form), word) for word in PLAIN_WORDS[lang] for form in word.forms)


@cache
def _negative_patterns(lang: str) -> tuple[tuple[re.Pattern[str], None], ...]:
    return tuple((_phrase_pattern(phrase), None) for phrase in NEGATIVE_PHRASES.get(lang, ()))


@cache
def _english_textstat() -> Any:
    # Our own instance: its language is per instance, unlike the module-level functions' shared one.
    # (textstat's backend caches are lru_caches keyed by language, so sharing them is safe.)
    from textstat.textstat import textstatistics

    stats = textstatistics()
    stats.set_lang("en_US")
    return stats


def reading_grade(text: str, language: str = "en") -> float | None:
    """Flesch-Kincaid grade for English text, rounded to one decimal and never below 0; else None."""
    if primary_language(language) != "en" or not text.strip():
        return None
    grade = float(_english_textstat().flesch_kincaid_grade(text))
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
