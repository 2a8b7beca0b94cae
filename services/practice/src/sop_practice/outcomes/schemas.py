"""What the outcomes and extract routes promise."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from sop_shared.input_models import Strict
from sop_shared.jobs import JobStatus

PERIOD_HELP = "`2026` (a year), `2026-Q4` (a quarter) or `2026-11` (a month)"


class OutcomeScopeOut(BaseModel):
    unit: str | None
    county: str | None
    period: str
    period_from: date
    period_to: date
    as_of: date = Field(description="the day the measures are counted on (windows not over by then wait)")


class OutcomeMeasure(BaseModel):
    key: str
    label: str
    numerator: int | None
    denominator: int | None
    rate: float | None
    suppressed: bool


class ReunificationOut(BaseModel):
    discharges: int | None = Field(description="removals ended in the period by discharge to the family")
    median_days: float | None = Field(description="median days from removal to that discharge")
    still_removed: int | None = Field(description="removals still open at the period's end")
    suppressed: bool


class OutcomesOut(BaseModel):
    scope: OutcomeScopeOut
    cases: int | None = Field(description="cases in scope (hidden when 1 to 4)")
    after_plan_days: int
    measures: list[OutcomeMeasure]
    reunification: ReunificationOut
    small_cell_minimum: int


class ExtractIn(Strict):
    period: str = Field(min_length=4, max_length=7, description=PERIOD_HELP)
    county: str | None = Field(default=None, min_length=1, max_length=100, description="one county; none: the state")


class ExtractFileOut(BaseModel):
    name: str
    media_type: str
    size: int
    sha256: str
    href: str


class ExtractJobOut(BaseModel):
    id: uuid.UUID
    status: JobStatus
    requested_by: str
    period: str
    county: str | None
    element_map: str
    records_total: int | None = Field(description="cases to read, once counted")
    records_done: int = Field(description="cases read so far")
    counts: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    files: list[ExtractFileOut] = Field(default_factory=list, description="when succeeded: each file to download")


class ElementOut(BaseModel):
    element: str
    label: str
    source: str | None
    unfilled: str | None
    codes: dict[str, str] | None


class ElementFileOut(BaseModel):
    name: str
    title: str
    record: str
    record_means: str
    elements: list[ElementOut]


class ElementMapOut(BaseModel):
    ref: str
    title: str
    note: str
    files: list[ElementFileOut]
    data_quality_rules: dict[str, str]
