"""The family view page: the caseView's answers arranged under the three questions, in the reader's words,
rendered with Jinja2 (autoescaped) into one self-contained, print-ready HTML document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sop_gateway.family_view.chart import RaterLine, ScaleChart, scale_chart
from sop_gateway.family_view.labels import PageWords
from sop_gateway.pages.render import templates
from sop_shared.plain_language import primary_language
from sop_shared.translations import AGENCY_LANGUAGE, child_words, untranslated_note

OWNER_LABELS = {"family": "owner_family", "agency": "owner_agency", "joint": "owner_joint"}


@dataclass(frozen=True)
class Entry:
    """One thing the page says: the text as the caseView gives it, small details (label, value, the value's
    language when it is not the page's), and a note when some of it is not in the reader's language. `lang`
    is the text's language when it is not the page's (the HTML `lang` attribute screen readers need)."""

    text: str
    details: tuple[tuple[str, str, str | None], ...] = ()
    note: str | None = None
    heading: str | None = None
    done: bool = False
    lang: str | None = None


@dataclass(frozen=True)
class Shown:
    """Words of one record as the caseView gave them in the reader's language: which language each of its
    translatable fields is in (one listed in `untranslatedFields` is in the record's original language, the
    others in the asked language)."""

    item: Mapping[str, Any]
    words: PageWords

    def lang(self, field: str = "text") -> str | None:
        """The field's language when it is not the page's, else None."""
        item = self.item
        original = str(item.get("originalLanguage") or item.get("language") or self.words.language)
        if field == "text" and item.get("language"):
            shown = str(item["language"])
        elif field in (item.get("untranslatedFields") or []):
            shown = original
        elif item.get("languageFallback") is None and item.get("language"):
            shown = str(item["language"])  # a section that carries only its language
        else:
            shown = self.words.requested if original != self.words.requested else original
        return self.words.other_language(shown)

    def details(self, pairs: Iterable[tuple[str, str, str | None]]) -> tuple[tuple[str, str, str | None], ...]:
        """(label key, field, value) → (label, value, the value's language when not the page's)."""
        return tuple((self.words[key], value, self.lang(field)) for key, field, value in pairs if value)


@dataclass(frozen=True)
class ScaleTrajectory:
    title: str
    chart: ScaleChart | None


@dataclass
class FamilyPage:
    words: PageWords
    title: str
    case_reference: str
    printed_on: str
    children: str
    caregivers: str
    unavailable: set[str]
    danger: list[Entry] = field(default_factory=list)
    harm: list[Entry] = field(default_factory=list)
    complicating_factors: list[Entry] | None = None
    strengths: list[Entry] | None = None
    existing_safety: list[Entry] | None = None
    safety_goals: list[Entry] | None = None
    next_steps: list[Entry] | None = None
    network: list[Entry] | None = None
    plan: dict[str, Any] | None = None
    scale: list[ScaleTrajectory] | None = None
    glossary: list[tuple[str, str]] | None = None
    child_voice: list[tuple[str, list[Entry]]] | None = None

    def missing(self, section: str) -> bool:
        return section in self.unavailable


def family_page(
    view: Mapping[str, Any], words: PageWords, *, unavailable: Iterable[str], printed_on: dt.date
) -> FamilyPage:
    """`view` is the caseView's data; `unavailable` names the sections that came back null with an error."""
    children = [c["firstName"] for c in view.get("children") or []]
    caregivers = [f"{c['firstName']} {c['lastName']}" for c in view.get("caregivers") or []]
    title = words.say("page_title", children=words.join(children)) if children else words["page_title_no_children"]
    page = FamilyPage(
        words=words,
        title=title,
        case_reference=view["case"]["externalId"],
        printed_on=words.date(printed_on),
        children=", ".join(children),
        caregivers=", ".join(caregivers),
        unavailable=set(unavailable),
    )
    numbers: dict[str, int] = {}
    worries = view.get("worries") or {}
    for number, statement in enumerate(_current(worries.get("danger")), start=1):
        numbers[str(statement["recordId"])] = number
        details = tuple(
            (label, words.join(statement[key]), None)
            for key, label in (("agrees", words["who_agrees"]), ("disputes", words["who_disagrees"]))
            if statement.get(key)
        )
        page.danger.append(
            Entry(
                statement["text"],
                details,
                _language_note(statement, words),
                heading=words.say("worry_n", n=words.number(number)),
                lang=Shown(statement, words).lang(),
            )
        )
    page.harm = [_entry(s, words) for s in _current(worries.get("harm"))]
    if "complicatingFactors" in worries:
        page.complicating_factors = _items(worries["complicatingFactors"], words)

    working_well = view.get("workingWell")
    if working_well is not None:
        page.strengths = _items(working_well.get("strengths"), words)
        page.existing_safety = [
            _entry(
                item,
                words,
                (
                    ("who", "byWhom", item.get("byWhom")),
                    ("when", "when", item.get("when")),
                    ("how_often", "howOften", item.get("howOften")),
                ),
            )
            for item in working_well.get("existingSafety") or []
        ]

    network = view.get("network")
    if network is not None:
        page.network = [_network_member(member, words) for member in network.get("members") or []]

    needs = view.get("needsToHappen") or {}
    if needs.get("safetyGoals") is not None:
        page.safety_goals = [_goal(goal, numbers, words) for goal in _current(needs["safetyGoals"])]
    if needs.get("nextSteps") is not None:
        page.next_steps = [
            Entry(
                step["action"],
                (
                    *_details(words, (("who", step.get("owner")),)),
                    *_details(words, (("by_when", words.date(step["dueOn"]) if step.get("dueOn") else None),)),
                ),
                _language_note(step, words),
                done=_is(step.get("status"), "done"),
                lang=Shown(step, words).lang("action"),
            )
            for step in needs["nextSteps"]
            if not _is(step.get("status"), "cancelled", "dropped")
        ]

    plan = view.get("safetyPlan")
    if plan is not None:
        page.plan = _plan(plan, words)

    scale = view.get("safetyScale")
    if scale is not None:
        page.scale = [
            _trajectory(t, numbers, words)
            for t in scale.get("trajectory") or []
            if t.get("statementId") is None or str(t["statementId"]) in numbers
        ]

    voices = view.get("childVoice")
    if voices is not None:
        page.child_voice = [_child_words(record, words) for record in voices if not record.get("restricted")]

    glossary = view.get("glossary")
    if glossary is not None:
        page.glossary = [
            (
                entry["term"],
                entry.get("meaning")
                or words.say(
                    "meaning_missing", language=words.language_name(glossary.get("language") or words.requested)
                ),
            )
            for entry in glossary.get("entries") or []
        ]
    return page


def render_html(page: FamilyPage) -> str:
    return templates("sop_gateway.family_view").get_template("family_view.html").render(page=page, words=page.words)


def _items(items: list[dict[str, Any]] | None, words: PageWords) -> list[Entry]:
    return [_entry(item, words) for item in items or []]


def _entry(
    item: Mapping[str, Any], words: PageWords, details: Iterable[tuple[str, str, str | None]] = (), **more: Any
) -> Entry:
    shown = Shown(item, words)
    return Entry(item["text"], shown.details(details), _language_note(item, words), lang=shown.lang(), **more)


def _current(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Statements and goals still in force (not resolved, withdrawn or achieved)."""
    return [item for item in items or [] if _is(item.get("status", "active"), "active")]


def _is(value: Any, *names: str) -> bool:
    return str(value or "").lower() in names  # enum values arrive UPPER_CASE


def _goal(goal: Mapping[str, Any], numbers: Mapping[str, int], words: PageWords) -> Entry:
    number = numbers.get(str(goal.get("dangerStatementId")))
    owner = OWNER_LABELS.get(str(goal.get("owner") or "").lower())
    # How long, from the goal's ISO-8601 duration, in the page's words (Babel), whatever the goal's language.
    how_long = words.duration(goal.get("duration")) or goal.get("durationText")
    return Entry(
        goal["text"],
        _details(words, (("who", words[owner] if owner else None), ("for_how_long", how_long))),
        _language_note(goal, words),
        heading=words.say("goal_for", n=words.number(number)) if number else None,
        lang=Shown(goal, words).lang(),
    )


def _as_words(text: str) -> str:
    """A role the page has no words for, entered as a key (`night_watch`): never shown as a code."""
    return text.replace("_", " ")


def _network_member(member: Mapping[str, Any], words: PageWords) -> Entry:
    # Roles are the practice's (monitor, respite, …, said in the reader's words) or words the worker wrote with
    # the family, in the agency's language: those are a line of their own, marked with that language.
    roles = [words.labels[f"role_{role}"] for role in member.get("roles") or [] if f"role_{role}" in words.labels]
    own_roles = [_as_words(role) for role in member.get("roles") or [] if f"role_{role}" not in words.labels]
    # Commitments in the language each is shown in (a member's own may be translated, the worker's are in the
    # agency's language): one line per language, each carrying its `lang`, the note once for any left as written.
    by_language: dict[str | None, list[str]] = {}
    untranslated: Mapping[str, Any] | None = None
    for c in member.get("commitments") or []:
        said = f"{c['text']} ({c['schedule']})" if c.get("schedule") else c["text"]
        by_language.setdefault(words.other_language(c.get("language") or words.language), []).append(said)
        if c.get("languageFallback"):
            untranslated = untranslated or c
    recorded_in = words.other_language(AGENCY_LANGUAGE)
    details: tuple[tuple[str, str, str | None], ...] = (
        ((words["helps_as"], words.join(own_roles), recorded_in),) if own_roles else ()
    )
    details += tuple((words["commitments"], "; ".join(said), lang) for lang, said in by_language.items())
    if own_roles and recorded_in and untranslated is None:
        untranslated = {"language": AGENCY_LANGUAGE, "languageFallback": True}
    name = f"{member['firstName']} {member['lastName']}"
    note = _language_note(untranslated, words) if untranslated else None
    return Entry(f"{name}: {words.join(roles)}" if roles else name, details, note)


def _plan(plan: Mapping[str, Any], words: PageWords) -> dict[str, Any]:
    broken = plan.get("ifRuleBroken") or {}
    # The plan's `language` is the one its words were written in; `untranslatedFields` names those shown so.
    untranslated = set(plan.get("untranslatedFields") or [])
    written_in = str(plan.get("language") or words.language)

    def lang(field: str) -> str | None:
        return words.other_language(written_in if field in untranslated else words.requested)

    return {
        "title": plan.get("title"),
        "title_lang": lang("title"),
        "note": _language_note(plan, words),
        "started": words.say("plan_started", date=words.date(plan["effectiveFrom"]))
        if plan.get("effectiveFrom")
        else None,
        "review": words.say("plan_review", date=words.date(plan["expiresAt"])) if plan.get("expiresAt") else None,
        "rules": [_rule(rule, words) for rule in plan.get("rules") or []],
        "triggers": [(t, lang(f"triggers.{i}")) for i, t in enumerate(plan.get("triggers") or [])],
        # How the plan avoids the known triggers: its words only (the triggers stay in the trauma history).
        "avoids": [
            (e["howAvoided"], lang(f"triggerPlan.{i}.howAvoided")) for i, e in enumerate(plan.get("triggerPlan") or [])
        ],
        "if_broken": _details(words, (("who_is_called", words.join(broken.get("whoIsCalled") or [])),))
        + (
            ((words["what_happens"], broken["whatHappens"], lang("ifRuleBroken.whatHappens")),)
            if broken.get("whatHappens")
            else ()
        ),
        "backup_plan": plan.get("backupPlan"),
        "backup_plan_lang": lang("backupPlan"),
        "sign_offs": [_sign_off(s, words) for s in plan.get("signOffs") or []],
    }


def _rule(rule: Mapping[str, Any], words: PageWords) -> Entry:
    names = _details(
        words,
        (
            ("responsible", words.join(rule.get("responsible") or [])),
            ("monitors", words.join(rule.get("monitors") or [])),
        ),
    )
    shown = Shown(rule, words)
    said = shown.details(
        (("how_often", "frequency", rule.get("frequency")), ("how_verified", "howVerified", rule.get("howVerified")))
    )
    return Entry(rule["text"], names + said, _language_note(rule, words), lang=shown.lang())


def _child_words(record: Mapping[str, Any], words: PageWords) -> tuple[str, list[Entry]]:
    """What a child agreed to share, in the child's own words (verbatim, in their language), each with its
    verified translation into the page's language beside it, or the note that it has none yet."""
    language = str(record.get("language") or "en")
    translated = {t["place"]: t for t in record.get("translations") or []}
    entries = []
    for place, said in child_words(record.get("content")):
        translation = translated.get(place)
        beside = (
            (
                (
                    words.say("in_language", language=words.language_name(translation["language"])),
                    translation["text"],
                    None,
                ),
            )
            if translation
            else ()
        )
        note = None if translation else _language_note({"language": language}, words)
        entries.append(Entry(f"“{said}”", beside, note, lang=words.other_language(language)))
    name = str(record.get("childName") or "")
    return words.say("child_said", name=name) if name else words["child_voice"], entries


def _sign_off(sign_off: Mapping[str, Any], words: PageWords) -> tuple[str, str | None]:
    """ "Maria Lopez signed it on May 5, 2026." and, when an interpreter explained the plan, who, how, in which
    language and what makes them fit to: "Lucía Gómez went over the plan with Maria Lopez by phone, in
    Spanish. Lucía Gómez is an interpreter who passed an official test." (two short sentences: the page's
    English stays at or below grade 8)."""
    signer = sign_off["signerName"]
    key = "signed_on" if _is(sign_off.get("decision"), "signed") else "refused_on"
    said = words.say(key, name=signer, date=words.date(sign_off["signedAt"]))
    interpreter = sign_off.get("interpreter")
    if not interpreter:
        return said, None
    name = interpreter["name"]
    explained = words.say(
        "explained_by",
        name=name,
        signer=signer,
        mode=words[f"mode_{str(interpreter['mode']).lower()}"],
        language=words.language_name(interpreter["language"]),
    )
    who = words.say(
        "interpreter_is", name=name, qualification=words[f"qualification_{interpreter['qualification']}".lower()]
    )
    return said, f"{explained} {who}"


def _trajectory(trajectory: Mapping[str, Any], numbers: Mapping[str, int], words: PageWords) -> ScaleTrajectory:
    statement = trajectory.get("statementId")
    what = (
        words.say("worry_n", n=words.number(numbers[str(statement)]))
        if statement is not None
        else words["scale_overall"]
    )
    occasions = [(_occasion_key(o), words.date(o["occasionOn"])) for o in trajectory.get("occasions") or []]
    raters = [
        RaterLine(r["raterName"], tuple((_occasion_key(p), int(p["score"])) for p in r.get("points") or []))
        for r in trajectory.get("raters") or []
    ]
    chart = scale_chart(occasions, raters) if occasions and raters else None
    return ScaleTrajectory(words.say("scale_chart_title", what=what), chart)


def _occasion_key(occasion: Mapping[str, Any]) -> str:
    return f"{occasion['occasionOn']}|{occasion.get('occasion') or ''}"


def _details(words: PageWords, pairs: Iterable[tuple[str, str | None]]) -> tuple[tuple[str, str, str | None], ...]:
    """Details the page writes itself (names, dates, labels): in the page's language."""
    return tuple((words[key], value, None) for key, value in pairs if value)


def _language_note(item: Mapping[str, Any], words: PageWords) -> str | None:
    """The mark on words the caseView had no verified translation for (shown as written), in the page's
    language: `untranslated_note` from the shared catalogue (`sop_shared.translations`), naming the language
    the words are in. A page whose labels are not the reader's language says so once, at the top, instead."""
    language = item.get("originalLanguage") or item.get("language")
    if not language:
        return None
    fallback = item.get("languageFallback")
    if fallback is None:  # no flag (a section that carries only its language): compare the languages
        fallback = primary_language(language) != primary_language(words.requested)
    if not fallback or (not words.translated and primary_language(language) == words.language):
        return None
    return untranslated_note(words.language, words.language_name(language))
