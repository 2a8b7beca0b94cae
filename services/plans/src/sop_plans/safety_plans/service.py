"""Safety-plan operations: creating a plan with its first version, and reading plans and versions."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sop_plans.models import PlanStatus, SafetyPlan, SafetyPlanVersion, platform
from sop_plans.safety_plans.rules import check_new_plan, content_hash, plan_content, plan_warnings
from sop_plans.schemas import PlanContent, SafetyPlanIn, SafetyPlanOut, SafetyPlanVersionOut
from sop_shared.db import utcnow
from sop_shared.ids import new_id
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest

CREATED_SUBJECT = "sop.plans.safety_plan.created"


async def create_safety_plan(
    session: AsyncSession, *, case_id: uuid.UUID, body: SafetyPlanIn, created_by: str,
) -> tuple[SafetyPlan, SafetyPlanVersion]:
    """A new draft plan and its version 1, with the `created` event in the same transaction."""
    now = utcnow()
    effective_from = body.effective_from or now
    check_new_plan(body, effective_from=effective_from)
    content = plan_content(body, rule_ids=[new_id() for _ in body.rules])
    plan = SafetyPlan(
        case_id=case_id, plan_type=body.plan_type, status=PlanStatus.draft, title=body.title,
        effective_from=effective_from, expires_at=body.expires_at, safety_assessment_id=body.safety_assessment_id,
        danger_statement_ids=[str(i) for i in body.danger_statement_ids], threat_codes=list(body.threat_codes),
        current_version_number=1, created_by=created_by, created_at=now, updated_at=now,
    )
    session.add(plan)
    await session.flush()
    version = SafetyPlanVersion(plan_id=plan.id, number=1, content=content, content_hash=content_hash(content),
                                created_by=created_by, created_at=now)
    session.add(version)
    await session.flush()
    await emit(session, platform, subject=CREATED_SUBJECT, case_id=case_id, data={
        "plan_id": str(plan.id), "case_id": str(case_id), "plan_type": plan.plan_type.value,
        "status": plan.status.value, "version_number": version.number, "content_hash": version.content_hash,
        "danger_statement_ids": plan.danger_statement_ids, "threat_codes": plan.threat_codes,
    })
    return plan, version


async def get_plan(session: AsyncSession, plan_id: uuid.UUID) -> SafetyPlan | None:
    return await session.get(SafetyPlan, plan_id)


async def get_version(session: AsyncSession, plan_id: uuid.UUID, number: int) -> SafetyPlanVersion | None:
    return (await session.execute(select(SafetyPlanVersion).where(
        SafetyPlanVersion.plan_id == plan_id, SafetyPlanVersion.number == number))).scalar_one_or_none()


async def current_version(session: AsyncSession, plan: SafetyPlan) -> SafetyPlanVersion:
    version = await get_version(session, plan.id, plan.current_version_number)
    if version is None:  # the plan row and its versions are written in one transaction
        raise LookupError(f"safety plan {plan.id} has no version {plan.current_version_number}")
    return version


async def list_plans(
    session: AsyncSession, *, case_id: uuid.UUID, status: PlanStatus | None, page: PageRequest,
) -> tuple[list[tuple[SafetyPlan, SafetyPlanVersion]], str | None]:
    """One query for a page of a case's plans, each joined to its current version."""
    query = select(SafetyPlan, SafetyPlanVersion).join(SafetyPlanVersion, and_(
        SafetyPlanVersion.plan_id == SafetyPlan.id,
        SafetyPlanVersion.number == SafetyPlan.current_version_number,
    )).where(SafetyPlan.case_id == case_id)
    if status is not None:
        query = query.where(SafetyPlan.status == status)
    rows = [(plan, version) for plan, version in (await session.execute(page.apply(query, SafetyPlan.id))).all()]
    return page.page(rows, id_of=lambda row: row[0].id)


async def list_versions(
    session: AsyncSession, *, plan_id: uuid.UUID, page: PageRequest,
) -> tuple[list[SafetyPlanVersion], str | None]:
    query = select(SafetyPlanVersion).where(SafetyPlanVersion.plan_id == plan_id)
    rows = list((await session.execute(page.apply(query, SafetyPlanVersion.id))).scalars())
    return page.page(rows)


def plan_out(plan: SafetyPlan, version: SafetyPlanVersion) -> SafetyPlanOut:
    content = PlanContent.model_validate(version.content)
    return SafetyPlanOut(
        id=plan.id, case_id=plan.case_id, plan_type=plan.plan_type, status=plan.status, title=plan.title,
        effective_from=plan.effective_from, expires_at=plan.expires_at,
        safety_assessment_id=plan.safety_assessment_id,
        danger_statement_ids=[uuid.UUID(i) for i in plan.danger_statement_ids], threat_codes=plan.threat_codes,
        current_version_number=plan.current_version_number, content_hash=version.content_hash,
        rules=content.rules, triggers=content.triggers, if_rule_broken=content.if_rule_broken,
        backup_plan=content.backup_plan, worker_monitoring=content.worker_monitoring,
        warnings=plan_warnings(content), version=plan.version, created_by=plan.created_by,
        created_at=plan.created_at, updated_at=plan.updated_at,
    )


def version_out(plan: SafetyPlan, version: SafetyPlanVersion) -> SafetyPlanVersionOut:
    return SafetyPlanVersionOut(
        plan_id=plan.id, case_id=plan.case_id, number=version.number,
        content=PlanContent.model_validate(version.content), content_hash=version.content_hash,
        created_by=version.created_by, created_at=version.created_at,
    )
