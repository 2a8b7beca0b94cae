"""What the SDM API promises: request and response bodies of instruments and assessments."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from sop_assessment.sdm.models import SdmStatus
from sop_shared import case_refs
from sop_shared.input_models import Verbatim
from sop_shared.pagination import Page

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_ANSWERS = 500
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class AssessedChild(Verbatim):
    """A child the assessment decides for; `answers` holds this child's answers to per-child items."""

    name: str = Field(min_length=1, max_length=200)
    person_id: case_refs.PersonRef | None = None
    answers: dict[str, Any] = Field(default_factory=dict, max_length=MAX_ANSWERS)


class SdmAssessmentIn(Verbatim):
    """A new draft: the instrument (key and version, from `GET /v1/instruments`) and the answers so far.
    `anchors` are the dates due dates count from, e.g. `first_contact` (see the instrument's `due`)."""

    instrument_key: str = Field(pattern=CODE)
    instrument_version: str = Field(pattern=CODE)
    assessment_type: str | None = Field(default=None, max_length=40)
    answers: dict[str, Any] = Field(default_factory=dict, max_length=MAX_ANSWERS)
    children: list[AssessedChild] = Field(default_factory=list, max_length=20)
    anchors: dict[Annotated[str, Field(pattern=CODE)], AwareDatetime] = Field(default_factory=dict, max_length=20)


class SdmAssessmentPatch(Verbatim):
    """Changes to a draft. `answers` are merged (an answer set to null is removed); `children` and
    `anchors`, when given, replace the stored ones."""

    assessment_type: str | None = Field(default=None, max_length=40)
    answers: dict[str, Any] | None = Field(default=None, max_length=MAX_ANSWERS)
    children: list[AssessedChild] | None = Field(default=None, max_length=20)
    anchors: dict[Annotated[str, Field(pattern=CODE)], AwareDatetime] | None = Field(default=None, max_length=20)


class SdmCompleteIn(Verbatim):
    """Completing needs no body. A supervisor (`approvals:decide`) may complete with `supervisor_review`: their
    review lets a protective intervention stand with no threat it answers (kept in `approvals`)."""

    supervisor_review: Reason | None = Field(
        default=None,
        description="A supervisor's review of a protective intervention with no threat it answers: why it stands",
    )


class OverrideKind(StrEnum):
    policy = "policy"  # forces the policy level (very high); applied at once
    discretionary = "discretionary"  # exactly one level up; waits for a supervisor
    downgrade = "downgrade"  # a less urgent response priority; waits for a supervisor


class OverrideIn(Verbatim):
    kind: OverrideKind
    policy_reasons: list[Annotated[str, Field(pattern=CODE)]] = Field(default_factory=list, max_length=20)
    reasons: str | None = Field(default=None, max_length=2000)
    to_level: str | None = Field(default=None, max_length=40)
    supervisor: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The supervisor asked to decide (their subject): the pending "
        "override is listed in their approval queue",
    )

    @model_validator(mode="after")
    def _reasons_given(self) -> OverrideIn:
        if self.kind != OverrideKind.policy and not (self.reasons or "").strip():
            raise ValueError("reasons: a discretionary override or a downgrade needs the worker's reasons")
        return self


class ApprovalDecision(StrEnum):
    approve = "approve"
    return_for_edits = "return"


class ApprovalIn(Verbatim):
    decision: ApprovalDecision
    comment: str | None = Field(default=None, max_length=2000)


class InstrumentSummary(BaseModel):
    key: str
    version: str
    kind: str
    title: str
    illustrative: bool
    notice: str
    source: Literal["packaged", "configured"]
    sha256: str


InstrumentPage = Page[InstrumentSummary]


class InstrumentRef(BaseModel):
    key: str
    version: str
    sha256: str | None
    title: str | None
    illustrative: bool | None


class SdmAssessmentOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    chain_id: uuid.UUID
    revision: int
    amends_id: uuid.UUID | None
    instrument: InstrumentRef
    assessment_type: str | None
    status: SdmStatus
    answers: dict[str, Any]
    children: list[dict[str, Any]]
    anchors: dict[str, str]
    results: dict[str, Any] | None
    scored_level: str | None
    final_level: str | None
    override: dict[str, Any] | None
    approvals: list[dict[str, Any]]
    due: dict[str, Any]
    created_by: str
    completed_by: str | None
    completed_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


SdmAssessmentPage = Page[SdmAssessmentOut]
