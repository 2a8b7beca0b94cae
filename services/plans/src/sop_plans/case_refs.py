"""What the ids in a plans request may name, within the request's case (see `sop_shared.case_refs`): this
service's plans, their rules and participants from its tables; people, danger statements, safety goals, SDM
assessments, known triggers and the network members' confirmed commitments from the other services' events."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.models import SafetyPlan, SafetyPlanVersion, case_entities
from sop_shared.case_refs import (
    CONFIRMED_COMMITMENTS,
    DANGER_STATEMENTS,
    KNOWN_TRIGGERS,
    PEOPLE_IN_CASES,
    SAFETY_GOALS,
    SDM_ASSESSMENTS,
    CaseEntityFeed,
    CaseRefResolvers,
    KnownEntities,
    Resolver,
    rows_in_case,
    the_case,
)

ENTITY_FEEDS: tuple[CaseEntityFeed, ...] = (
    *PEOPLE_IN_CASES,
    *DANGER_STATEMENTS,
    *SAFETY_GOALS,
    *SDM_ASSESSMENTS,
    *CONFIRMED_COMMITMENTS,
    *KNOWN_TRIGGERS,
)


def _in_plan_versions(section: str) -> Resolver:
    """Rules and participants live in the versions' content: an id is in the case when any version of any of
    the case's plans lists it (which version an edit may continue is the plan's own rule)."""

    async def resolve(
        session: AsyncSession, case_id: uuid.UUID, ids: frozenset[uuid.UUID], body: Mapping[str, Any]
    ) -> set[uuid.UUID]:
        contents = (
            await session.execute(
                select(col(SafetyPlanVersion.content))
                .join(SafetyPlan, col(SafetyPlan.id) == col(SafetyPlanVersion.plan_id))
                .where(col(SafetyPlan.case_id) == case_id)
            )
        ).scalars()
        listed = {
            uuid.UUID(str(entry["id"])) for content in contents for entry in content.get(section, []) if entry.get("id")
        }
        return listed & ids

    return resolve


def case_refs(*, grace_seconds: float) -> tuple[CaseRefResolvers, KnownEntities]:
    known = KnownEntities(case_entities, grace_seconds=grace_seconds)
    resolvers = CaseRefResolvers(
        {
            "case": the_case(),
            "person": known.resolver("person"),
            "danger_statement": known.resolver("danger_statement"),
            "safety_goal": known.resolver("safety_goal"),
            "sdm_assessment": known.resolver("sdm_assessment"),
            "confirmed_commitment": known.resolver("confirmed_commitment"),
            "known_trigger": known.resolver("known_trigger"),
            "safety_plan": rows_in_case(col(SafetyPlan.id), col(SafetyPlan.case_id)),
            "safety_plan_rule": _in_plan_versions("rules"),
            "plan_participant": _in_plan_versions("participants"),
        }
    )
    return resolvers, known
