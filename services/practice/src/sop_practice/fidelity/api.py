"""Routes of the fidelity read model: the measures for a unit, county, worker and period, and rebuilding the
model from the event streams as a job whose progress can be read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from sop_practice.access import actions_of, require_action
from sop_practice.fidelity import rules
from sop_practice.fidelity.access import may_read_fidelity
from sop_practice.fidelity.models import FidelityRebuild
from sop_practice.fidelity.schemas import (
    FidelityMeasure,
    FidelityOut,
    FidelityPeriod,
    FidelityScope,
    FidelityTrendOut,
    RebuildOut,
    StateRate,
)
from sop_practice.fidelity.service import Scope, new_job, start_job, totals
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal
from sop_shared.case_refs import NotCaseScoped
from sop_shared.clock import Now
from sop_shared.db import SessionDep
from sop_shared.policy import SMALL_CELL_MIN, PracticeAction
from sop_shared.problems import Conflict, Forbidden, InvalidInput, NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["fidelity"])

Name = Annotated[str | None, Query(min_length=1, max_length=200)]
WithinDays = Annotated[int, Query(ge=0, le=365, description="N in 'a danger statement within N days of opening'")]
MAX_QUARTERS = 12
JobId = Annotated[uuid.UUID, NotCaseScoped("a rebuild job of the fidelity read model: never a case")]


class RebuildRunning(Conflict):
    slug, title = "rebuild-running", "A rebuild of the fidelity read model is already running"


@router.get("/fidelity", response_model=FidelityOut, dependencies=[known_query_params()])
async def read_fidelity(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    unit: Name = None,
    county: Name = None,
    worker: Name = None,
    period: Annotated[
        str | None, Query(max_length=7, description="`2026` (a year), `2026-Q4` (a quarter) or `2026-11` (a month)")
    ] = None,
    within_days: WithinDays = rules.DEFAULT_DANGER_WITHIN_DAYS,
) -> FidelityOut:
    """How SOP is practised, from the other services' events: for the cases opened in `period` of a unit, county
    or worker (any combination; none: the whole state), how many have a map, a danger statement within
    `within_days` of opening, a safety goal, safety-scale ratings from two perspectives, a network (its size,
    and whether its members heard the danger statements), the child's voice, a plan signed by a caregiver; SDM
    assessments on time, shared texts passing the plain-language check, translations verified for families who
    read another language. Counts and rates only: a count of 1 to 4 is never shown (`suppressed`).

    A supervisor reads their own unit and its workers, a coach the units and workers on their caseload;
    practice leads and the training coordinator (`fidelity:read-all`) any scope. Anyone else: 403."""
    span = None
    if period is not None and (span := rules.period_range(period)) is None:
        raise InvalidInput.field("period", "give a year (2026), a quarter (2026-Q4) or a month (2026-11)")
    scope = Scope(unit=unit, county=county, worker=worker, period=span)
    await _may_read(session, principal, scope)
    found = await totals(session, scope, within_days)
    await audit_request(request, session, principal, resource="fidelity", action="read")
    return FidelityOut(
        scope=FidelityScope(
            unit=unit,
            county=county,
            worker=worker,
            period=period,
            opened_from=span[0] if span else None,
            opened_to=span[1] if span else None,
        ),
        cases=found.cases if found.cases >= SMALL_CELL_MIN else None,
        danger_within_days=within_days,
        network_size=rules.network_size(found),
        measures=[FidelityMeasure(**vars(m)) for m in rules.measures(found, within_days)],
        small_cell_minimum=SMALL_CELL_MIN,
    )


async def _may_read(session: SessionDep, principal: CurrentPrincipal, scope: Scope) -> None:
    if not await may_read_fidelity(session, principal, scope):
        raise Forbidden(
            "the fidelity measures are read by a unit's supervisors and coaches (their unit and workers), "
            "practice leads and the training coordinator"
        )


@router.get("/fidelity/trend", response_model=FidelityTrendOut, dependencies=[known_query_params()])
async def read_fidelity_trend(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
    unit: Name = None,
    worker: Name = None,
    quarters: Annotated[int, Query(ge=1, le=MAX_QUARTERS, description="How many quarters, up to 12")] = 4,
    until: Annotated[
        str | None, Query(max_length=7, description="The last quarter (`2026-Q4`); default: this quarter")
    ] = None,
    within_days: WithinDays = rules.DEFAULT_DANGER_WITHIN_DAYS,
) -> FidelityTrendOut:
    """The measures of a unit or a worker (or both) quarter by quarter, oldest first, for the cases opened in each
    quarter, each beside the state's rate (a dashboard's state average line): whoever may read the unit or the
    worker reads these; the state's rates come with `fidelity:state-average` (supervisors, coaches, practice
    leads, the training coordinator) and are rates only, suppressed as their counts would be."""
    if unit is None and worker is None:
        raise InvalidInput.field("unit", "name the unit or the worker (or both)")
    last = until or rules.quarter_of(now.date())
    periods = rules.quarters_until(last, quarters)
    if periods is None:
        raise InvalidInput.field("until", "give a quarter: 2026-Q4")
    spans = [(period, span) for period in periods if (span := rules.period_range(period)) is not None]
    await _may_read(session, principal, Scope(unit=unit, worker=worker))
    actions = actions_of(principal)
    with_state = bool({PracticeAction.read_state_average, PracticeAction.read_all_fidelity} & actions)
    out = []
    for period, span in spans:
        found = await totals(session, Scope(unit=unit, worker=worker, period=span), within_days)
        state = None
        if with_state:
            everyone = await totals(session, Scope(period=span), within_days)
            state = [
                StateRate(key=m.key, rate=m.rate, suppressed=m.suppressed)
                for m in rules.measures(everyone, within_days)
            ]
        out.append(
            FidelityPeriod(
                period=period,
                opened_from=span[0],
                opened_to=span[1],
                cases=found.cases if found.cases >= SMALL_CELL_MIN else None,
                network_size=rules.network_size(found),
                measures=[FidelityMeasure(**vars(m)) for m in rules.measures(found, within_days)],
                state=state,
            )
        )
    await audit_request(
        request,
        session,
        principal,
        resource="fidelity",
        action="read",
        fields=["trend", *(["state_average"] if with_state else [])],
    )
    return FidelityTrendOut(
        unit=unit,
        worker=worker,
        danger_within_days=within_days,
        small_cell_minimum=SMALL_CELL_MIN,
        periods=out,
    )


def _job_out(job: FidelityRebuild) -> RebuildOut:
    return RebuildOut.model_validate(job, from_attributes=True)


@router.post("/fidelity/rebuilds", status_code=202, response_model=RebuildOut, dependencies=[known_query_params()])
async def rebuild_fidelity(
    request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> RebuildOut:
    """Rebuild the read model from the event streams, in the background: answers the job at once (202, with
    `Location`); follow it at `GET /v1/fidelity/rebuilds/{id}`. One at a time (409 while one runs). Practice
    leads and the training coordinator (`fidelity:rebuild`)."""
    require_action(principal, PracticeAction.rebuild_fidelity)
    job = await new_job(session, principal.subject)
    if job is None:
        raise RebuildRunning("wait for the running rebuild to finish")
    await audit_request(request, session, principal, resource="fidelity_rebuild", action="create", resource_id=job.id)
    out = _job_out(job)
    await session.commit()  # the job must exist before it starts
    start_job(request.app, job.id)
    response.headers["Location"] = f"/v1/fidelity/rebuilds/{job.id}"
    return out


@router.get("/fidelity/rebuilds/{job_id}", response_model=RebuildOut, dependencies=[known_query_params()])
async def read_rebuild(job_id: JobId, request: Request, session: SessionDep, principal: CurrentPrincipal) -> RebuildOut:
    """A rebuild's status and progress (`events_read` of `events_total`)."""
    require_action(principal, PracticeAction.rebuild_fidelity)
    job = await session.get(FidelityRebuild, job_id)
    if job is None:
        raise NotFound("no such rebuild")
    await audit_request(request, session, principal, resource="fidelity_rebuild", action="read", resource_id=job.id)
    return _job_out(job)
