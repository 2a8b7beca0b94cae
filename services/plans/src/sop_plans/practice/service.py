"""The practice rules' records and alerts: the consumers of the assessment's and the network's events (each
applied once per event id, in one transaction with that record, by `sop_shared.service.EventConsumer`), and
the alerts computed at read time with the others (`sop_plans.alerts.service.alerts_for`).

Every consumer is idempotent by content too: a decision is keyed by its assessment, case staff by the case
version, instrument codes by instrument key and version — applying an event twice changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.models import CaseStaff, CheckIn, PlanStatus, SafetyDecision, SafetyPlan, SdmThreatCodes
from sop_plans.plan_policy import PlanPolicy
from sop_plans.practice import rules
from sop_plans.schemas import Alert
from sop_shared.events import Event
from sop_shared.service import EventConsumer
from sop_shared.threat_codes import INSTRUMENTS_PUBLISHED

SDM_COMPLETED = "sop.assessment.sdm_assessment.completed"
CASE_EVENTS = ("sop.network.case.created", "sop.network.case.updated")
MAX_OPEN = 500
LIVE = [PlanStatus.active, PlanStatus.modified, PlanStatus.pending_approval, PlanStatus.approved]

log = structlog.get_logger("sop.plans.practice")


async def _case_plans(session: AsyncSession, case_ids: set[uuid.UUID]) -> list[SafetyPlan]:
    if not case_ids:
        return []
    query = select(SafetyPlan).where(col(SafetyPlan.case_id).in_(case_ids), col(SafetyPlan.status).in_(LIVE))
    return list((await session.execute(query)).scalars())


async def apply_sdm_completed(session: AsyncSession, event: Event, *, policy: PlanPolicy) -> SafetyDecision | None:
    """Record a completed SDM assessment's safety decision; a later one on the case supersedes earlier ones."""
    data = event.data
    decision = rules.safety_decision_of(data.get("decisions") or {})
    if decision is None:
        return None
    assessment_id = uuid.UUID(str(data["sdm_assessment_id"]))
    if await session.get(SafetyDecision, assessment_id) is not None:
        return None  # this assessment's decision is recorded already
    case_id = uuid.UUID(str(data["case_id"]))
    decided_at = datetime.fromisoformat(data["completed_at"]) if data.get("completed_at") else event.occurred_at
    others = list(
        (await session.execute(select(SafetyDecision).where(col(SafetyDecision.case_id) == case_id))).scalars()
    )
    row = SafetyDecision(
        sdm_assessment_id=assessment_id,
        case_id=case_id,
        decision=decision,
        decided_at=decided_at,
        decided_by=str(data.get("completed_by") or "assessment"),
        source_event_id=event.id,
    )
    if decision == rules.CONDITIONALLY_SAFE:
        hours = policy.in_force_on(decided_at).conditionally_safe_plan_within_hours
        row.plan_due_at = rules.plan_due_at(decided_at, hours)
    if rules.superseded(decided_at, (o.decided_at for o in others)):
        row.cleared_at, row.cleared_reason = decided_at, "superseded"
    else:
        for other in others:
            if other.cleared_at is None:
                other.cleared_at, other.cleared_reason = decided_at, "superseded"
        plan = rules.answering_plan(await _case_plans(session, {case_id}))
        if decision == rules.CONDITIONALLY_SAFE and plan is not None:
            row.cleared_at, row.cleared_reason, row.cleared_by_plan_id = decided_at, "plan_in_force", plan.id
    session.add(row)
    await session.flush()
    return row


async def apply_case_staff(session: AsyncSession, event: Event) -> None:
    staff = rules.staff_from_event(event.data)
    if staff is None or not event.data.get("case_id"):
        return
    case_id, version = uuid.UUID(str(event.data["case_id"])), int(event.data.get("version") or 0)
    row = await session.get(CaseStaff, case_id)
    if row is None:
        session.add(
            CaseStaff(
                case_id=case_id,
                workers=list(staff.workers),
                supervisors=list(staff.supervisors),
                case_version=version,
            )
        )
    elif version > row.case_version:
        row.workers, row.supervisors, row.case_version = list(staff.workers), list(staff.supervisors), version
    await session.flush()


async def apply_instruments(session: AsyncSession, event: Event) -> None:
    for item in event.data.get("instruments") or []:
        key, version = str(item["key"]), str(item["version"])
        codes = sorted({str(c) for c in item.get("threat_codes") or []})
        row = await session.get(SdmThreatCodes, (key, version))
        if row is None:
            session.add(
                SdmThreatCodes(instrument_key=key, instrument_version=version, codes=codes, sha256=item["sha256"])
            )
        elif row.sha256 != item["sha256"]:
            row.codes, row.sha256 = codes, item["sha256"]
    await session.flush()


async def known_threat_codes(session: AsyncSession) -> set[str]:
    codes: set[str] = set()
    for row in (await session.execute(select(SdmThreatCodes))).scalars():
        codes.update(row.codes)
    return codes


async def _on_sdm_completed(app: Any, session: AsyncSession, event: Event) -> None:
    await apply_sdm_completed(session, event, policy=app.state.plan_policy)


async def _on_case(app: Any, session: AsyncSession, event: Event) -> None:
    await apply_case_staff(session, event)


async def _on_instruments(app: Any, session: AsyncSession, event: Event) -> None:
    await apply_instruments(session, event)


CONSUMERS = (
    EventConsumer(SDM_COMPLETED, "plans-practice-safety-decision", _on_sdm_completed),
    EventConsumer(INSTRUMENTS_PUBLISHED, "plans-practice-threat-codes", _on_instruments),
    *(
        EventConsumer(subject, f"plans-practice-case-staff-{subject.rsplit('.', 1)[-1]}", _on_case)
        for subject in CASE_EVENTS
    ),
)


async def practice_alerts(
    session: AsyncSession, now: datetime, policy: PlanPolicy, whose: rules.AlertsOf
) -> list[Alert]:
    """The conditionally-safe-without-a-plan and broken-rule alerts, for a case or one person's own list.
    Open decisions whose case has a plan in force now are cleared first (and stay cleared)."""
    cases = whose.cases()
    open_query = select(SafetyDecision).where(col(SafetyDecision.cleared_at).is_(None))
    if cases is not None:
        open_query = open_query.where(col(SafetyDecision.case_id).in_(cases))
    open_query = open_query.order_by(col(SafetyDecision.sdm_assessment_id)).limit(MAX_OPEN)
    decisions = list((await session.execute(open_query)).scalars())
    answered = answered_decisions(decisions, await _case_plans(session, {d.case_id for d in decisions}))
    for decision, answering in answered:
        decision.cleared_at, decision.cleared_reason = now, "plan_in_force"
        decision.cleared_by_plan_id = answering.id
    if answered:
        await session.flush()
    decisions = [d for d in decisions if d.cleared_at is None]

    check_ins: list[CheckIn] = []
    plans: dict[uuid.UUID, SafetyPlan] = {}
    if whose.supervisor is None:  # a broken rule is the worker's to act on at once
        recent = select(CheckIn).where(col(CheckIn.occurred_at) >= broken_rules_since(now, policy))
        if cases is not None:
            recent = recent.where(col(CheckIn.case_id).in_(cases))
        recent = recent.order_by(col(CheckIn.occurred_at), col(CheckIn.id)).limit(MAX_OPEN)
        check_ins = list((await session.execute(recent)).scalars())
        broken_plan_ids = broken_plans(check_ins)
        if broken_plan_ids:
            query = select(SafetyPlan).where(col(SafetyPlan.id).in_(broken_plan_ids))
            plans = {p.id: p for p in (await session.execute(query)).scalars()}

    case_ids = {d.case_id for d in decisions} | {p.case_id for p in plans.values()}
    staff_rows = (
        list((await session.execute(select(CaseStaff).where(col(CaseStaff.case_id).in_(case_ids)))).scalars())
        if case_ids
        else []
    )
    staff = {s.case_id: staff_of(s) for s in staff_rows}
    return practice_alerts_of(decisions, check_ins, plans, staff, now=now, policy=policy, whose=whose)


def broken_rules_since(now: datetime, policy: PlanPolicy) -> datetime:
    """The oldest check-in that may still raise a broken-rule alert."""
    return now - timedelta(days=policy.in_force_on(now).broken_rule_alert_days)


def broken_plans(check_ins: Iterable[CheckIn]) -> set[uuid.UUID]:
    """The plans whose rules these check-ins say were broken (their titles and owners are the alerts')."""
    return {c.plan_id for c in check_ins if not c.kept}


def answered_decisions(
    decisions: Iterable[SafetyDecision], live_plans: Iterable[SafetyPlan]
) -> list[tuple[SafetyDecision, SafetyPlan]]:
    """The open decisions a plan in force now answers (`live_plans`: the cases' plans in a `LIVE` status), each
    with its plan: the alerts' read clears them before it says anything."""
    by_case: dict[uuid.UUID, list[SafetyPlan]] = {}
    for live in live_plans:
        by_case.setdefault(live.case_id, []).append(live)
    return [
        (decision, answering)
        for decision in decisions
        if (answering := rules.answering_plan(by_case.get(decision.case_id, []))) is not None
    ]


def staff_of(row: CaseStaff) -> rules.Staff:
    return rules.Staff(tuple(row.workers), tuple(row.supervisors))


def practice_alerts_of(
    decisions: Sequence[SafetyDecision],
    check_ins: Sequence[CheckIn],
    plans: Mapping[uuid.UUID, SafetyPlan],
    staff: Mapping[uuid.UUID, rules.Staff],
    *,
    now: datetime,
    policy: PlanPolicy,
    whose: rules.AlertsOf,
) -> list[Alert]:
    """The practice alerts of what was read: the open decisions (none left to clear), the recent check-ins
    (oldest first), the plans of the broken ones and the cases' staff, addressed as `whose` asks."""
    alerts = [
        a
        for d in decisions
        if (a := rules.decision_alert(d, now=now, staff=staff.get(d.case_id, rules.Staff()))) is not None
    ]
    alerts += rules.broken_rule_alerts(check_ins, plans, now=now, days=policy.in_force_on(now).broken_rule_alert_days)
    return [
        a
        for a in alerts
        if rules.addressed_to(a, staff.get(a.case_id, rules.Staff()), worker=whose.worker, supervisor=whose.supervisor)
    ]
