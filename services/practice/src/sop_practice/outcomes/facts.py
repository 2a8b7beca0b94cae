"""What the outcome measures and the federal extract know of a case, as plain functions over the fidelity read
model's facts (`fidelity.rules.apply` folds every event into them; these are the parts it delegates here):

- `reporting`: the case's last `sop.network.case.reporting_facts` (its reports, removals, children, county, staff
  and units, at the case's version). A newer or equal version replaces it whole; an older one changes nothing.
- `plan_spans`: when each safety plan was in force, from `sop.plans.safety_plan.activated|terminated|expired`,
  dates only. The earliest start and the earliest end win, so a duplicate, a replay or a late event change nothing
  they should not.

Then a case's facts become its history for the measures (`history_of`) and its records for the extract
(`extract_case_of`). Only ids, dates and codes: never names or words."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sop_practice.outcomes import extract, rules

REPORTING_FACTS = "sop.network.case.reporting_facts"
PLAN_ACTIVATED = "sop.plans.safety_plan.activated"
PLAN_ENDED = ("sop.plans.safety_plan.terminated", "sop.plans.safety_plan.expired")
PLAN_SPAN_EVENTS = (PLAN_ACTIVATED, *PLAN_ENDED)
SUBJECTS = (REPORTING_FACTS, *PLAN_SPAN_EVENTS)
# What the reporting facts keep of the event (the case id and the envelope are the row's already).
REPORTING_KEYS = (
    "version",
    "external_id",
    "county",
    "status",
    "opened_on",
    "closed_on",
    "worker",
    "supervisor",
    "units",
    "children",
    "reports",
    "removals",
)


def _version(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def fold_reporting(facts: dict[str, Any], data: Mapping[str, Any]) -> None:
    """Replace the case's reporting facts with the event's, unless what is held is newer (in place)."""
    held = facts.get("reporting")
    if held is not None and _version(data.get("version")) < _version(held.get("version")):
        return
    facts["reporting"] = {key: data.get(key) for key in REPORTING_KEYS}


def plan_span_change(subject: str, data: Mapping[str, Any], occurred_at: datetime) -> dict[str, str]:
    """What one plan event says of the plan's time in force: its start (activation) or its end (the moment it was
    terminated, or the expiry it reached)."""
    if subject == PLAN_ACTIVATED:
        return {"start": occurred_at.date().isoformat()}
    if subject.endswith(".expired"):
        expired = _date(data.get("expired_at"))
        return {"end": (expired or occurred_at.date()).isoformat()}
    return {"end": occurred_at.date().isoformat()}


def fold_plan_span(facts: dict[str, Any], subject: str, data: Mapping[str, Any], occurred_at: datetime) -> None:
    """Fold one plan event into the case's plan spans (in place): the earliest start and the earliest end win."""
    spans: dict[str, Any] = facts.setdefault("plan_spans", {})
    plan = str(data.get("plan_id"))
    entry = dict(spans.get(plan) or {"type": str(data.get("plan_type") or "unknown")})
    for name, day in plan_span_change(subject, data, occurred_at).items():
        if entry.get(name) is None or day < entry[name]:
            entry[name] = day
    spans[plan] = entry


def units_of(facts: Mapping[str, Any]) -> list[str]:
    """The units whose staff are or were on the case (a unit's outcome measures count it)."""
    return sorted({str(u) for u in (facts.get("reporting") or {}).get("units") or [] if u})


def history_of(case_id: uuid.UUID, facts: Mapping[str, Any]) -> rules.CaseHistory:
    """The case's history for the measures: its active reports and removals as SACWIS lists them now, and the
    safety plans that were in force."""
    reporting = facts.get("reporting") or {}
    reports = [
        rules.Report(received, bool(r.get("screened_in", True)))
        for r in reporting.get("reports") or []
        if (received := _date(r.get("received_on"))) is not None
    ]
    removals = [
        rules.Removal(removed, _date(v.get("discharged_on")), v.get("discharge_reason"))
        for v in reporting.get("removals") or []
        if (removed := _date(v.get("removed_on"))) is not None
    ]
    plans = [
        rules.PlanSpan(str(p.get("type")), _date(p.get("start")), _date(p.get("end")))
        for _, p in sorted((facts.get("plan_spans") or {}).items())
    ]
    return rules.CaseHistory(
        case_id,
        _date(reporting.get("opened_on")),
        _date(reporting.get("closed_on")),
        tuple(reports),
        tuple(removals),
        tuple(plans),
    )


def extract_case_of(facts: Mapping[str, Any]) -> extract.CaseFacts | None:
    """The case's records for the federal extract (None: the network has not told its reporting facts yet)."""
    reporting = facts.get("reporting")
    if not reporting or not reporting.get("external_id"):
        return None
    children = {
        str(c["external_id"]): extract.Child(str(c["external_id"]), _date(c.get("date_of_birth")))
        for c in reporting.get("children") or []
        if c.get("external_id")
    }
    reports = [
        extract.ReportFacts(
            str(r.get("external_id")),
            received,
            bool(r.get("screened_in", True)),
            _date(r.get("investigation_started_on")),
            r.get("disposition"),
            _date(r.get("disposition_on")),
            [str(c) for c in r.get("children") or []],
        )
        for r in reporting.get("reports") or []
        if (received := _date(r.get("received_on"))) is not None
    ]
    removals = [
        extract.RemovalFacts(
            str(v.get("external_id")),
            str(v.get("child")),
            removed,
            _date(v.get("discharged_on")),
            v.get("discharge_reason"),
        )
        for v in reporting.get("removals") or []
        if (removed := _date(v.get("removed_on"))) is not None
    ]
    return extract.CaseFacts(
        str(reporting["external_id"]),
        reporting.get("county"),
        reporting.get("worker"),
        reporting.get("supervisor"),
        children,
        reports,
        removals,
    )
