"""Storage side of the outcome measures: the cases of a scope in the fidelity read model (a county's by the case's
county, a unit's by `outcome_case_unit`), read a chunk at a time with their facts, and the units kept beside the
facts as the consumers and the rebuild write them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_practice.fidelity.models import FidelityCase
from sop_practice.outcomes import facts as outcome_facts
from sop_practice.outcomes import rules
from sop_practice.outcomes.models import OutcomeCaseUnit
from sop_shared.db import table_of

CHUNK = 500


async def replace_units(session: AsyncSession, case_id: uuid.UUID, units: Sequence[str]) -> None:
    """The case's units are now `units` (a consumer's write, in its transaction)."""
    table = table_of(OutcomeCaseUnit)
    await session.execute(delete(table).where(table.c.case_id == case_id))
    if units:
        await session.execute(insert(table), [{"case_id": case_id, "unit": unit} for unit in units])


async def write_all_units(
    session: AsyncSession, state: Mapping[uuid.UUID, Mapping[str, Any]], *, batch_size: int = 2000
) -> None:
    """Every case's units from a rebuilt model, replacing what is stored (the rebuild's transaction)."""
    table = table_of(OutcomeCaseUnit)
    await session.execute(delete(table))
    rows = [
        {"case_id": case_id, "unit": unit} for case_id, facts in state.items() for unit in outcome_facts.units_of(facts)
    ]
    for start in range(0, len(rows), batch_size):
        await session.execute(insert(table), rows[start : start + batch_size])


# --- the cases in a scope -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeScope:
    unit: str | None = None
    county: str | None = None


def cases_in(scope: OutcomeScope) -> Select[Any]:
    """The ids of the cases in scope: a unit's are those with staff of the unit assigned (now or before)."""
    query = select(col(FidelityCase.case_id))
    if scope.county is not None:
        query = query.where(col(FidelityCase.county) == scope.county)
    if scope.unit is not None:
        query = query.where(
            col(FidelityCase.case_id).in_(
                select(col(OutcomeCaseUnit.case_id)).where(col(OutcomeCaseUnit.unit) == scope.unit)
            )
        )
    return query


async def count_cases(session: AsyncSession, scope: OutcomeScope) -> int:
    return int((await session.execute(select(func.count()).select_from(cases_in(scope).subquery()))).scalar_one())


async def case_chunks(session: AsyncSession, scope: OutcomeScope) -> AsyncIterator[list[tuple[uuid.UUID, Any]]]:
    """The cases in scope with what the outcomes read of their facts (the reporting facts and the plans' spans),
    `CHUNK` at a time: one query, streamed (a server-side cursor on PostgreSQL), in case id order."""
    facts = col(FidelityCase.facts)
    query = (
        cases_in(scope)
        .add_columns(facts["reporting"], facts["plan_spans"])
        .order_by(col(FidelityCase.case_id))
        .execution_options(yield_per=CHUNK)
    )
    result = await session.stream(query)
    async for partition in result.partitions(CHUNK):
        yield [
            (case_id, {"reporting": reporting, "plan_spans": spans or {}}) for case_id, reporting, spans in partition
        ]


async def outcome_tally(
    session: AsyncSession, scope: OutcomeScope, period: tuple[date, date], as_of: date, after_days: int
) -> rules.Tally:
    total = rules.Tally()
    async for rows in case_chunks(session, scope):
        rules.tally(
            (outcome_facts.history_of(case_id, facts) for case_id, facts in rows), period, as_of, after_days, into=total
        )
    return total


async def outcome_model(session: AsyncSession) -> dict[uuid.UUID, dict[str, Any]]:
    """Every case's outcome facts as stored: its history for the measures, its units and its extract records (for
    comparisons: the tests' recount from the network's records, the benchmark)."""
    units: dict[uuid.UUID, list[str]] = {}
    for case_id, unit in await session.execute(
        select(col(OutcomeCaseUnit.case_id), col(OutcomeCaseUnit.unit)).order_by(col(OutcomeCaseUnit.unit))
    ):
        units.setdefault(case_id, []).append(unit)
    found: dict[uuid.UUID, dict[str, Any]] = {}
    async for rows in case_chunks(session, OutcomeScope()):
        for case_id, facts in rows:
            if facts.get("reporting") is None and not facts.get("plan_spans"):
                continue
            found[case_id] = {
                "history": outcome_facts.history_of(case_id, facts),
                "units": units.get(case_id, []),
                "extract": outcome_facts.extract_case_of(facts),
            }
    return found
