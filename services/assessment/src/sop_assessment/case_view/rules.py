"""Rules of the case view: what is internal to the agency, the SDM summary (the latest safety decision and
risk level, and what falls due next), and a case's latest overall safety-scale rating. No HTTP, no session."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sop_assessment.goals.rules import GOAL_PARTS
from sop_assessment.ratings.models import OVERALL
from sop_assessment.ratings.rules import trajectory
from sop_assessment.statements.redaction import withheld_text
from sop_shared.policy import Audience

# Approvals waiting and practice warnings are the agency's own work, not part of what anyone else is shown.
INTERNAL_AUDIENCES = frozenset({Audience.staff, Audience.supervisor})
SAFETY_KINDS = frozenset({"safety_assessment"})
RISK_KINDS = frozenset({"risk_assessment", "risk_reassessment"})
SAFETY_DECISION = "safety_decision"
# Due dates a completed assessment still has: those its completion starts (e.g. the next reassessment). The
# others (e.g. `complete_by`) were met or missed by completing it.
AFTER_COMPLETION_ANCHOR = "completed"


class Assessed(Protocol):
    """The parts of an SDM assessment revision the summary reads."""

    id: Any
    instrument_key: str
    completed_at: datetime | None
    results: dict[str, Any] | None
    final_level: str | None
    due: dict[str, Any]


def is_internal(audience: Audience) -> bool:
    return audience in INTERNAL_AUDIENCES


@dataclass(frozen=True)
class SdmSummary:
    safety_decision: str | None = None
    safety_assessed_at: datetime | None = None
    risk_level: str | None = None
    risk_assessed_at: datetime | None = None
    due_dates: list[dict[str, Any]] = field(default_factory=list)
    latest: list[Any] = field(default_factory=list)  # the latest completed revision of each instrument


def sdm_summary(assessments: Iterable[Assessed], *, kind_of: Callable[[Assessed], str], now: datetime) -> SdmSummary:
    """From a case's SDM revisions: the safety decision of the latest completed safety assessment, the risk
    level of the latest completed risk assessment or reassessment, and the due dates still open — of each
    instrument's latest completed revision those its completion started, and of a newer draft all of its own.
    `kind_of` names an assessment's instrument kind (from the instrument catalog)."""
    rows = sorted(assessments, key=lambda a: a.id)
    completed: dict[str, Assessed] = {}
    drafts: dict[str, Assessed] = {}
    for row in rows:
        if row.completed_at is not None:
            current = completed.get(row.instrument_key)
            if current is None or _completed_key(row) >= _completed_key(current):
                completed[row.instrument_key] = row
    for row in rows:
        if row.completed_at is None:
            done = completed.get(row.instrument_key)
            if done is None or row.id > done.id:
                drafts[row.instrument_key] = row
    safety = _latest(a for a in completed.values() if kind_of(a) in SAFETY_KINDS)
    risk = _latest(a for a in completed.values() if kind_of(a) in RISK_KINDS)
    due: list[dict[str, Any]] = []
    for key, row in completed.items():
        if key not in drafts:  # a newer draft (e.g. an amendment) has the instrument's due dates now
            due += _due_entries(row, now, only_anchor=AFTER_COMPLETION_ANCHOR)
    for row in drafts.values():
        due += _due_entries(row, now)
    due.sort(key=lambda d: (d["due_at"], d["instrument_key"], d["kind"]))
    return SdmSummary(
        safety_decision=_safety_decision(safety) if safety else None,
        safety_assessed_at=safety.completed_at if safety else None,
        risk_level=risk.final_level if risk else None,
        risk_assessed_at=risk.completed_at if risk else None,
        due_dates=due,
        latest=sorted(completed.values(), key=lambda a: a.id),
    )


def _completed_key(row: Assessed) -> tuple[datetime, Any]:
    assert row.completed_at is not None
    return (row.completed_at, row.id)


def _latest(rows: Iterable[Assessed]) -> Assessed | None:
    return max(rows, key=_completed_key, default=None)


def _safety_decision(assessment: Assessed) -> str | None:
    decisions = (assessment.results or {}).get("decisions") or {}
    decision = decisions.get(SAFETY_DECISION) or next(iter(decisions.values()), None)
    return decision.get("final") if decision else None


def _due_entries(assessment: Assessed, now: datetime, *, only_anchor: str | None = None) -> list[dict[str, Any]]:
    """The assessment's computed due dates that have a date (a rule whose anchor is unknown has none yet)."""
    entries = []
    for kind, rule in (assessment.due or {}).items():
        if not rule.get("due") or (only_anchor is not None and rule.get("anchor") != only_anchor):
            continue
        entries.append(
            {
                "kind": kind,
                "label": rule.get("label"),
                "instrument_key": assessment.instrument_key,
                "due_at": rule["due"],
                "overdue": is_overdue(rule["due"], now),
            }
        )
    return entries


def is_overdue(due_at: str, now: datetime) -> bool:
    """A due time is overdue once it has passed; a due day only once the whole day has passed (in UTC)."""
    if "T" in due_at:
        return datetime.fromisoformat(due_at) < now
    return date.fromisoformat(due_at) < now.date()


def latest_overall_rating(ratings: Sequence[Any]) -> dict[str, Any] | None:
    """The overall safety-scale rating of a case's latest occasion: the mean of that occasion's raters."""
    overall = [r for r in ratings if r.target == OVERALL]
    if not overall:
        return None
    last = trajectory(overall, None)["occasions"][-1]
    return {"score": last["mean"], "occasion_on": last["occasion_on"]}


def withheld_goal(values: Mapping[str, Any], language: str) -> tuple[dict[str, Any], list[str]]:
    """The safety goal of a danger statement withheld from the audience says as little as the statement: the
    same fixed sentence, its parts emptied, no plain-language check."""
    shown = dict(values)
    text, lang = withheld_text(language)
    redacted = ["composed_text", *(name for name, _ in GOAL_PARTS), "plain_language"]
    shown.update({name: None for name in redacted[1:]}, composed_text=text, language=lang)
    return shown, redacted
