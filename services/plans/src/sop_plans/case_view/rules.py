"""Which plan binds the family now, and what each audience of the case view is shown. Plain functions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sop_plans.models import PlanStatus, SafetyPlan
from sop_plans.schemas import Alert, Rule, SafetyPlanOut
from sop_shared.policy import DEFAULT_SHARING, Audience, NetworkSharing, Section, may_see_section, may_see_unshared

ENDED = frozenset({PlanStatus.terminated, PlanStatus.expired})
# The agency's own readers. Everyone else (family, network, partner, court) gets the plan without the
# supervisor's decision and comment, the practice warnings addressed to the worker, and the alerts (the
# agency's work queue: who owes which review or decision).
HIDDEN_FROM_OTHERS = ("latest_approval", "warnings", "alerts")


def binds_now(plan: SafetyPlan) -> bool:
    """A version of the plan is in force: activated once, and the plan not ended. That is `active`, and
    `modified` (or a modified plan back in approval) whose version in force still binds the family."""
    return plan.in_force_version_number is not None and plan.status not in ENDED


def plan_to_show(plans: Iterable[SafetyPlan]) -> SafetyPlan | None:
    """The plan the case view shows first: the plan with a version in force (the last activated when there
    are several), else the newest plan not ended (a draft being prepared), else none."""
    open_plans = [p for p in plans if p.status not in ENDED]
    binding = [p for p in open_plans if binds_now(p)]
    if binding:  # activation sets activated_at with the version in force
        return max(binding, key=lambda p: (p.activated_at or p.created_at, p.id))
    return max(open_plans, key=lambda p: (p.created_at, p.id), default=None)


def version_shown(plan: SafetyPlan) -> int:
    """The version whose words the case view shows for the plan in force: the one binding the family,
    never a newer wording still being prepared; the newest wording when nothing is in force yet."""
    in_force = plan.in_force_version_number
    return in_force if in_force is not None and plan.status not in ENDED else plan.current_version_number


def is_agency(audience: Audience) -> bool:
    return may_see_unshared(audience)


def shared_with(plan: SafetyPlan, audience: Audience) -> bool:
    """Whether `audience` reads the plan at all. A plan's words are ready to share once the worker submits them
    for the supervisor's approval: outside the agency a draft that never left the worker is not shown (the
    ready-to-share rule of the policy table, with submission as the plan's step)."""
    return is_agency(audience) or plan.status != PlanStatus.draft or plan.in_force_version_number is not None


def version_for(plan: SafetyPlan, audience: Audience) -> int:
    """The version `audience` reads: the agency the newest wording; everyone else the version in force while
    there is one (never a newer wording still being prepared), else the newest (submitted) one."""
    return plan.current_version_number if is_agency(audience) else version_shown(plan)


def plan_for_audience(
    plan: SafetyPlanOut,
    audience: Audience,
    person_id: uuid.UUID | None = None,
    sharing: NetworkSharing = DEFAULT_SHARING,
) -> SafetyPlanOut:
    """The plan as `audience` reads it: outside the agency without its notes; the network only the rules it
    helps with (`person_id`: the reader's own person), and not how the plan avoids known triggers, unless the
    family opened every rule to them (`sharing`)."""
    if is_agency(audience):
        return plan
    shown = plan.model_copy(update={"latest_approval": None, "warnings": [], "alerts": []})
    if may_see_section(Section.every_rule, audience, sharing):
        return shown
    rules = [r for r in plan.rules if helps_with(r, person_id)]
    ids = {r.id for r in rules}
    # How the plan avoids a child's or caregiver's known triggers is not one of the rules they help with.
    return shown.model_copy(
        update={
            "rules": rules,
            "recent_check_ins": [c for c in plan.recent_check_ins if c.rule_id in ids],
            "trigger_plan": [],
        }
    )


def helps_with(rule: Rule, person_id: uuid.UUID | None) -> bool:
    """A rule this network reader helps with: one they carry out or watch (staff previewing the network's
    view, with no person of their own: every rule someone watches)."""
    if person_id is None:
        return bool(rule.monitors)
    return any(ref.person_id == person_id for ref in (*rule.monitors, *rule.responsible))


def alerts_for_audience(alerts: list[Alert], audience: Audience) -> list[Alert]:
    return alerts if is_agency(audience) else []
