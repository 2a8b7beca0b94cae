"""Rules for statements: input checks, the composed sentence, and the plain-language check. No HTTP, no session."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sop_assessment.models import StatementKind, TextSource
from sop_assessment.schemas import PersonRef, StatementIn
from sop_shared.plain_language import LanguageCheck, check_text, primary_language
from sop_shared.problems import InvalidInput

PARTS: dict[StatementKind, tuple[str, ...]] = {
    StatementKind.danger: ("who_is_worried", "caregiver_behaviour", "context_trigger", "feared_impact_on_child"),
    StatementKind.harm: ("who_reported", "caregivers", "action_or_inaction", "when_or_how_often", "impact_on_child"),
}
SHARED_FIELDS = ("children", "threat_codes", "agrees", "disputes")
COMPOSED_LANGUAGES = ("en", "es")

# The plain-language checker names parts in its own words; the API names them by field.
CHECK_KIND = {StatementKind.danger: "danger_statement", StatementKind.harm: "harm_statement"}
CHECK_PART_FIELDS: dict[StatementKind, dict[str, str]] = {
    StatementKind.danger: {
        "who_is_worried": "who_is_worried",
        "caregiver_behaviour": "caregiver_behaviour",
        "impact_on_child": "feared_impact_on_child",
    },
    StatementKind.harm: {
        "who_reported": "who_reported",
        "caregiver": "caregivers",
        "action": "action_or_inaction",
        "child": "children",
        "impact": "impact_on_child",
    },
}


def prepare_statement(body: StatementIn) -> dict[str, Any]:
    """The columns of a new statement, or InvalidInput naming every field that cannot be saved.

    Blank parts are stored as absent; the check warns about them. What is refused: parts of the other
    kind of statement, a statement with no words at all, the same person agreeing and disputing, a
    repeated threat code, and a language the server cannot compose in without the worker's text.
    """
    errors: list[dict[str, str]] = []
    kind = body.kind
    other = StatementKind.harm if kind == StatementKind.danger else StatementKind.danger
    for name in PARTS[other]:
        if getattr(body, name):
            errors.append({"field": name, "message": f"belongs to {other.value} statements, not {kind.value} ones"})
    agreeing = {name.casefold() for name in body.agrees}
    for i, name in enumerate(body.disputes):
        if name.casefold() in agreeing:
            errors.append({"field": f"disputes.{i}", "message": "this person is also listed as agreeing"})
    for i, code in enumerate(body.threat_codes):
        if code in body.threat_codes[:i]:
            errors.append({"field": f"threat_codes.{i}", "message": "this threat code is listed twice"})
    errors += repeated_errors("sensitivity_labels", body.sensitivity_labels)
    errors += repeated_errors("consented_audiences", body.consented_audiences)

    values: dict[str, Any] = {name: _blank_to_none(getattr(body, name)) for name in PARTS[kind]}
    values["caregivers"] = [ref.model_dump(mode="json") for ref in body.caregivers]
    values["children"] = [ref.model_dump(mode="json") for ref in body.children]
    text = _blank_to_none(body.text)
    if text is None:
        if not any(values[name] for name in PARTS[kind]):
            errors.append({"field": "text", "message": "a statement needs words: give its parts or write its text"})
        elif primary_language(body.language) not in COMPOSED_LANGUAGES:
            errors.append(
                {
                    "field": "text",
                    "message": f"the server composes statements only in English and "
                    f"Spanish; write the {body.language} text",
                }
            )
        else:
            text = compose_text(kind, body.language, values)
    if errors:
        raise InvalidInput(errors)
    return {
        **values,
        "kind": kind,
        "language": body.language,
        "composed_text": text,
        "text_source": TextSource.worker if body.text and body.text.strip() else TextSource.composed,
        "threat_codes": list(body.threat_codes),
        "agrees": list(body.agrees),
        "disputes": list(body.disputes),
        "sensitivity_labels": [label.value for label in body.sensitivity_labels],
        "consented_audiences": [audience.value for audience in body.consented_audiences],
    }


# What a statement says: a correction of any of these is a new version with a reason (`revised_words`).
WORD_FIELDS = (*PARTS[StatementKind.danger], *PARTS[StatementKind.harm], "children", "text")
WORD_COLUMNS = (*PARTS[StatementKind.danger], *PARTS[StatementKind.harm], "children", "composed_text", "text_source")


def statement_words(values: Mapping[str, Any]) -> dict[str, Any]:
    """A statement's words (`values`: its columns), as a revision keeps them."""
    words = {name: values.get(name) for name in WORD_COLUMNS}
    words["text_source"] = TextSource(words["text_source"]).value if words["text_source"] else None
    return words


def revised_words(
    current: Mapping[str, Any], changes: Mapping[str, Any], *, change_reason: str | None
) -> dict[str, Any] | None:
    """The statement's new words after a correction (`current`: its columns; `changes`: the words sent), or None
    when nothing in its words changed. The corrected statement is checked like a new one (parts of the other
    kind, no words at all, a language the server cannot compose); a composed text is composed again, the
    worker's own text stays unless `text` is sent. A correction needs its reason: InvalidInput naming
    `change_reason` otherwise (and a reason with no new words is refused too: nothing would be kept)."""
    reason = _blank_to_none(change_reason)
    touched = [name for name in WORD_FIELDS if name in changes]
    if not touched:
        if reason is not None:
            raise InvalidInput.field("change_reason", "a reason goes with corrected words: send the new words too")
        return None
    kind = StatementKind(current["kind"])
    merged: dict[str, Any] = {name: current.get(name) for name in PARTS[kind]}
    merged["children"], merged["caregivers"] = current.get("children") or [], current.get("caregivers") or []
    for name in touched:
        if name != "text":
            merged[name] = changes[name]
    if "text" in changes:
        merged["text"] = changes["text"]
    elif current.get("text_source") == TextSource.worker:
        merged["text"] = current.get("composed_text")
    errors: list[dict[str, str]] = []
    try:
        prepared = prepare_statement(
            StatementIn.model_validate({"kind": kind, "language": current["language"], **merged})
        )
    except InvalidInput as invalid:
        errors += invalid.errors
        prepared = None
    if reason is None:
        errors.append({"field": "change_reason", "message": "say why the words are corrected: it is kept with them"})
    if errors:
        raise InvalidInput(errors)
    assert prepared is not None
    new = statement_words(prepared)
    return None if new == statement_words(current) else new


def repeated_errors(field: str, values: Sequence[Any]) -> list[dict[str, str]]:
    """A label or an audience listed twice is a slip worth naming, not something to merge silently."""
    return [
        {"field": f"{field}.{i}", "message": "listed twice"} for i, value in enumerate(values) if value in values[:i]
    ]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# --- the composed sentence ---------------------------------------------------------------------------


def compose_text(kind: StatementKind, language: str, values: Mapping[str, Any]) -> str:
    """One or two short sentences from the parts, in the SOP shape, in English or Spanish.

    The worker's words are kept as written; only the frame around them is the server's. Verb agreement
    with "who" is a guess from its words ("and", a list, a plural noun); the worker can always write the
    text instead.
    """
    lang = primary_language(language)
    children = names(values.get("children") or [], lang) or ("the children" if lang == "en" else "los niños")
    if kind == StatementKind.danger:
        who, plural = _subject(_part(values, "who_is_worried"), lang)
        clause = _words(values, "caregiver_behaviour", "context_trigger")
        impact = _part(values, "feared_impact_on_child")
        if lang == "en":
            first = (
                f"{who} {'are' if plural else 'is'} worried that {clause}"
                if who and clause
                else f"{who} {'are' if plural else 'is'} worried"
                if who
                else f"The worry is that {clause}"
                if clause
                else None
            )
            second = f"If nothing changes, {_with_children(children, impact, values)}" if impact else None
        else:
            first = (
                f"{who} se {'preocupan' if plural else 'preocupa'} porque {clause}"
                if who and clause
                else f"{who} se {'preocupan' if plural else 'preocupa'}"
                if who
                else f"Hay preocupación porque {clause}"
                if clause
                else None
            )
            second = f"Si nada cambia, {_with_children(children, impact, values)}" if impact else None
    else:
        who, plural = _subject(_part(values, "who_reported"), lang)
        caregivers = names(values.get("caregivers") or [], lang) or None
        clause = (
            " ".join(
                p for p in (caregivers, _part(values, "action_or_inaction"), _part(values, "when_or_how_often")) if p
            )
            or None
        )
        impact = _part(values, "impact_on_child")
        if lang == "en":
            first = (
                f"{who} reported that {clause}"
                if who and clause
                else clause
                if clause
                else f"{who} reported it"
                if who
                else None
            )
        else:
            verb = "informaron" if plural else "informó"
            first = (
                f"{who} {verb} que {clause}"
                if who and clause
                else clause
                if clause
                else f"{who} lo {verb}"
                if who
                else None
            )
        second = _with_children(children, impact, values) if impact else None
    return " ".join(_sentence(s) for s in (first, second) if s)


def names(refs: Sequence[Mapping[str, Any] | PersonRef], lang: str = "en") -> str:
    """'Sofia', 'Sofia and Mateo', 'Ana, Sofia and Mateo' (Spanish: 'y', or 'e' before an i-sound)."""
    listed = [ref.name if isinstance(ref, PersonRef) else str(ref["name"]) for ref in refs]
    if len(listed) <= 1:
        return "".join(listed)
    last = listed[-1]
    conjunction = "and"
    if lang == "es":
        conjunction = "e" if re.match(r"h?[ií](?![aeouáéóú])", last, re.IGNORECASE) else "y"
    return f"{', '.join(listed[:-1])} {conjunction} {last}"


def _part(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    return value.strip().rstrip(".").strip() or None if isinstance(value, str) else None


def _words(values: Mapping[str, Any], *parts: str) -> str | None:
    return " ".join(p for p in (_part(values, name) for name in parts) if p) or None


def _with_children(children: str, impact: str, values: Mapping[str, Any]) -> str:
    """The impact with the children named before it — unless the worker's words already start with a child's
    name (or with the children as named): "Eli was found alone", not "Eli Eli was found alone"."""
    named = [ref.name if isinstance(ref, PersonRef) else str(ref["name"]) for ref in values.get("children") or []]
    for name in (children, *named):
        if re.match(rf"{re.escape(name)}(?!\w)", impact, re.IGNORECASE):
            return impact
    return f"{children} {impact}"


_CONJUNCTION = {"en": re.compile(r"(^|\s)(and|&)\s", re.IGNORECASE), "es": re.compile(r"(^|\s)(y|e)\s", re.IGNORECASE)}


def _subject(who: str | None, lang: str) -> tuple[str | None, bool]:
    """`who` as the subject of the verb, and whether it is plural. A name with a description after a comma
    (an appositive: "Gladys Moore, a neighbour", "Gladys Moore, Sofia's teacher") is one person, and the
    description is closed with a comma before the verb: "Gladys Moore, a neighbour, reported that…". A list
    has a conjunction ("The school, the doctor and Grandma Rosa") and stays as written."""
    if who is None:
        return None, False
    head, comma, description = who.partition(",")
    description = description.strip()
    first = description.split()[0] if description else ""
    if (
        comma
        and head.strip()
        and first
        and "," not in description
        and not _CONJUNCTION[lang].search(who)
        and (first[0].islower() or first.endswith(("'s", "\u2019s")))
    ):
        return f"{head.strip()}, {description},", _plural(head.strip(), lang)
    return who, _plural(who, lang)


_PLURAL_SUBJECT = {
    "en": re.compile(r"(^|\s)(and|&)\s|,|^(we|they|both)\b", re.IGNORECASE),
    "es": re.compile(
        r"(^|\s)(y|e)\s|,|^(nosotros|nosotras|ellos|ellas|los|las|unos|unas|ambos|ambas)\b", re.IGNORECASE
    ),
}


def _plural(who: str, lang: str) -> bool:
    if _PLURAL_SUBJECT[lang].search(who):
        return True
    last = who.split()[-1]
    # "Sofia's teachers", "los maestros": a lower-case noun in -s; "Ms. Jones" is one person.
    return last.islower() and last.endswith("s") and not last.endswith("ss")


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text.endswith(("?", "!")) else f"{text}."


# --- the plain-language check --------------------------------------------------------------------------


def statement_check(*, kind: StatementKind, language: str, text: str, values: Mapping[str, Any]) -> LanguageCheck:
    """The plain-language check of a statement's text with its parts; findings name the API's fields. The caller's
    own copy, to change (`shown_statement_check` for a check that is only shown)."""
    check = shown_statement_check(kind=kind, language=language, text=text, values=values)
    return check.model_copy(update={"findings": [finding.model_copy() for finding in check.findings]})


def shown_statement_check(*, kind: StatementKind, language: str, text: str, values: Mapping[str, Any]) -> LanguageCheck:
    """`statement_check`, kept per process and the same object for every caller with the same words: for a
    response that only serialises it (a case view shows every statement's check on every read). Never change it."""
    if kind == StatementKind.danger:  # the key built straight from the values (once per statement and read)
        get = values.get
        frozen = (
            ("who_is_worried", _key_part(get("who_is_worried"))),
            ("caregiver_behaviour", _key_part(get("caregiver_behaviour"))),
            ("impact_on_child", _key_part(get("feared_impact_on_child"))),
        )
        return _statement_check(kind, language, text, frozen)
    lang = primary_language(language)
    parts: dict[str, Any] = {
        "who_reported": values.get("who_reported"),
        "caregiver": names(values.get("caregivers") or [], lang),
        "action": values.get("action_or_inaction"),
        "child": names(values.get("children") or [], lang),
        "impact": values.get("impact_on_child"),
    }
    return _statement_check(kind, language, text, tuple((k, _key_part(v)) for k, v in parts.items()))


def _key_part(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


@lru_cache(maxsize=4096)  # a pure function of its arguments; bounded like `check_text`'s own
def _statement_check(
    kind: StatementKind, language: str, text: str, parts: tuple[tuple[str, str | None], ...]
) -> LanguageCheck:
    check = check_text(text, kind=CHECK_KIND[kind], language=language, parts=dict(parts))
    fields = CHECK_PART_FIELDS[kind]
    for finding in check.findings:
        if finding.part is not None:
            finding.part = fields.get(finding.part, finding.part)
    return check
