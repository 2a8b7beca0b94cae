"""The case-view reads: the plans part of one case's view, and a caseload page's glance at many cases.

Both cost a fixed handful of queries, whatever the number of plans or cases: plans, their versions and
what is shown with them are read for all at once; the rules (rules.py) and the alerts are computed in memory.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.alerts.service import alerts_for
from sop_plans.case_view.rules import ENDED, binds_now, plan_to_show, shared_with, version_for, version_shown
from sop_plans.case_view.schemas import CaseGlance, PlanInForceSummary
from sop_plans.models import NextStep, PlanStatus, SafetyPlan, SafetyPlanVersion
from sop_plans.next_steps.service import OPEN_STATUSES, next_step_out
from sop_plans.plan_policy import PlanPolicy
from sop_plans.practice.rules import AlertsOf
from sop_plans.practice.service import practice_alerts
from sop_plans.safety_plans.service import (
    RECENT_CHECK_INS,
    bring_plans_to_now,
    case_plans_with_current_version,
    get_version,
    load_extras,
    plan_alerts,
    plan_out,
)
from sop_plans.schemas import Alert, NextStepOut, SafetyPlanOut
from sop_plans.translations.service import TRANSLATIONS
from sop_plans.translations.sources import NEXT_STEP_LANGUAGE, plan_words, rule_words
from sop_shared.policy import Audience
from sop_shared.translations_api import fields_carried

NEWEST_PLANS = 20
NEXT_STEPS = 50
OPEN_PLANS = 50  # a bound on the open plans weighed for "in force" (a case has one or two)


@dataclass
class CaseViewParts:
    safety_plan: SafetyPlanOut | None
    plans: list[SafetyPlanOut]
    next_steps: list[NextStepOut]
    alerts: list[Alert]


async def read_case_view(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    now: datetime,
    policy: PlanPolicy,
    check_ins: int = RECENT_CHECK_INS,
    audience: Audience = Audience.staff,
) -> CaseViewParts:
    """The plan in force (as its version in force reads), the newest plans, the next steps and the alerts
    of one case, as `audience` may read them (outside the agency: no plan that was never submitted, and each
    plan as its version in force reads). Plans past their expiry are expired first (by the alerts read), as
    every read does."""
    alerts = await alerts_for(session, now=now, policy=policy, case_id=case_id)
    newest = (
        await session.execute(
            case_plans_with_current_version(case_id).order_by(col(SafetyPlan.id).desc()).limit(NEWEST_PLANS)
        )
    ).all()
    open_plans = (
        (
            await session.execute(
                select(SafetyPlan)
                .where(col(SafetyPlan.case_id) == case_id, col(SafetyPlan.status).not_in(ENDED))
                .order_by(col(SafetyPlan.id).desc())
                .limit(OPEN_PLANS)
            )
        )
        .scalars()
        .all()
    )
    shown_plans = [(p, v) for p, v in newest if shared_with(p, audience)]
    chosen = plan_to_show(p for p in open_plans if shared_with(p, audience))
    shown: SafetyPlanVersion | None = None
    if chosen is not None:
        number = version_shown(chosen)
        shown = next(
            (v for p, v in shown_plans if p.id == chosen.id and v.number == number), None
        ) or await get_version(session, chosen.id, number)
    plans = {p.id: p for p, _ in shown_plans}
    if chosen is not None:
        plans[chosen.id] = chosen
    extras = await load_extras(session, list(plans.values()), check_ins=check_ins)
    steps = (
        (
            await session.execute(
                select(NextStep)
                .where(col(NextStep.case_id) == case_id)
                .order_by(
                    case((col(NextStep.status).in_(OPEN_STATUSES), 0), else_=1), col(NextStep.due_on), col(NextStep.id)
                )
                .limit(NEXT_STEPS)
            )
        )
        .scalars()
        .all()
    )
    today = now.date()
    parts = CaseViewParts(
        safety_plan=plan_out(chosen, shown, extras, now=now, policy=policy)
        if chosen is not None and shown is not None
        else None,
        plans=[
            plan_out(p, await _version_for(session, p, v, audience), extras, now=now, policy=policy)
            for p, v in shown_plans
        ],
        next_steps=[next_step_out(s, today) for s in steps],
        alerts=alerts,
    )
    add_translations(parts, await TRANSLATIONS.of_case(session, case_id))
    return parts


def add_translations(parts: CaseViewParts, translations: Mapping[uuid.UUID, list[Any]]) -> None:
    """Put each plan's, rule's and next step's current translations beside its words (the words stay)."""
    for plan in [*([parts.safety_plan] if parts.safety_plan else []), *parts.plans]:
        version = plan.current_version_number
        plan.translations = fields_carried(
            translations.get(plan.id, []), plan_words(plan.model_dump()), plan.language, version
        )
        for rule in plan.rules:
            rule.translations = fields_carried(
                translations.get(rule.id, []), rule_words(rule.model_dump()), plan.language, version
            )
    for step in parts.next_steps:
        step.translations = fields_carried(
            translations.get(step.id, []), {"action": step.action}, NEXT_STEP_LANGUAGE, step.version
        )


async def _version_for(
    session: AsyncSession, plan: SafetyPlan, current: SafetyPlanVersion, audience: Audience
) -> SafetyPlanVersion:
    number = version_for(plan, audience)
    if number == current.number:
        return current
    return await get_version(session, plan.id, number) or current


async def glance_at_cases(
    session: AsyncSession, *, case_ids: Sequence[uuid.UUID], now: datetime, policy: PlanPolicy
) -> list[CaseGlance]:
    """For each case, in the order given: the plan in force in a line, how many alerts it has and how many
    next steps are overdue. Counts the same alerts as the case's alert list, without a query per case."""
    await bring_plans_to_now(session, now=now, policy=policy, case_ids=case_ids)
    # Terminated plans raise no alert and are never in force; expired ones may still raise `plan_expired`.
    plans: dict[uuid.UUID, list[SafetyPlan]] = defaultdict(list)
    for plan in (
        await session.execute(
            select(SafetyPlan)
            .where(col(SafetyPlan.case_id).in_(case_ids), col(SafetyPlan.status) != PlanStatus.terminated)
            .order_by(col(SafetyPlan.id))
        )
    ).scalars():
        plans[plan.case_id].append(plan)
    overdue = dict(
        (
            await session.execute(
                select(col(NextStep.case_id), func.count())
                .where(
                    col(NextStep.case_id).in_(case_ids),
                    col(NextStep.status).in_(OPEN_STATUSES),
                    col(NextStep.due_on) < now.date(),
                )
                .group_by(col(NextStep.case_id))
            )
        ).all()
    )
    # The practice rules' alerts (conditionally safe without a plan, a rule said to be broken) count as well:
    # the same ones the case's alert list gives, for the whole page at once.
    practice = Counter(
        a.case_id for a in await practice_alerts(session, now, policy, AlertsOf(case_ids=frozenset(case_ids)))
    )
    glances = []
    for case_id in case_ids:
        # Only a plan that binds the family counts as in force on a caseload: a draft or a plan awaiting
        # approval protects no one yet, and the page must not suggest it does.
        chosen = plan_to_show(plans[case_id])
        if chosen is not None and not binds_now(chosen):
            chosen = None
        glances.append(
            CaseGlance(
                case_id=case_id,
                plan_in_force=PlanInForceSummary(
                    id=chosen.id,
                    status=chosen.status,
                    plan_type=chosen.plan_type,
                    version_number=version_shown(chosen),
                    effective_from=chosen.effective_from,
                    expires_at=chosen.expires_at,
                )
                if chosen is not None
                else None,
                open_alerts=sum(len(plan_alerts(p, now=now, policy=policy)) for p in plans[case_id])
                + overdue.get(case_id, 0)
                + practice[case_id],
                overdue_next_steps=overdue.get(case_id, 0),
            )
        )
    return glances
