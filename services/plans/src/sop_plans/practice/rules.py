"""Practice rules that hold across services, as plain functions (see docs/plans.md, "Practice rules").

- A safety assessment decided **conditionally safe** needs an immediate or ongoing plan in force within the
  policy's `conditionally_safe_plan_within_hours`; past that, with none in force, it is an alert to the
  case's worker and supervisor (`conditionally_safe_without_plan`), until a plan comes into force or a later
  decision replaces it.
- A check-in saying a rule was **broken** is an alert to the worker at once (`rule_broken`), for the policy's
  `broken_rule_alert_days` or until a later check-in on that rule says it was kept.
- **Threat codes** on a plan and its rules name threats of the SDM instruments the assessment service has
  loaded (learnt from its `sdm_instruments.published` events).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sop_plans.models import CheckIn, PlanType, SafetyDecision, SafetyPlan
from sop_plans.safety_plans.lifecycle import in_force
from sop_plans.schemas import Alert, AlertKind
from sop_shared.threat_codes import unknown_threat_codes

CONDITIONALLY_SAFE = "conditionally_safe"
# The outcomes of an SDM safety decision, most protective last; the assessment's own decision key is data.
SAFETY_OUTCOMES = ("safe", CONDITIONALLY_SAFE, "unsafe")
# The plans that answer a conditionally safe decision (a reunification plan does not: the child is not home).
ANSWERING_PLAN_TYPES = frozenset({PlanType.immediate, PlanType.ongoing})


def safety_decision_of(decisions: Mapping[str, Any]) -> str | None:
    """The safety decision an SDM assessment's final decisions say, or None when it made none (a risk
    assessment, say). A conditionally safe decision counts whenever one is made: it is the one that asks
    for a plan, even beside another instrument decision."""
    outcomes = {str(v) for v in decisions.values()}
    if CONDITIONALLY_SAFE in outcomes:
        return CONDITIONALLY_SAFE
    for outcome in ("unsafe", "safe"):
        if outcome in outcomes:
            return outcome
    return None


def plan_due_at(decided_at: datetime, within_hours: float) -> datetime:
    return decided_at + timedelta(hours=within_hours)


def answering_plan(plans: Iterable[SafetyPlan]) -> SafetyPlan | None:
    """The case's immediate or ongoing plan in force, if any (the last activated of several)."""
    found = [p for p in plans if p.plan_type in ANSWERING_PLAN_TYPES and in_force(p)]
    return max(found, key=lambda p: (p.activated_at is not None, p.activated_at, p.id), default=None)


def superseded(decision_at: datetime, other_decisions_at: Iterable[datetime]) -> bool:
    """A later decision on the case replaces this one (events may arrive out of order)."""
    return any(other > decision_at for other in other_decisions_at)


@dataclass(frozen=True)
class Staff:
    workers: Sequence[str] = ()
    supervisors: Sequence[str] = ()


def staff_from_event(data: Mapping[str, Any]) -> Staff | None:
    """The workers and supervisors a network case event names (`staff`), or None when it does not say."""
    raw = data.get("staff")
    if not isinstance(raw, list):
        return None
    workers = sorted({str(a["subject"]) for a in raw if isinstance(a, dict) and a.get("role") == "worker"})
    supervisors = sorted({str(a["subject"]) for a in raw if isinstance(a, dict) and a.get("role") == "supervisor"})
    return Staff(workers, supervisors)


def decision_alert(decision: SafetyDecision, *, now: datetime, staff: Staff) -> Alert | None:
    """The alert a conditionally safe decision raises: once its plan is overdue and while nothing cleared it."""
    if decision.decision != CONDITIONALLY_SAFE or decision.cleared_at is not None or decision.plan_due_at is None:
        return None
    if now < decision.plan_due_at:
        return None
    return Alert(
        kind=AlertKind.conditionally_safe_without_plan,
        case_id=decision.case_id,
        sdm_assessment_id=decision.sdm_assessment_id,
        title="Conditionally safe, and no safety plan in force",
        due_at=decision.plan_due_at,
        owner=decision.decided_by,
        supervisor=staff.supervisors[0] if staff.supervisors else None,
        message=(
            f"The safety assessment decided on {decision.decided_at.date().isoformat()} found the children "
            "conditionally safe; no immediate or ongoing safety plan is in force."
        ),
    )


@dataclass(frozen=True)
class AlertsOf:
    """Whose alerts are asked for: a case's (`case_id`), several cases' (`case_ids`: a caseload page's counts),
    or one worker's or supervisor's own across cases."""

    case_id: uuid.UUID | None = None
    worker: str | None = None
    supervisor: str | None = None
    case_ids: frozenset[uuid.UUID] | None = None

    def cases(self) -> frozenset[uuid.UUID] | None:
        """The cases asked about (None: every case, for a person's own list)."""
        if self.case_id is not None:
            return frozenset({self.case_id}) | (self.case_ids or frozenset())
        return self.case_ids


def addressed_to(alert: Alert, staff: Staff, *, worker: str | None, supervisor: str | None) -> bool:
    """Whether a practice alert is in this worker's or supervisor's own list (no filter: the case's list)."""
    if worker is not None:
        return alert.owner == worker or worker in staff.workers
    if supervisor is not None:
        return alert.supervisor == supervisor or supervisor in staff.supervisors
    return True


def broken_rule_alerts(
    check_ins: Sequence[CheckIn], plans: Mapping[uuid.UUID, SafetyPlan], *, now: datetime, days: int
) -> list[Alert]:
    """Each check-in that says a rule was broken, within `days`, unless a later check-in on the same rule of
    the same plan says it was kept."""
    since = now - timedelta(days=days)
    kept_last: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
    for c in check_ins:
        if c.kept:
            key = (c.plan_id, c.rule_id)
            kept_last[key] = max(kept_last.get(key, c.occurred_at), c.occurred_at)
    alerts: list[Alert] = []
    for c in check_ins:
        plan = plans.get(c.plan_id)
        if c.kept or plan is None or c.occurred_at < since:
            continue
        if kept_last.get((c.plan_id, c.rule_id), c.occurred_at) > c.occurred_at:
            continue
        note = f": {c.note}" if c.note else ""
        alerts.append(
            Alert(
                kind=AlertKind.rule_broken,
                case_id=c.case_id,
                plan_id=c.plan_id,
                check_in_id=c.id,
                rule_id=c.rule_id,
                title=plan.title,
                due_at=c.occurred_at,
                owner=plan.owner,
                supervisor=plan.supervisor,
                message=f"{c.reported_by_name} said a rule of the plan was broken on "
                f"{c.occurred_at.date().isoformat()}{note}",
            )
        )
    return alerts


def threat_code_errors(
    plan_codes: Sequence[str], rule_codes: Sequence[str | None], known: Collection[str]
) -> list[dict[str, str]]:
    """422 entries for threat codes no loaded SDM instrument defines (none known yet: nothing to check)."""
    fields: list[tuple[str, str | None]] = [(f"threat_codes.{i}", code) for i, code in enumerate(plan_codes)]
    fields += [(f"rules.{i}.threat_code", code) for i, code in enumerate(rule_codes)]
    return unknown_threat_codes(fields, known)
