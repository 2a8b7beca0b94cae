"""The safety plan's state machine, as data: which action may happen in which status, and where it leads.

    draft ──submit──▶ pending_approval ──approve──▶ approved ──activate──▶ active
      ▲                    │ requires_modification                           │ edit
      └──── (nothing in force) ◀──┴──▶ modified (a version is in force) ◀────┘
    any open status ──terminate──▶ terminated;  a plan with a version in force ──expire──▶ expired

`modified` is a plan whose version in force still binds the family while a newer version is prepared;
`draft` is the same for a plan never activated. Terminated and expired are final.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sop_plans.models import PlanStatus, PlanType, SafetyPlan, SafetyPlanSignature, SignatureDecision, SignerRole
from sop_shared.problems import Conflict


class Action(StrEnum):
    edit = "edit"
    submit = "submit"
    approve = "approve"
    return_for_changes = "return_for_changes"
    activate = "activate"
    terminate = "terminate"
    expire = "expire"
    sign = "sign"
    review = "review"
    check_in = "check_in"
    take_effect = "take_effect"


S = PlanStatus
OPEN = frozenset({S.draft, S.pending_approval, S.approved, S.active, S.modified})
FINAL = frozenset({S.terminated, S.expired})

# (action, from status) -> status after; "preparing" means draft, or modified when a version is in force.
PREPARING = "preparing"
TRANSITIONS: dict[Action, dict[PlanStatus, PlanStatus | str]] = {
    Action.edit: {S.draft: PREPARING, S.approved: PREPARING, S.active: S.modified, S.modified: S.modified},
    Action.submit: {S.draft: S.pending_approval, S.modified: S.pending_approval},
    Action.approve: {S.pending_approval: S.approved},
    Action.return_for_changes: {S.pending_approval: PREPARING},
    Action.activate: {S.approved: S.active},
    Action.terminate: {status: S.terminated for status in OPEN},
    Action.expire: {status: S.expired for status in OPEN},  # only with a version in force, see below
    # An immediate plan signed on the spot by the worker and every caregiver (signed_on_the_spot).
    Action.take_effect: {S.draft: S.active, S.pending_approval: S.active, S.modified: S.active},
}
# An immediate plan in force before the supervisor's approval (`approval_due_at`) still receives her decision.
AWAITING_APPROVAL: dict[Action, dict[PlanStatus, PlanStatus | str]] = {
    Action.approve: {S.active: S.active},
    Action.return_for_changes: {S.active: PREPARING},
}
# Actions that change no status but need the plan to be in one of these.
ALLOWED_IN: dict[Action, frozenset[PlanStatus]] = {
    Action.sign: frozenset({S.draft, S.pending_approval, S.approved, S.active, S.modified}),
    Action.review: frozenset({S.active, S.modified, S.pending_approval, S.approved}),
    Action.check_in: frozenset({S.active, S.modified, S.pending_approval, S.approved}),
}
NEEDS_VERSION_IN_FORCE = frozenset({Action.expire, Action.review, Action.check_in})


class IllegalTransition(Conflict):
    slug, title = "illegal-transition", "Not possible in the plan's current status"


def _refuse(plan: SafetyPlan, action: Action, allowed: frozenset[PlanStatus] | set[PlanStatus]) -> IllegalTransition:
    names = ", ".join(sorted(s.value for s in allowed)) or "no status"
    return IllegalTransition(
        f"a {plan.status.value} plan cannot {action.value.replace('_', ' ')}; that is possible from: {names}",
        plan_status=plan.status.value,
        action=action.value,
    )


def next_status(plan: SafetyPlan, action: Action) -> PlanStatus:
    """The status after `action`, or IllegalTransition (409)."""
    table = TRANSITIONS[action]
    if plan.approval_due_at is not None and action in AWAITING_APPROVAL:
        table = {**table, **AWAITING_APPROVAL[action]}
    if plan.status not in table:
        raise _refuse(plan, action, set(table))
    if action in NEEDS_VERSION_IN_FORCE and plan.in_force_version_number is None:
        raise IllegalTransition(
            f"the plan has no version in force, so it cannot {action.value}",
            plan_status=plan.status.value,
            action=action.value,
        )
    target = table[plan.status]
    if target == PREPARING:
        return S.modified if plan.in_force_version_number is not None else S.draft
    return PlanStatus(target)


def require_allowed(plan: SafetyPlan, action: Action) -> None:
    allowed = ALLOWED_IN[action]
    if plan.status not in allowed:
        raise _refuse(plan, action, allowed)
    if action in NEEDS_VERSION_IN_FORCE and plan.in_force_version_number is None:
        raise IllegalTransition(
            f"the plan has no version in force yet, so there is nothing to {action.value}",
            plan_status=plan.status.value,
            action=action.value,
        )


def in_force(plan: SafetyPlan) -> bool:
    """A version of the plan binds the family now: activated once, and the plan not ended."""
    return plan.in_force_version_number is not None and plan.status not in FINAL


def replaced_on_activation(plan: SafetyPlan, case_plans: Iterable[SafetyPlan]) -> list[SafetyPlan]:
    """At most one plan of each type is in force per case: putting `plan` in force ends the case's other
    plans of the same type that are in force (another type, or a plan never activated, is left alone)."""
    return [
        other
        for other in case_plans
        if other.id != plan.id
        and other.case_id == plan.case_id
        and other.plan_type == plan.plan_type
        and in_force(other)
    ]


def starts_later(effective_from: datetime, now: datetime) -> bool:
    """A plan whose start is later than now is `approved`, not `active`, until it starts: activating it
    records the start instead of putting it in force."""
    return effective_from > now


def due_to_start(plan: SafetyPlan, now: datetime) -> bool:
    """An approved plan activated ahead of its start whose start has arrived: it comes into force now."""
    return plan.status == S.approved and plan.starts_at is not None and plan.starts_at <= now


def signed_on_the_spot(
    plan_type: PlanType,
    caregiver_ids: Iterable[uuid.UUID],
    signatures: Iterable[SafetyPlanSignature],
    version_number: int,
) -> bool:
    """An immediate safety plan takes effect when the worker and every caregiver named in it have signed this
    version (each caregiver's latest sign-off counts; a refusal holds it back), without waiting for the
    supervisor's approval, which must follow."""
    if plan_type != PlanType.immediate:
        return False
    on_version = sorted((s for s in signatures if s.version_number == version_number), key=lambda s: s.id)
    latest = {s.participant_id: s.decision for s in on_version if s.participant_id is not None}
    caregivers = list(caregiver_ids)
    worker_signed = any(
        s.signer_role == SignerRole.worker and s.decision == SignatureDecision.signed for s in on_version
    )
    return worker_signed and bool(caregivers) and all(latest.get(c) == SignatureDecision.signed for c in caregivers)
