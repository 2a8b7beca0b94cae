"""Practice fidelity as plain functions: how one event changes what is known of a case (`apply`), what a case
then counts for (`derive`), the measures over many cases, periods, and small-cell suppression.

The fold is idempotent and order-tolerant: every fact is keyed by the record it is about (a statement, a rating,
a member…) and a newer version of a record wins over an older one, whatever order the events arrive in (each
subject has its own consumer, so a statement's update may be applied before its creation). Applying an event
twice, or replaying a stream over a model that already holds it, changes nothing.

The same facts hold what the outcome measures and the federal extract read (`sop_practice.outcomes.facts`): the
network's reporting facts of the case and the safety plans' time in force.

Only ids, dates, codes, labels and flags are kept: never words or names."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# The periods and the small-cell rule are every service's (sop_shared.aggregates), re-exported here.
from sop_practice.outcomes import facts as outcome_facts
from sop_shared.aggregates import Measure as Measure
from sop_shared.aggregates import measure as measure
from sop_shared.aggregates import period_range as period_range
from sop_shared.aggregates import quarter_of as quarter_of
from sop_shared.aggregates import quarters_until as quarters_until
from sop_shared.aggregates import small as small
from sop_shared.policy import SMALL_CELL_MIN

# The events the read model folds, by subject.
CASE_EVENTS = ("sop.network.case.created", "sop.network.case.updated")
MEMBER_EVENTS = ("sop.network.network_member.added", "sop.network.network_member.updated")
MAP_CREATED = "sop.assessment.map.created"
STATEMENT_EVENTS = ("sop.assessment.statement.created", "sop.assessment.statement.updated")
GOAL_EVENTS = ("sop.assessment.safety_goal.created", "sop.assessment.safety_goal.updated")
RATING_CREATED, RATING_WITHDRAWN = "sop.assessment.scale_rating.created", "sop.assessment.scale_rating.withdrawn"
CHILD_VOICE_CREATED = "sop.assessment.child_voice.created"
SDM_COMPLETED = "sop.assessment.sdm_assessment.completed"
SHARED_EVENTS = {
    "sop.assessment.statement.shared": ("statement", "statement_id"),
    "sop.assessment.safety_goal.shared": ("goal", "safety_goal_id"),
    "sop.assessment.map.shared": ("map", "map_id"),
}
PLAN_CREATED, PLAN_SIGNATURE = "sop.plans.safety_plan.created", "sop.plans.safety_plan.signature_recorded"
# A translation is announced when recorded (verified already, when a verifier recorded it) and when verified.
TRANSLATION_EVENTS = (
    "sop.assessment.translation.recorded",
    "sop.assessment.statement.translated",
    "sop.assessment.translation.verified",
    "sop.plans.translation.recorded",
    "sop.plans.translation.verified",
)

SUBJECTS: tuple[str, ...] = (
    *CASE_EVENTS,
    *MEMBER_EVENTS,
    MAP_CREATED,
    *STATEMENT_EVENTS,
    *GOAL_EVENTS,
    RATING_CREATED,
    RATING_WITHDRAWN,
    CHILD_VOICE_CREATED,
    SDM_COMPLETED,
    *SHARED_EVENTS,
    PLAN_CREATED,
    PLAN_SIGNATURE,
    *TRANSLATION_EVENTS,
    # the outcome measures' and the federal extract's facts (`sop_practice.outcomes.facts`): the same read model
    *outcome_facts.SUBJECTS,
)

# Whose view a safety-scale rating gives: the family's, the network's, or the agency's (staff and professionals).
PERSPECTIVE = {
    "caregiver": "family",
    "child": "family",
    "network": "network",
    "worker": "staff",
    "supervisor": "staff",
    "professional": "staff",
}
# SDM due rules that say when the assessment itself must be complete (not when to reassess).
COMPLETION_DUE_KEYS = ("complete_by", "initiate_by")
DEFAULT_DANGER_WITHIN_DAYS = 10


def _version(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def case_of(subject: str, data: Mapping[str, Any], case_id: uuid.UUID | None) -> uuid.UUID | None:
    """The case an event is about (None for events that are not one case's)."""
    if case_id is not None:
        return case_id
    raw = data.get("case_id")
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def _newer(entry: Mapping[str, Any] | None, version: int) -> bool:
    return entry is None or version >= _version(entry.get("v"))


def _reads_english(language: Any) -> bool:
    return str(language or "en").lower().split("-")[0] == "en"


def apply(facts: dict[str, Any], subject: str, data: Mapping[str, Any], occurred_at: datetime) -> dict[str, Any]:
    """The case's facts after one event (a new dict; `facts` is left as it was)."""
    out: dict[str, Any] = {key: dict(value) if isinstance(value, dict) else value for key, value in facts.items()}

    def keyed(name: str) -> dict[str, Any]:
        table: dict[str, Any] = out.setdefault(name, {})
        return table

    version = _version(data.get("version"))
    if subject in CASE_EVENTS:
        if version >= _version(out.get("case_v")):
            staff = [s for s in data.get("staff") or [] if isinstance(s, dict)]
            workers = sorted((s for s in staff if s.get("role") == "worker"), key=lambda s: str(s.get("subject")))
            people = [p for p in data.get("people") or [] if isinstance(p, dict)]
            out.update(
                case_v=version,
                county=data.get("county"),
                opened_on=data.get("opened_on"),
                worker=workers[0].get("subject") if workers else None,
                unit=workers[0].get("unit") if workers else None,
                needs_translation=any(not _reads_english(p.get("preferred_language")) for p in people),
            )
    elif subject in MEMBER_EVENTS:
        members, member = keyed("members"), str(data.get("member_id"))
        if _newer(members.get(member), version):
            members[member] = {
                "v": version,
                "in": data.get("active_to") is None,
                "heard": data.get("seen_danger_statements_on") is not None,
            }
    elif subject == MAP_CREATED:
        keyed("maps")[str(data.get("map_id"))] = True
    elif subject in STATEMENT_EVENTS:
        if data.get("kind") == "danger":
            statements, statement = keyed("danger"), str(data.get("statement_id"))
            entry = dict(statements.get(statement) or {})
            if subject == STATEMENT_EVENTS[0]:
                entry["on"] = occurred_at.date().isoformat()
            if _newer(entry if "v" in entry else None, version):
                entry.update(v=version, status=data.get("status"))
            statements[statement] = entry
        if data.get("words_corrected"):
            _unshared(keyed("shared"), f"statement:{data.get('statement_id')}", version)
    elif subject in GOAL_EVENTS:
        goals, goal = keyed("goals"), str(data.get("safety_goal_id"))
        if _newer(goals.get(goal), version):
            goals[goal] = {"v": version, "status": data.get("status")}
        if data.get("words_corrected"):
            _unshared(keyed("shared"), f"goal:{goal}", version)
    elif subject in (RATING_CREATED, RATING_WITHDRAWN):
        ratings, rating = keyed("ratings"), str(data.get("scale_rating_id"))
        entry = dict(ratings.get(rating) or {"live": True})
        if subject == RATING_CREATED:
            entry["view"] = PERSPECTIVE.get(str(data.get("rater_role")), "staff")
        else:
            entry["live"] = False  # a withdrawal is for good, whenever it arrives
        ratings[rating] = entry
    elif subject == CHILD_VOICE_CREATED:
        keyed("child_voice")[str(data.get("record_id"))] = True
    elif subject == SDM_COMPLETED:
        on_time = sdm_on_time(data.get("due"), data.get("completed_at") or occurred_at.isoformat())
        if on_time is not None:
            keyed("sdm")[str(data.get("sdm_assessment_id"))] = on_time
    elif subject in SHARED_EVENTS:
        kind, key = SHARED_EVENTS[subject]
        shared, record = keyed("shared"), f"{kind}:{data.get(key)}"
        entry = dict(shared.get(record) or {})
        if version >= _version(entry.get("v")):
            entry.update(v=version, plain=not data.get("with_reason"))
        shared[record] = entry
    elif subject == PLAN_CREATED:
        keyed("plans")[str(data.get("plan_id"))] = True
    elif subject == PLAN_SIGNATURE:
        if data.get("signer_role") == "caregiver" and data.get("decision") == "signed":
            keyed("signed")[str(data.get("signature_id"))] = True
    elif subject in TRANSLATION_EVENTS:
        if data.get("verified"):
            keyed("verified")[str(data.get("translation_id"))] = True
    elif subject == outcome_facts.REPORTING_FACTS:
        outcome_facts.fold_reporting(out, data)
    elif subject in outcome_facts.PLAN_SPAN_EVENTS:
        outcome_facts.fold_plan_span(out, subject, data, occurred_at)
    return out


def _unshared(shared: dict[str, Any], record: str, version: int) -> None:
    """New words (at `version`) make a shared record a draft again, until it is shared at that version."""
    entry = dict(shared.get(record) or {})
    entry["unshared_v"] = max(version, _version(entry.get("unshared_v")))
    shared[record] = entry


def sdm_on_time(due: Any, completed_at: str) -> bool | None:
    """Whether an SDM assessment was completed by its completion due date (None: it had none)."""
    if not isinstance(due, Mapping):
        return None
    deadline = next((str(due[key]) for key in COMPLETION_DUE_KEYS if due.get(key)), None)
    if deadline is None:
        return None
    done = datetime.fromisoformat(completed_at)
    if "T" in deadline:  # an hour rule: a timestamp
        return done <= datetime.fromisoformat(deadline)
    return done.date() <= date.fromisoformat(deadline)


@dataclass(frozen=True)
class CaseCounts:
    """What one case counts for in the measures (the read model's columns)."""

    county: str | None
    opened_on: date | None
    worker: str | None
    unit: str | None
    has_map: bool
    danger_days: int | None
    has_safety_goal: bool
    two_perspectives: bool
    network_size: int
    network_heard: int
    child_voice: bool
    has_plan: bool
    caregiver_signed: bool
    sdm_completed: int
    sdm_on_time: int
    shared_texts: int
    shared_plain: int
    needs_translation: bool
    translation_verified: bool


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def derive(facts: Mapping[str, Any]) -> CaseCounts:
    opened_on = _date(facts.get("opened_on"))
    standing = [
        d
        for s in (facts.get("danger") or {}).values()
        if s.get("status") != "withdrawn" and (d := _date(s.get("on"))) is not None
    ]
    first_danger = min(standing, default=None)
    views = {r.get("view") for r in (facts.get("ratings") or {}).values() if r.get("live") and r.get("view")}
    members = [m for m in (facts.get("members") or {}).values() if m.get("in")]
    shared = [
        s
        for s in (facts.get("shared") or {}).values()
        if "plain" in s and _version(s.get("v")) >= _version(s.get("unshared_v"))
    ]
    sdm = list((facts.get("sdm") or {}).values())
    return CaseCounts(
        county=facts.get("county"),
        opened_on=opened_on,
        worker=facts.get("worker"),
        unit=facts.get("unit"),
        has_map=bool(facts.get("maps")),
        danger_days=(first_danger - opened_on).days if first_danger and opened_on else None,
        has_safety_goal=any(g.get("status") != "withdrawn" for g in (facts.get("goals") or {}).values()),
        two_perspectives=len(views) >= 2 and bool(views - {"staff"}),
        network_size=len(members),
        network_heard=sum(1 for m in members if m.get("heard")),
        child_voice=bool(facts.get("child_voice")),
        has_plan=bool(facts.get("plans")),
        caregiver_signed=bool(facts.get("signed")),
        sdm_completed=len(sdm),
        sdm_on_time=sum(1 for on_time in sdm if on_time),
        shared_texts=len(shared),
        shared_plain=sum(1 for s in shared if s.get("plain")),
        needs_translation=bool(facts.get("needs_translation")),
        translation_verified=bool(facts.get("verified")),
    )


# --- periods ------------------------------------------------------------------------------------------------

# --- measures and suppression -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """The sums one aggregate query returns for the cases in scope."""

    cases: int = 0
    with_map: int = 0
    danger_within: int = 0
    with_goal: int = 0
    two_perspectives: int = 0
    with_network: int = 0
    members: int = 0
    members_heard: int = 0
    child_voice: int = 0
    with_plan: int = 0
    caregiver_signed: int = 0
    sdm_completed: int = 0
    sdm_on_time: int = 0
    shared_texts: int = 0
    shared_plain: int = 0
    needs_translation: int = 0
    translation_verified: int = 0


def measures(totals: Totals, within_days: int) -> list[Measure]:
    """Every measure of the cases in scope; with fewer cases than the minimum, none shows (counts of members,
    assessments or texts would still be about those few families)."""
    t = totals
    found = [
        measure("cases_with_map", "Cases with a map", t.with_map, t.cases),
        measure(
            "danger_statements_on_time",
            f"Cases with a danger statement within {within_days} days of opening",
            t.danger_within,
            t.cases,
        ),
        measure("cases_with_safety_goal", "Cases with a safety goal", t.with_goal, t.cases),
        measure(
            "scale_two_perspectives",
            "Cases rated on the safety scale from two perspectives, one the family's or the network's",
            t.two_perspectives,
            t.cases,
        ),
        measure("cases_with_network", "Cases with a safety network", t.with_network, t.cases),
        measure(
            "network_heard_danger_statements",
            "Network members who have heard the danger statements",
            t.members_heard,
            t.members,
        ),
        measure("child_voice_recorded", "Cases with the child's voice recorded", t.child_voice, t.cases),
        measure(
            "plans_signed_by_caregivers", "Cases with a plan signed by a caregiver", t.caregiver_signed, t.with_plan
        ),
        measure("sdm_on_time", "SDM assessments completed on time", t.sdm_on_time, t.sdm_completed),
        measure("plain_language_pass", "Shared texts passing the plain-language check", t.shared_plain, t.shared_texts),
        measure(
            "translations_verified",
            "Families who read another language with a verified translation",
            t.translation_verified,
            t.needs_translation,
        ),
    ]
    if t.cases < SMALL_CELL_MIN:
        return [Measure(m.key, m.label, None, None, None, True) for m in found]
    return found


def network_size(totals: Totals) -> float | None:
    """Members per case (the mean), shown only for enough cases."""
    if totals.cases < SMALL_CELL_MIN:
        return None
    return round(totals.members / totals.cases, 2)
