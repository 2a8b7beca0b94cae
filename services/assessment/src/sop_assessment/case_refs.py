"""What the ids in an assessment request may name, within the request's case (see `sop_shared.case_refs`):
this service's own records from its tables; people, safety plans and plan rules from the other services'
events."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.attachments.models import Attachment
from sop_assessment.maps.models import AssessmentMap
from sop_assessment.models import Statement, StatementKind, case_entities
from sop_assessment.sdm.models import SdmAssessment
from sop_assessment.supervision.models import ApprovalKind
from sop_shared.case_refs import (
    PEOPLE_IN_CASES,
    SAFETY_PLANS,
    CaseEntityFeed,
    CaseRefResolvers,
    KnownEntities,
    Resolver,
    rows_in_case,
    the_case,
)

ENTITY_FEEDS: tuple[CaseEntityFeed, ...] = (*PEOPLE_IN_CASES, *SAFETY_PLANS)


def case_refs(*, grace_seconds: float) -> tuple[CaseRefResolvers, KnownEntities]:
    known = KnownEntities(case_entities, grace_seconds=grace_seconds)
    sdm_assessment = rows_in_case(col(SdmAssessment.id), col(SdmAssessment.case_id))
    safety_plan = known.resolver("safety_plan")

    async def approval_subject(
        session: AsyncSession, case_id: uuid.UUID, ids: frozenset[uuid.UUID], body: Mapping[str, Any]
    ) -> set[uuid.UUID]:
        """What an approval is of depends on its kind: a safety plan (plans service) or an SDM assessment."""
        resolver: Resolver = safety_plan if body.get("kind") == ApprovalKind.safety_plan.value else sdm_assessment
        return await resolver(session, case_id, ids, body)

    resolvers = CaseRefResolvers(
        {
            "case": the_case(),
            "person": known.resolver("person"),
            "safety_plan_rule": known.resolver("safety_plan_rule"),
            "statement": rows_in_case(col(Statement.id), col(Statement.case_id)),
            "danger_statement": rows_in_case(
                col(Statement.id), col(Statement.case_id), col(Statement.kind) == StatementKind.danger
            ),
            "map": rows_in_case(col(AssessmentMap.id), col(AssessmentMap.case_id)),
            "drawing": rows_in_case(col(Attachment.id), col(Attachment.case_id)),
            "sdm_assessment": sdm_assessment,
            "approval_subject": approval_subject,
        }
    )
    return resolvers, known
