"""The fidelity read model's storage: the consumers that fold the other services' events into it one at a time,
the rebuild that folds a whole stream in memory and writes it at once, and the aggregate a dashboard reads. The
outcome measures and the federal extract read the same model (`sop_practice.outcomes`): a rebuild restores them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy import Integer, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from sop_practice.fidelity import rules
from sop_practice.fidelity.models import FidelityCase, FidelityRebuild, RebuildStatus
from sop_practice.models import Practitioner
from sop_practice.outcomes import facts as outcome_facts
from sop_practice.outcomes.service import replace_units, write_all_units
from sop_shared.db import Database, table_of, utcnow
from sop_shared.events import Event, EventBus, Progress
from sop_shared.jobs import fail_interrupted, run_in_background, run_job
from sop_shared.service import EventConsumer

log = structlog.get_logger("sop.practice.fidelity")
COUNT_COLUMNS = tuple(f for f in rules.CaseCounts.__dataclass_fields__)


def _row_values(case_id: uuid.UUID, facts: dict[str, Any]) -> dict[str, Any]:
    return {"case_id": case_id, **asdict(rules.derive(facts)), "facts": facts, "updated_at": utcnow()}


async def apply_event(session: AsyncSession, event: Event) -> bool:
    """Fold one event into its case's row (made when it is the first word of the case). Returns whether the
    event was one the read model counts. On PostgreSQL the row is locked while it changes: each subject has its
    own consumer, so two events of one case may be applied at once."""
    if event.subject not in SUBJECT_SET:
        return False
    case_id = rules.case_of(event.subject, event.data, event.case_id)
    if case_id is None:
        return False
    query = select(FidelityCase).where(col(FidelityCase.case_id) == case_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    facts = rules.apply(row.facts if row is not None else {}, event.subject, event.data, event.occurred_at)
    values = _row_values(case_id, facts)
    if row is None:
        await session.execute(insert(table_of(FidelityCase)).values(**values))
    elif facts != row.facts:
        del values["case_id"]
        await session.execute(
            update(table_of(FidelityCase)).where(table_of(FidelityCase).c.case_id == case_id).values(**values)
        )
    units = outcome_facts.units_of(facts)
    if units != outcome_facts.units_of(row.facts if row is not None else {}):
        await replace_units(session, case_id, units)
    return True


SUBJECT_SET = frozenset(rules.SUBJECTS)


def consumers() -> list[EventConsumer]:
    """One durable consumer per subject the read model counts (as the plans service's practice rules)."""

    async def on_event(app: FastAPI, session: AsyncSession, event: Event) -> None:
        await apply_event(session, event)

    return [
        EventConsumer(subject, "practice-fidelity-" + subject.removeprefix("sop.").replace(".", "-"), on_event)
        for subject in rules.SUBJECTS
    ]


# --- the rebuild --------------------------------------------------------------------------------------------


@dataclass
class RebuildResult:
    read: int  # messages read from the stream
    events: int  # of them, events the model counts
    cases: int
    position: int


async def rebuild(
    database: Database,
    bus: EventBus,
    *,
    progress: Progress | None = None,
    batch_size: int = 2000,
) -> RebuildResult:
    """Fold every event the stream holds into a new model in memory, replace the stored model with it in one
    transaction, then fold (one by one, as the consumers do) what was published while it ran."""
    state: dict[uuid.UUID, dict[str, Any]] = {}
    applied = read = 0

    def seen(count: int, total: int | None) -> None:
        nonlocal read
        read = count
        if progress is not None:
            progress(count, total)

    async def fold(event: Event, position: int) -> None:
        nonlocal applied
        case_id = rules.case_of(event.subject, event.data, event.case_id)
        if case_id is None:
            return
        state[case_id] = rules.apply(state.get(case_id, {}), event.subject, event.data, event.occurred_at)
        applied += 1

    position = await bus.replay(rules.SUBJECTS, fold, progress=seen)
    await write_model(database, state, batch_size=batch_size)

    async def catch_up(event: Event, position: int) -> None:
        nonlocal applied
        async with database.session() as session:
            if await apply_event(session, event):
                applied += 1

    position = await bus.replay(rules.SUBJECTS, catch_up, after=position)
    return RebuildResult(read=read, events=applied, cases=len(state), position=position)


async def write_model(database: Database, state: Mapping[uuid.UUID, dict[str, Any]], *, batch_size: int = 2000) -> None:
    """Replace the stored model with `state` in one transaction (the outcomes' units with it)."""
    table = table_of(FidelityCase)
    rows = [_row_values(case_id, facts) for case_id, facts in state.items()]
    async with database.session() as session:
        await session.execute(delete(table))
        for start in range(0, len(rows), batch_size):
            await session.execute(insert(table), rows[start : start + batch_size])
        await write_all_units(session, state, batch_size=batch_size)


async def run_rebuild_job(
    database: Database,
    bus: EventBus,
    job_id: uuid.UUID,
    *,
    every_seconds: float = 0.5,
    progress_bar: Progress | None = None,
) -> RebuildResult | None:
    """A rebuild recorded in `fidelity_rebuild`, its progress written as it goes (read over the API) and shown
    on `progress_bar` (the `sop` command's)."""
    return await run_job(
        database,
        table_of(FidelityRebuild),
        job_id,
        lambda progress: rebuild(database, bus, progress=progress),
        done_column="events_read",
        total_column="events_total",
        finish=lambda result: {"events_read": result.read, "events_applied": result.events, "cases": result.cases},
        bar=progress_bar,
        every_seconds=every_seconds,
    )


async def new_job(session: AsyncSession, requested_by: str) -> FidelityRebuild | None:
    """A queued rebuild, or None while another is queued or running (one at a time)."""
    busy = (
        await session.execute(
            select(col(FidelityRebuild.id)).where(
                col(FidelityRebuild.status).in_([RebuildStatus.queued, RebuildStatus.running])
            )
        )
    ).first()
    if busy is not None:
        return None
    job = FidelityRebuild(requested_by=requested_by)
    session.add(job)
    await session.flush()
    return job


async def fail_interrupted_jobs(app: FastAPI) -> None:
    """At start: a rebuild that was queued or running when the process stopped will not finish; say so."""
    await fail_interrupted(app.state.database, table_of(FidelityRebuild))


def start_job(app: FastAPI, job_id: uuid.UUID) -> None:
    """Run the rebuild in the background of this process."""
    run_in_background(app, f"fidelity-{job_id}", run_rebuild_job(app.state.database, app.state.bus, job_id))


# --- reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    unit: str | None = None
    county: str | None = None
    worker: str | None = None
    period: tuple[date, date] | None = None


def _sum(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _total(column: Any) -> Any:
    return func.coalesce(func.sum(func.cast(column, Integer)), 0)


async def unit_workers(session: AsyncSession, unit: str) -> list[str]:
    rows = await session.execute(select(col(Practitioner.subject)).where(col(Practitioner.unit) == unit))
    return [r[0] for r in rows]


async def totals(session: AsyncSession, scope: Scope, within_days: int) -> rules.Totals:
    """One aggregate over the cases in scope. A case counts for a unit when SACWIS put its worker in the unit,
    or, when it did not say, when the practice registry has the worker in the unit."""
    c = FidelityCase
    where: list[ColumnElement[bool]] = []
    if scope.unit is not None:
        workers = await unit_workers(session, scope.unit)
        by_registry = and_(col(c.unit).is_(None), col(c.worker).in_(workers)) if workers else None
        where.append(
            or_(col(c.unit) == scope.unit, by_registry) if by_registry is not None else col(c.unit) == scope.unit
        )
    if scope.county is not None:
        where.append(col(c.county) == scope.county)
    if scope.worker is not None:
        where.append(col(c.worker) == scope.worker)
    if scope.period is not None:
        where.append(col(c.opened_on).between(*scope.period))
    query = select(
        func.count(),
        _total(c.has_map),
        _sum(and_(col(c.danger_days).is_not(None), col(c.danger_days) <= within_days)),
        _total(c.has_safety_goal),
        _total(c.two_perspectives),
        _sum(col(c.network_size) > 0),
        _total(c.network_size),
        _total(c.network_heard),
        _total(c.child_voice),
        _total(c.has_plan),
        _sum(and_(col(c.has_plan), col(c.caregiver_signed))),
        _total(c.sdm_completed),
        _total(c.sdm_on_time),
        _total(c.shared_texts),
        _total(c.shared_plain),
        _total(c.needs_translation),
        _sum(and_(col(c.needs_translation), col(c.translation_verified))),
    ).where(*where)
    row = (await session.execute(query)).one()
    return rules.Totals(*(int(v or 0) for v in row))


async def read_model(session: AsyncSession) -> dict[uuid.UUID, dict[str, Any]]:
    """Every case's counts as stored (for comparisons: the tests' recount, the benchmark)."""
    rows = (await session.execute(select(FidelityCase))).scalars()
    return {r.case_id: {name: getattr(r, name) for name in COUNT_COLUMNS} for r in rows}
