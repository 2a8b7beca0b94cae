"""Monitoring check-ins: the evidence, over time, that the plan's rules are kept."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.models import CheckIn, SafetyPlan, platform
from sop_plans.safety_plans.lifecycle import Action, require_allowed
from sop_plans.safety_plans.service import get_version
from sop_plans.schemas import CheckInIn, CheckInRecord, PlanContent, WeekRecord
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.problems import InvalidInput

RECORDED_SUBJECT = "sop.plans.check_in.recorded"
# A phone's clock may run a little ahead of the server's.
FUTURE_TOLERANCE = timedelta(minutes=5)


async def record_check_in(
    session: AsyncSession, plan: SafetyPlan, body: CheckInIn, *, by: str, now: datetime
) -> CheckIn:
    """A check-in on a rule of the version in force, seen while it was in force."""
    require_allowed(plan, Action.check_in)
    number = plan.in_force_version_number or 0
    version = await get_version(session, plan.id, number)
    content = PlanContent.model_validate(version.content if version else {})
    errors: list[dict[str, str]] = []
    if body.rule_id not in {r.id for r in content.rules}:
        errors.append({"field": "rule_id", "message": f"not a rule of version {number}, the version in force"})
    occurred_at = body.occurred_at or now
    if occurred_at > now + FUTURE_TOLERANCE:
        errors.append({"field": "occurred_at", "message": "a check-in records something already seen"})
    elif occurred_at < content.effective_from:
        errors.append({"field": "occurred_at", "message": "before the version in force took effect"})
    if errors:
        raise InvalidInput(errors)
    check_in = CheckIn(
        plan_id=plan.id,
        case_id=plan.case_id,
        version_number=number,
        rule_id=body.rule_id,
        occurred_at=occurred_at,
        reported_by_name=body.reported_by.name,
        reported_by_person_id=body.reported_by.person_id,
        kept=body.kept,
        note=body.note,
        recorded_by=by,
        recorded_at=now,
    )
    session.add(check_in)
    await session.flush()
    await emit(
        session,
        platform,
        subject=RECORDED_SUBJECT,
        case_id=plan.case_id,
        data={
            "check_in_id": str(check_in.id),
            "plan_id": str(plan.id),
            "case_id": str(plan.case_id),
            "version_number": number,
            "rule_id": str(body.rule_id),
            "kept": body.kept,
            "occurred_at": occurred_at.isoformat(),
        },
    )
    return check_in


async def list_check_ins(
    session: AsyncSession, *, plan_id: uuid.UUID, rule_id: uuid.UUID | None, kept: bool | None, page: PageRequest
) -> tuple[list[CheckIn], str | None]:
    query = select(CheckIn).where(col(CheckIn.plan_id) == plan_id)
    if rule_id is not None:
        query = query.where(col(CheckIn.rule_id) == rule_id)
    if kept is not None:
        query = query.where(col(CheckIn.kept) == kept)
    rows = list((await session.execute(page.apply(query, col(CheckIn.id)))).scalars())
    return page.page(rows)


async def weekly_record(session: AsyncSession, plan: SafetyPlan) -> CheckInRecord:
    """Kept and broken rules per ISO week (Monday first), from the first check-in to the last."""
    rows = (
        await session.execute(
            select(col(CheckIn.occurred_at), col(CheckIn.rule_id), col(CheckIn.kept))
            .where(col(CheckIn.plan_id) == plan.id)
            .order_by(col(CheckIn.occurred_at))
        )
    ).all()
    weeks: dict[date, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: {"kept": 0, "broken": 0}))
    for occurred_at, rule_id, kept in rows:
        monday = occurred_at.date() - timedelta(days=occurred_at.weekday())
        weeks[monday][str(rule_id)]["kept" if kept else "broken"] += 1
    records = []
    for monday in sorted(weeks):
        per_rule = {rule: dict(counts) for rule, counts in weeks[monday].items()}
        year, week, _ = monday.isocalendar()
        records.append(
            WeekRecord(
                week=f"{year}-W{week:02d}",
                starts_on=monday,
                kept=sum(c["kept"] for c in per_rule.values()),
                broken=sum(c["broken"] for c in per_rule.values()),
                rules=per_rule,
            )
        )
    return CheckInRecord(
        plan_id=plan.id,
        weeks=records,
        total_kept=sum(w.kept for w in records),
        total_broken=sum(w.broken for w in records),
    )
