"""The family view page: the caseView's answers arranged under the three questions, in the reader's words,
rendered with Jinja2 (autoescaped) into one self-contained, print-ready HTML document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sop_gateway.family_view.chart import RaterLine, ScaleChart, scale_chart
from sop_gateway.family_view.labels import PageWords
from sop_shared.plain_language import primary_language

OWNER_LABELS = {"family": "owner_family", "agency": "owner_agency", "joint": "owner_joint"}


@dataclass(frozen=True)
class Entry:
    """One thing the page says: the text as the caseView gives it, small details (label, value), and a note
    when the text is not in the reader's language."""

    text: str
    details: tuple[tuple[str, str], ...] = ()
    note: str | None = None
    heading: str | None = None
    done: bool = False


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
            (label, words.join(statement[key]))
            for key, label in (("agrees", words["who_agrees"]), ("disputes", words["who_disagrees"]))
            if statement.get(key)
        )
        page.danger.append(
            Entry(statement["text"], details, _language_note(statement, words), heading=words.say("worry_n", n=number))
        )
    page.harm = [Entry(s["text"], note=_language_note(s, words)) for s in _current(worries.get("harm"))]
    if "complicatingFactors" in worries:
        page.complicating_factors = _items(worries["complicatingFactors"], words)

    working_well = view.get("workingWell")
    if working_well is not None:
        page.strengths = _items(working_well.get("strengths"), words)
        page.existing_safety = [
            Entry(
                item["text"],
                _details(
                    words,
                    (("who", item.get("byWhom")), ("when", item.get("when")), ("how_often", item.get("howOften"))),
                ),
                _language_note(item, words),
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
                _details(
                    words,
                    (("who", step.get("owner")), ("by_when", words.date(step["dueOn"]) if step.get("dueOn") else None)),
                ),
                _language_note(step, words),
                done=_is(step.get("status"), "done"),
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
    return _templates().get_template("family_view.html").render(page=page, words=page.words)


@cache
def _templates() -> Environment:
    # Autoescaped: every statement, name and rule is the family's or the worker's text, never markup.
    return Environment(
        loader=PackageLoader("sop_gateway.family_view", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _items(items: list[dict[str, Any]] | None, words: PageWords) -> list[Entry]:
    return [Entry(item["text"], note=_language_note(item, words)) for item in items or []]


def _current(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Statements and goals still in force (not resolved, withdrawn or achieved)."""
    return [item for item in items or [] if _is(item.get("status", "active"), "active")]


def _is(value: Any, *names: str) -> bool:
    return str(value or "").lower() in names  # enum values arrive UPPER_CASE


def _goal(goal: Mapping[str, Any], numbers: Mapping[str, int], words: PageWords) -> Entry:
    number = numbers.get(str(goal.get("dangerStatementId")))
    owner = OWNER_LABELS.get(str(goal.get("owner") or "").lower())
    return Entry(
        goal["text"],
        _details(words, (("who", words[owner] if owner else None), ("for_how_long", goal.get("durationText")))),
        _language_note(goal, words),
        heading=words.say("goal_for", n=number) if number else None,
    )


def _as_words(text: str) -> str:
    """A role the page has no words for, entered as a key (`night_watch`): never shown as a code."""
    return text.replace("_", " ")


def _network_member(member: Mapping[str, Any], words: PageWords) -> Entry:
    # Roles are the practice's (monitor, respite, …, said in the reader's words) or the family's own words.
    roles = [words.labels.get(f"role_{role}") or _as_words(role) for role in member.get("roles") or []]
    commitments = [
        f"{c['text']} ({c['schedule']})" if c.get("schedule") else c["text"] for c in member.get("commitments") or []
    ]
    name = f"{member['firstName']} {member['lastName']}"
    return Entry(
        f"{name}: {', '.join(roles)}" if roles else name, _details(words, (("commitments", "; ".join(commitments)),))
    )


def _plan(plan: Mapping[str, Any], words: PageWords) -> dict[str, Any]:
    broken = plan.get("ifRuleBroken") or {}
    return {
        "title": plan.get("title"),
        "note": _language_note(plan, words),
        "started": words.say("plan_started", date=words.date(plan["effectiveFrom"]))
        if plan.get("effectiveFrom")
        else None,
        "review": words.say("plan_review", date=words.date(plan["expiresAt"])) if plan.get("expiresAt") else None,
        "rules": [
            Entry(
                rule["text"],
                _details(
                    words,
                    (
                        ("responsible", words.join(rule.get("responsible") or [])),
                        ("monitors", words.join(rule.get("monitors") or [])),
                        ("how_often", rule.get("frequency")),
                        ("how_verified", rule.get("howVerified")),
                    ),
                ),
                _language_note(rule, words),
            )
            for rule in plan.get("rules") or []
        ],
        "triggers": list(plan.get("triggers") or []),
        "if_broken": _details(
            words,
            (
                ("who_is_called", words.join(broken.get("whoIsCalled") or [])),
                ("what_happens", broken.get("whatHappens")),
            ),
        ),
        "backup_plan": plan.get("backupPlan"),
        "sign_offs": [_sign_off(s, words) for s in plan.get("signOffs") or []],
    }


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
    what = words.say("worry_n", n=numbers[str(statement)]) if statement is not None else words["scale_overall"]
    occasions = [(_occasion_key(o), words.date(o["occasionOn"])) for o in trajectory.get("occasions") or []]
    raters = [
        RaterLine(r["raterName"], tuple((_occasion_key(p), int(p["score"])) for p in r.get("points") or []))
        for r in trajectory.get("raters") or []
    ]
    chart = scale_chart(occasions, raters) if occasions and raters else None
    return ScaleTrajectory(words.say("scale_chart_title", what=what), chart)


def _occasion_key(occasion: Mapping[str, Any]) -> str:
    return f"{occasion['occasionOn']}|{occasion.get('occasion') or ''}"


def _details(words: PageWords, pairs: Iterable[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    return tuple((words[key], value) for key, value in pairs if value)


def _language_note(item: Mapping[str, Any], words: PageWords) -> str | None:
    """A note when the caseView had no verified translation and gave the text in its original language."""
    language = item.get("language")
    if not language:
        return None
    fallback = item.get("languageFallback")
    if fallback is None:  # no flag (a section that carries only its language): compare the languages
        fallback = primary_language(language) != primary_language(words.requested)
    return words.say("original_language", language=words.language_name(language)) if fallback else None
