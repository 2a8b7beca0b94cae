"""What the case-view reads promise: the plans part of one family's case view, and a caseload page's glance."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from sop_plans.models import PlanStatus, PlanType
from sop_plans.schemas import Alert, NextStepOut, SafetyPlanOut, Strict
from sop_shared.auth import MAX_CASES_PER_TOKEN
from sop_shared.case_refs import NotCaseScoped
from sop_shared.policy import Audience


class PlansCaseView(BaseModel):
    """Everything the case view needs from the plans service, shaped for `audience`."""

    case_id: uuid.UUID
    audience: Audience
    safety_plan: SafetyPlanOut | None = Field(
        description="The plan in force, as its version in force reads (a newer wording being prepared is not "
        "shown here); else the newest plan not ended; else null"
    )
    plans: list[SafetyPlanOut] = Field(
        description="The case's plans, newest first (at most 20), each as its current version reads"
    )
    next_steps: list[NextStepOut] = Field(
        description="Open and in-progress steps first (soonest due first), then the rest; at most 50"
    )
    alerts: list[Alert] = Field(description="The case's alerts, soonest first (empty outside the agency)")


BulkReadCase = Annotated[uuid.UUID, NotCaseScoped("cases a bulk read names, each checked against the token")]


class CaseViewsIn(Strict):
    case_ids: list[BulkReadCase] = Field(
        min_length=1, max_length=MAX_CASES_PER_TOKEN, description="A caseload page: 1 to 50 different cases"
    )

    @field_validator("case_ids")
    @classmethod
    def _different(cls, case_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(case_ids)) != len(case_ids):
            raise ValueError("name each case once")
        return case_ids


class PlanInForceSummary(BaseModel):
    """The plan in force (by the same rule as the case view) in a line: `version_number` is the version
    that binds the family, or the newest wording when nothing is in force yet."""

    id: uuid.UUID
    status: PlanStatus
    plan_type: PlanType
    version_number: int
    effective_from: datetime
    expires_at: datetime | None


class CaseGlance(BaseModel):
    """One case of a caseload page, as the plans service sees it."""

    case_id: uuid.UUID
    plan_in_force: PlanInForceSummary | None
    open_alerts: int = Field(description="How many alerts GET /v1/cases/{case_id}/alerts lists now")
    overdue_next_steps: int


class CaseGlances(BaseModel):
    items: list[CaseGlance] = Field(description="In the order the cases were asked for")
