"""What the case-view reads promise: one case for one audience and language, and a caseload page."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from sop_assessment.child_voice.schemas import ChildVoiceOut
from sop_assessment.goals.schemas import SafetyGoalOut
from sop_assessment.language.api import Glossary
from sop_assessment.maps.schemas import MapOut, MapWarning
from sop_assessment.ratings.schemas import ScaleRatingOut, Trajectory
from sop_assessment.schemas import StatementOut, Strict
from sop_assessment.sdm.schemas import SdmAssessmentOut
from sop_assessment.translations.schemas import CaseViewTranslation
from sop_assessment.trauma.schemas import KnownTrigger
from sop_shared.auth import MAX_CASES_PER_TOKEN
from sop_shared.case_refs import NotCaseScoped
from sop_shared.pagination import ListPaging
from sop_shared.plain_language import LanguageCheck


class CaseViewStatement(StatementOut):
    translations: list[CaseViewTranslation] = Field(
        description="People's translations of the statement as it reads now, any language; verified or not"
    )


class CaseViewStatements(BaseModel):
    harm: list[CaseViewStatement] = Field(description="The first harm statements, oldest first (`harm_first`)")
    danger: list[CaseViewStatement] = Field(description="The first danger statements, oldest first (`danger_first`)")
    harm_paging: ListPaging = Field(
        description="How many harm statements the case has; the rest from `GET …/case-view/statements?kind=harm`"
    )
    danger_paging: ListPaging = Field(
        description="How many danger statements the case has; the rest from `GET …/case-view/statements?kind=danger`"
    )


class CaseViewGoal(SafetyGoalOut):
    # Wider than SafetyGoalOut's field on purpose (mypy's [assignment]): None when the goal's text is withheld
    # from this audience, so the case view never carries a check of text it does not show.
    plain_language: LanguageCheck | None  # type: ignore[assignment]  # widens the parent's field, see above
    redacted: list[str] = Field(
        default_factory=list,
        description="Fields withheld from this audience: the goal of a danger statement withheld from it",
    )
    translations: list[CaseViewTranslation] = Field(
        default_factory=list, description="People's translations of the goal as it reads now, any language"
    )


class SafetyScale(BaseModel):
    latest: list[ScaleRatingOut] = Field(
        description="For each target in `trajectory`: the ratings of its most recent occasion"
    )
    trajectory: list[Trajectory] = Field(
        description="The first targets (`scale_first`): the overall rating, then each danger statement (active first)"
    )
    trajectory_paging: ListPaging = Field(
        description="How many targets the scale has; the rest from `GET …/case-view/safety-scale`"
    )


class SdmDueDate(BaseModel):
    kind: str = Field(description="The instrument's due rule, e.g. `reassess_by`, `complete_by`")
    label: str | None
    instrument_key: str
    due_at: str = Field(description="An ISO date, or an ISO timestamp for rules counted in hours")
    overdue: bool


class SdmView(BaseModel):
    safety_decision: str | None = Field(description="Of the latest completed safety assessment")
    safety_assessed_at: datetime | None
    risk_level: str | None = Field(
        description="Final level of the latest completed risk assessment or reassessment (after any override)"
    )
    risk_assessed_at: datetime | None
    due_dates: list[SdmDueDate]
    detail: list[SdmAssessmentOut] | None = Field(
        description="The latest completed revision of each instrument, for audiences that may see `sdm_detail` "
        "(staff, supervisor, court); otherwise null"
    )


class AssessmentCaseView(BaseModel):
    case_id: uuid.UUID
    audience: str
    language: str
    statements: CaseViewStatements
    safety_goals: list[CaseViewGoal]
    safety_scale: SafetyScale
    map: MapOut | None = Field(description="The case's most recently changed map, as its current version reads")
    sdm: SdmView
    child_voice: list[ChildVoiceOut] = Field(description="As the child-voice list shows them to this audience")
    glossary: Glossary
    pending_approvals: int | None = Field(description="Internal: null for audiences other than staff and supervisor")
    warnings: list[MapWarning] | None = Field(
        description="Internal: null for audiences other than staff and supervisor"
    )
    known_triggers: list[KnownTrigger] | None = Field(
        default=None,
        description="Internal, for planning: the children's and caregivers' known triggers (and what helps) that a "
        "recorded consent lets this audience read; null for audiences other than staff and supervisor",
    )


BulkReadCase = Annotated[uuid.UUID, NotCaseScoped("cases a bulk read names, each checked against the token")]


class CaseViewsIn(Strict):
    case_ids: list[BulkReadCase] = Field(min_length=1, max_length=MAX_CASES_PER_TOKEN)


class OverallRating(BaseModel):
    score: float = Field(description="The mean of the raters of the latest occasion")
    occasion_on: date


class CaseSummary(BaseModel):
    case_id: uuid.UUID
    active_danger_statements: int
    latest_overall_rating: OverallRating | None
    safety_decision: str | None
    risk_level: str | None
    pending_approvals: int | None = Field(description="Internal: null for audiences other than staff and supervisor")


class CaseSummaries(BaseModel):
    items: list[CaseSummary]
