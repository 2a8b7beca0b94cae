"""The fidelity read model's response bodies: counts and rates for a scope, never a case."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from sop_practice.fidelity.models import RebuildStatus


class FidelityScope(BaseModel):
    unit: str | None
    county: str | None
    worker: str | None
    period: str | None
    opened_from: date | None = Field(description="Cases opened from this day (the period's first day)")
    opened_to: date | None = Field(description="…to this day (its last day)")


class FidelityMeasure(BaseModel):
    key: str = Field(description="e.g. cases_with_map, danger_statements_on_time, translations_verified")
    label: str
    numerator: int | None = Field(description="Null when suppressed")
    denominator: int | None = Field(description="Null when suppressed")
    rate: float | None = Field(description="numerator / denominator, 0 to 1; null when suppressed or no denominator")
    suppressed: bool = Field(description="A count of 1 to 4 (or fewer than 5 cases) is never shown")


class FidelityOut(BaseModel):
    scope: FidelityScope
    cases: int | None = Field(description="Cases in scope (opened in the period); null when fewer than 5")
    danger_within_days: int = Field(description="N in 'a danger statement within N days of opening'")
    network_size: float | None = Field(description="Network members per case (mean); null when fewer than 5 cases")
    measures: list[FidelityMeasure]
    small_cell_minimum: int


class RebuildOut(BaseModel):
    id: uuid.UUID
    status: RebuildStatus
    requested_by: str
    events_total: int | None = Field(description="The stream's messages to read, once known")
    events_read: int = Field(description="Read so far: events_read / events_total is the progress")
    events_applied: int = Field(description="Of them, the events the read model counts (when done)")
    cases: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class StateRate(BaseModel):
    """A measure's state-wide rate, beside a unit's or a worker's: the rate alone (never its counts, so the state
    less one's own unit gives nobody another unit's numbers); suppressed as the counts under it would be."""

    key: str
    rate: float | None = Field(description="0 to 1; null when suppressed or nothing to count")
    suppressed: bool


class FidelityPeriod(BaseModel):
    period: str = Field(description="A quarter: 2026-Q4")
    opened_from: date
    opened_to: date
    cases: int | None = Field(description="Cases in scope opened in the quarter; null when fewer than 5")
    network_size: float | None
    measures: list[FidelityMeasure]
    state: list[StateRate] | None = Field(
        description="The state-wide rate of each measure in the quarter (`fidelity:state-average`); null without it"
    )


class FidelityTrendOut(BaseModel):
    """The measures of a unit or a worker quarter by quarter, oldest first, each beside the state's rate."""

    unit: str | None
    worker: str | None
    danger_within_days: int
    small_cell_minimum: int
    periods: list[FidelityPeriod]
