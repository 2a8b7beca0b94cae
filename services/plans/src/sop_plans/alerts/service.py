"""Expiry, review, approval and overdue alerts, and the practice rules' alerts (sop_plans.practice): per case,
per worker and per supervisor.

Plans do not know case assignments (the network service owns them). A worker's alerts are those of the
plans they own (`owner`: who created the plan) and the next steps they created; a supervisor's are those of
the plans they were asked to decide on or decided last (`supervisor`). See docs/plans.md."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.models import NextStep, PlanStatus, SafetyPlan
from sop_plans.next_steps.service import OPEN_STATUSES
from sop_plans.plan_policy import PlanPolicy
from sop_plans.practice.rules import AlertsOf
from sop_plans.practice.service import practice_alerts
from sop_plans.safety_plans.service import bring_plans_to_now, plan_alerts
from sop_plans.schemas import Alert, AlertKind

MAX_PLANS = 500
# the plans that may raise an alert (a terminated plan never does)
RECENT = (
    PlanStatus.draft,
    PlanStatus.pending_approval,
    PlanStatus.approved,
    PlanStatus.active,
    PlanStatus.modified,
    PlanStatus.expired,
)


def _next_step_alert(step: NextStep) -> Alert:
    return Alert(
        kind=AlertKind.next_step_overdue,
        case_id=step.case_id,
        next_step_id=step.id,
        title=step.action,
        due_at=datetime.combine(step.due_on, time.min, tzinfo=UTC),
        owner=step.created_by,
        message=f"Due {step.due_on.isoformat()} ({step.owner_name}) and not done.",
    )


def _ordered(alerts: list[Alert]) -> list[Alert]:
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(alerts, key=lambda a: (a.due_at or far, a.kind.value))


async def alerts_for(
    session: AsyncSession,
    *,
    now: datetime,
    policy: PlanPolicy,
    case_id: uuid.UUID | None = None,
    worker: str | None = None,
    supervisor: str | None = None,
) -> list[Alert]:
    await bring_plans_to_now(session, now=now, policy=policy, case_id=case_id)
    plans = select(SafetyPlan).where(col(SafetyPlan.status).in_(RECENT))
    steps = select(NextStep).where(col(NextStep.status).in_(OPEN_STATUSES), col(NextStep.due_on) < now.date())
    if case_id is not None:
        plans, steps = plans.where(col(SafetyPlan.case_id) == case_id), steps.where(col(NextStep.case_id) == case_id)
    if worker is not None:
        plans, steps = plans.where(col(SafetyPlan.owner) == worker), steps.where(col(NextStep.created_by) == worker)
    if supervisor is not None:
        plans = plans.where(col(SafetyPlan.supervisor) == supervisor)
    return alerts_of(
        (await session.execute(plans.order_by(col(SafetyPlan.id)).limit(MAX_PLANS))).scalars(),
        (await session.execute(steps.limit(MAX_PLANS))).scalars() if supervisor is None else (),
        # The practice rules across services: conditionally safe without a plan, a rule said to be broken.
        await practice_alerts(session, now, policy, AlertsOf(case_id, worker, supervisor)),
        now=now,
        policy=policy,
        worker=worker,
    )


def alerts_of(
    plans: Iterable[SafetyPlan],
    overdue_steps: Iterable[NextStep],
    practice: list[Alert],
    *,
    now: datetime,
    policy: PlanPolicy,
    worker: str | None = None,
) -> list[Alert]:
    """The alerts of these plans (the recent ones, oldest first), overdue next steps and practice rules, soonest
    first."""
    alerts: list[Alert] = []
    for plan in plans:
        for alert in plan_alerts(plan, now=now, policy=policy):
            # A worker is not asked to approve; a supervisor's list is about their decisions and their plans.
            if worker is not None and alert.kind == AlertKind.approval_pending:
                continue
            alerts.append(alert)
    alerts += [_next_step_alert(s) for s in overdue_steps]
    alerts += practice
    return _ordered(alerts)
