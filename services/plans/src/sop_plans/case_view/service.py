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

from sqlalchemy import Integer, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.alerts.service import MAX_PLANS, RECENT, alerts_of
from sop_plans.case_view.rules import ENDED, binds_now, plan_to_show, shared_with, version_for, version_shown
from sop_plans.case_view.schemas import CaseGlance, PlanInForceSummary
from sop_plans.models import (
    CaseStaff,
    CheckIn,
    KnownTriggers,
    NextStep,
    PlanStatus,
    SafetyDecision,
    SafetyPlan,
    SafetyPlanApproval,
    SafetyPlanSignature,
    SafetyPlanVersion,
    Translation,
)
from sop_plans.next_steps.service import OPEN_STATUSES, next_step_out
from sop_plans.plan_policy import PlanPolicy
from sop_plans.practice.rules import AlertsOf
from sop_plans.practice.service import (
    LIVE,
    MAX_OPEN,
    answered_decisions,
    broken_plans,
    broken_rules_since,
    practice_alerts,
    practice_alerts_of,
    staff_of,
)
from sop_plans.safety_plans.service import (
    RECENT_CHECK_INS,
    PlanExtras,
    bring_plans_to_now,
    due_now,
    plan_alerts,
    plan_out,
)
from sop_plans.schemas import Alert, NextStepOut, SafetyPlanOut
from sop_plans.translations.sources import NEXT_STEP_LANGUAGE, plan_words, rule_words
from sop_shared.db import begin_writing
from sop_shared.policy import Audience
from sop_shared.translations_api import fields_carried
from sop_shared.wide_union import Record, WideUnion, read_as, sorted_by, table_of

NEWEST_PLANS = 20
NEXT_STEPS = 50
OPEN_PLANS = 50  # a bound on the open plans weighed for "in force" (a case has one or two)


@dataclass
class CaseViewParts:
    safety_plan: SafetyPlanOut | None
    plans: list[SafetyPlanOut]
    next_steps: list[NextStepOut]
    alerts: list[Alert]


def _case_plans() -> Any:
    return select(plan_t.c.id).where(plan_t.c.case_id == _CASE)


_CASE = bindparam("case_id", type_=table_of(SafetyPlan).c.case_id.type)
plan_t, version_t = table_of(SafetyPlan), table_of(SafetyPlanVersion)
signature_t, approval_t = table_of(SafetyPlanSignature), table_of(SafetyPlanApproval)
check_in_t, step_t = table_of(CheckIn), table_of(NextStep)
known_t, translation_t = table_of(KnownTriggers), table_of(Translation)
decision_t, staff_t = table_of(SafetyDecision), table_of(CaseStaff)
_ranked = (
    select(
        *check_in_t.c,
        func.row_number()
        .over(partition_by=check_in_t.c.plan_id, order_by=(check_in_t.c.occurred_at.desc(), check_in_t.c.id.desc()))
        .label("rank"),
    )
    .where(check_in_t.c.plan_id.in_(_case_plans()))
    .subquery()
)
# Everything the case view shows, in one statement: the case's plans, their current and in-force versions, their
# signatures (not the drawn images), approvals, newest check-ins and check-in counts, the case's known triggers,
# next steps and translations; and what the practice rules' alerts read (the case's open safety decisions, its
# check-ins recent enough to raise a broken-rule alert, its staff). The limits of the reads it replaced (the
# newest plans, the open plans, the next steps, the alerts' 500) are applied to the rows in memory: a case has a
# handful of each.
VIEW = WideUnion(
    {
        "plan": select(*plan_t.c).where(plan_t.c.case_id == _CASE),
        "version": select(*version_t.c)
        .select_from(version_t.join(plan_t, plan_t.c.id == version_t.c.plan_id))
        .where(
            plan_t.c.case_id == _CASE,
            or_(
                version_t.c.number == plan_t.c.current_version_number,
                version_t.c.number == plan_t.c.in_force_version_number,
            ),
        ),
        "signature": select(*(c for c in signature_t.c if c.key != "image_png")).where(
            signature_t.c.plan_id.in_(_case_plans())
        ),
        "approval": select(*approval_t.c).where(approval_t.c.plan_id.in_(_case_plans())),
        "check_in": select(*(c for c in _ranked.c if c.key != "rank")).where(
            _ranked.c.rank <= bindparam("check_ins", type_=Integer)
        ),
        "check_in_count": select(check_in_t.c.plan_id, func.count().label("count"))
        .where(check_in_t.c.plan_id.in_(_case_plans()))
        .group_by(check_in_t.c.plan_id),
        "known": select(*known_t.c).where(known_t.c.case_id == _CASE),
        "step": select(*step_t.c).where(step_t.c.case_id == _CASE),
        "translation": select(*translation_t.c).where(translation_t.c.case_id == _CASE),
        "decision": select(*decision_t.c).where(decision_t.c.case_id == _CASE, decision_t.c.cleared_at.is_(None)),
        "recent_check_in": select(*check_in_t.c).where(
            check_in_t.c.case_id == _CASE,
            check_in_t.c.occurred_at >= bindparam("since", type_=check_in_t.c.occurred_at.type),
        ),
        "staff": select(*staff_t.c).where(staff_t.c.case_id == _CASE),
    }
)


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
    plan as its version in force reads), in one statement (`VIEW`), read as rows, not ORM entities.

    Every read of plans brings them to now first (`bring_plans_to_now`: a plan whose start has arrived comes
    into force, one past its expiry expires), and the practice rules' alerts clear the open decisions a plan in
    force answers. Both may write: the read weighs them on the rows it read (`due_now`, `answered_decisions`)
    and, when either has something to do, takes their writing path in this transaction (a read session begins
    one: `begin_writing`), then reads again."""
    params = {"case_id": case_id, "check_ins": check_ins, "since": broken_rules_since(now, policy)}
    found = await VIEW.read(session, params)
    plans: list[Any] = [Record(r, SafetyPlan) for r in sorted_by(found["plan"], "id")]
    practice = _practice_alerts(found, plans, case_id, now=now, policy=policy)
    if practice is None:
        await begin_writing(session)  # a read session (the case-view GET) becomes a unit of work here
        await bring_plans_to_now(session, now=now, policy=policy, case_id=case_id)
        practice = await practice_alerts(session, now, policy, AlertsOf(case_id))
        await session.flush()
        found = await VIEW.read(session, params)
        plans = [Record(r, SafetyPlan) for r in sorted_by(found["plan"], "id")]
    versions: dict[tuple[uuid.UUID, int], Any] = {
        (v["plan_id"], v["number"]): Record(v, SafetyPlanVersion) for v in found["version"]
    }
    today = now.date()
    steps: list[Any] = sorted(
        (Record(s, NextStep) for s in found["step"]),
        key=lambda s: (0 if s.status in OPEN_STATUSES else 1, s.due_on, s.id),
    )
    alerts = alerts_of(
        [p for p in plans if p.status in RECENT][:MAX_PLANS],
        [s for s in sorted(steps, key=lambda s: s.id) if s.status in OPEN_STATUSES and s.due_on < today][:MAX_PLANS],
        practice,
        now=now,
        policy=policy,
    )
    newest = [
        (p, versions[(p.id, p.current_version_number)])
        for p in reversed(plans)
        if (p.id, p.current_version_number) in versions  # joined to its current version
    ][:NEWEST_PLANS]
    open_plans = [p for p in reversed(plans) if p.status not in ENDED][:OPEN_PLANS]
    shown_plans = [(p, v) for p, v in newest if shared_with(p, audience)]
    chosen = plan_to_show(p for p in open_plans if shared_with(p, audience))
    shown = versions.get((chosen.id, version_shown(chosen))) if chosen is not None else None
    extras = _extras(found, plans, versions)
    parts = CaseViewParts(
        safety_plan=plan_out(chosen, shown, extras, now=now, policy=policy)
        if chosen is not None and shown is not None
        else None,
        plans=[
            plan_out(p, versions.get((p.id, version_for(p, audience)), v), extras, now=now, policy=policy)
            for p, v in shown_plans
        ],
        next_steps=[next_step_out(s, today) for s in steps[:NEXT_STEPS]],
        alerts=alerts,
    )
    translations: dict[uuid.UUID, list[Any]] = {}
    for t in sorted_by(found["translation"], "id"):
        translations.setdefault(t["record_id"], []).append(Record(t))
    add_translations(parts, translations)
    return parts


def _practice_alerts(
    found: dict[str, list[dict[str, Any]]],
    plans: Sequence[Any],
    case_id: uuid.UUID,
    *,
    now: datetime,
    policy: PlanPolicy,
) -> list[Alert] | None:
    """`practice_alerts` of the case over the rows read, or None when the read must write first: a plan is due to
    start or expire, or an open decision is answered by a plan in force (or a check-in names a plan the rows do
    not hold, which only the alerts' own reads would find)."""
    if any(due_now(p, now) for p in plans):
        return None
    decisions = [read_as(SafetyDecision, r) for r in sorted_by(found["decision"], "sdm_assessment_id")][:MAX_OPEN]
    if answered_decisions(decisions, [p for p in plans if p.status in LIVE]):
        return None
    check_ins = [read_as(CheckIn, r) for r in sorted_by(found["recent_check_in"], "occurred_at", "id")][:MAX_OPEN]
    by_id = {p.id: p for p in plans}
    broken = broken_plans(check_ins)
    if not broken <= by_id.keys():
        return None
    staff = {row["case_id"]: staff_of(read_as(CaseStaff, row)) for row in found["staff"]}
    return practice_alerts_of(
        decisions,
        check_ins,
        {plan_id: by_id[plan_id] for plan_id in broken},
        staff,
        now=now,
        policy=policy,
        whose=AlertsOf(case_id),
    )


def _extras(found: dict[str, list[dict[str, Any]]], plans: Sequence[Any], versions: Mapping[Any, Any]) -> PlanExtras:
    """`load_extras` over the rows read."""
    extras = PlanExtras()
    for row in sorted_by(found["signature"], "id"):
        extras.signatures.setdefault(row["plan_id"], []).append(read_as(SafetyPlanSignature, row))
    for row in sorted_by(found["approval"], "id"):
        extras.approvals.setdefault(row["plan_id"], []).append(read_as(SafetyPlanApproval, row))
    for row in sorted(found["check_in"], key=lambda r: (r["occurred_at"], r["id"]), reverse=True):
        extras.check_ins.setdefault(row["plan_id"], []).append(read_as(CheckIn, row))
    extras.check_in_counts = {row["plan_id"]: row["count"] for row in found["check_in_count"]}
    extras.in_force_hash = {
        p.id: versions[(p.id, p.in_force_version_number)].content_hash
        for p in plans
        if p.in_force_version_number is not None and (p.id, p.in_force_version_number) in versions
    }
    for row in sorted_by(found["known"], "trauma_history_id"):
        if row["trigger_ids"]:
            extras.known_triggers.setdefault(row["case_id"], []).append(read_as(KnownTriggers, row))
    return extras


def add_translations(parts: CaseViewParts, translations: Mapping[uuid.UUID, list[Any]]) -> None:
    """Put each plan's, rule's and next step's current translations beside its words (the words stay). A record
    nobody translated carries none (its words are not even looked at)."""
    for plan in [*([parts.safety_plan] if parts.safety_plan else []), *parts.plans]:
        version = plan.current_version_number
        found = translations.get(plan.id)
        plan.translations = (
            fields_carried(found, plan_words(plan.model_dump()), plan.language, version) if found else []
        )
        for rule in plan.rules:
            found = translations.get(rule.id)
            rule.translations = (
                fields_carried(found, rule_words(rule.model_dump()), plan.language, version) if found else []
            )
    for step in parts.next_steps:
        found = translations.get(step.id)
        step.translations = (
            fields_carried(found, {"action": step.action}, NEXT_STEP_LANGUAGE, step.version) if found else []
        )


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
