"""Routes of the outcome measures and the federal extract: counts and rates for a unit, county and period; the
NCANDS/AFCARS extract produced as a job whose progress can be read, its files downloaded when done. Who may: the
policy table's reporting actions (`sop_shared.policy.REPORTING_ROLE_ACTIONS`). Every access is audited."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import select
from sqlmodel import col

from sop_practice.outcomes import extract, rules
from sop_practice.outcomes.elements import element_map
from sop_practice.outcomes.jobs import new_job, run_extract_job
from sop_practice.outcomes.models import ExtractFile, ExtractJob
from sop_practice.outcomes.schemas import (
    PERIOD_HELP,
    ElementFileOut,
    ElementMapOut,
    ExtractFileOut,
    ExtractIn,
    ExtractJobOut,
    OutcomeMeasure,
    OutcomeScopeOut,
    OutcomesOut,
    ReunificationOut,
)
from sop_practice.outcomes.service import OutcomeScope, outcome_tally
from sop_shared.aggregates import period_range, shown_count
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal
from sop_shared.case_refs import NotCaseScoped
from sop_shared.clock import Now
from sop_shared.db import SessionDep
from sop_shared.jobs import JobStatus, run_in_background
from sop_shared.policy import SMALL_CELL_MIN, ReportingAction, reporting_actions
from sop_shared.problems import Conflict, Forbidden, InvalidInput, NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["outcomes"])

Name = Annotated[str | None, Query(min_length=1, max_length=200)]
JobId = Annotated[uuid.UUID, NotCaseScoped("a federal extract job: never one case's")]
FileName = Annotated[str, Path(max_length=100, pattern=r"^[a-z_]+\.(csv|parquet|json)$")]


class ExtractRunning(Conflict):
    slug, title = "extract-running", "A federal extract is already being produced"


def require_reporting(principal: Principal, action: ReportingAction) -> None:
    if action not in reporting_actions(principal.actor_type, principal.roles):
        raise Forbidden(f"needs {action.value}: practice leads, administrators and auditors (see the policy table)")


def _period(period: str, field: str = "period") -> tuple[str, tuple[date, date]]:
    span = period_range(period)
    if span is None:
        raise InvalidInput.field(field, "give a year (2026), a quarter (2026-Q4) or a month (2026-11)")
    return period.strip(), span


@router.get("/outcomes", response_model=OutcomesOut, dependencies=[known_query_params()])
async def read_outcomes(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
    period: Annotated[str, Query(max_length=7, description=PERIOD_HELP)],
    unit: Name = None,
    county: Name = None,
    after_days: Annotated[
        int, Query(ge=0, le=365, description="N in 'a removal while the plan was in force or within N days after'")
    ] = rules.DEFAULT_AFTER_PLAN_DAYS,
) -> OutcomesOut:
    """Outcomes from the SACWIS history the network announces (the practice read model), for the cases of a unit
    and/or county (none: the state) in `period`: repeat screened-in reports within 6 and 12 months of a case's
    closing and of its first report, removals after a safety plan was in force (while in force or within
    `after_days` after), time to reunification (median days from removal to discharge to the family). Counts and
    rates only: a count of 1 to 4 is never shown (`suppressed`). Windows not over by today are not counted yet.
    `reporting:outcomes`."""
    require_reporting(principal, ReportingAction.read_outcomes)
    name, span = _period(period)
    as_of = now.date()
    scope = OutcomeScope(unit=unit, county=county)
    tally = await outcome_tally(session, scope, span, as_of, after_days)
    reunified = rules.reunification(tally)
    await audit_request(request, session, principal, resource="outcomes", action="read")
    return OutcomesOut(
        scope=OutcomeScopeOut(
            unit=unit, county=county, period=name, period_from=span[0], period_to=span[1], as_of=as_of
        ),
        cases=shown_count(tally.cases),
        after_plan_days=after_days,
        measures=[OutcomeMeasure(**vars(m)) for m in rules.measures(tally, after_days)],
        reunification=ReunificationOut(**vars(reunified)),
        small_cell_minimum=SMALL_CELL_MIN,
    )


@router.get("/extracts/element-map", response_model=ElementMapOut, dependencies=[known_query_params()])
async def read_element_map(request: Request, session: SessionDep, principal: CurrentPrincipal) -> ElementMapOut:
    """The element map the extract uses: each NCANDS child-file and AFCARS foster-care element, the platform field
    that fills it or why it cannot, and the data-quality rules. `reporting:extract`."""
    require_reporting(principal, ReportingAction.extract)
    found = element_map()
    await audit_request(request, session, principal, resource="extract_element_map", action="read")
    return ElementMapOut(
        ref=found.ref,
        title=found.title,
        note=found.note,
        files=[ElementFileOut.model_validate(f.model_dump()) for f in found.files],
        data_quality_rules=extract.RULES,
    )


async def _job_out(session: SessionDep, job: ExtractJob) -> ExtractJobOut:
    files: list[ExtractFileOut] = []
    if job.status == JobStatus.succeeded:
        rows = await session.execute(
            select(col(ExtractFile.name), col(ExtractFile.media_type), col(ExtractFile.size), col(ExtractFile.sha256))
            .where(col(ExtractFile.job_id) == job.id)
            .order_by(col(ExtractFile.name))
        )
        files = [
            ExtractFileOut(
                name=name, media_type=media, size=size, sha256=sha, href=f"/v1/extracts/{job.id}/files/{name}"
            )
            for name, media, size, sha in rows
        ]
    return ExtractJobOut.model_validate({**job.model_dump(), "files": files})


@router.post("/extracts", status_code=202, response_model=ExtractJobOut, dependencies=[known_query_params()])
async def start_extract(
    body: ExtractIn, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> ExtractJobOut:
    """Produce the federal extract (NCANDS child file, AFCARS foster care file) for `period`, the state or one
    county, in the background: answers the job at once (202, `Location`); follow it at `GET /v1/extracts/{id}`
    (cases read of the total), then download its files. One at a time (409 while one runs). `reporting:extract`."""
    require_reporting(principal, ReportingAction.extract)
    name, _ = _period(body.period)
    job = await new_job(session, principal.subject, name, body.county)
    if job is None:
        raise ExtractRunning("wait for the running extract to finish")
    await audit_request(request, session, principal, resource="federal_extract", action="create", resource_id=job.id)
    out = await _job_out(session, job)
    await session.commit()  # the job must exist before it starts
    run_in_background(request.app, f"extract-{job.id}", run_extract_job(request.app.state.database, job.id))
    response.headers["Location"] = f"/v1/extracts/{job.id}"
    return out


async def _job(session: SessionDep, job_id: uuid.UUID) -> ExtractJob:
    job = await session.get(ExtractJob, job_id)
    if job is None:
        raise NotFound("no such extract")
    return job


@router.get("/extracts/{job_id}", response_model=ExtractJobOut, dependencies=[known_query_params()])
async def read_extract(
    job_id: JobId, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> ExtractJobOut:
    """An extract's status and progress (`records_done` of `records_total` cases); when it succeeded, its files:
    each federal file as CSV and Parquet, `unfilled_elements.csv`, `data_quality.csv` and `report.json`."""
    require_reporting(principal, ReportingAction.extract)
    job = await _job(session, job_id)
    await audit_request(request, session, principal, resource="federal_extract", action="read", resource_id=job.id)
    return await _job_out(session, job)


@router.get(
    "/extracts/{job_id}/files/{name}",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}, "application/json": {}}}},
    dependencies=[known_query_params()],
)
async def download_extract_file(
    job_id: JobId, name: FileName, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """One file of a finished extract. It holds a record per child (ids and dates): `reporting:extract` only, and
    every download is audited."""
    require_reporting(principal, ReportingAction.extract)
    await _job(session, job_id)
    found = await session.get(ExtractFile, (job_id, name))
    if found is None:
        raise NotFound("no such file in this extract (is it finished?)")
    await audit_request(
        request, session, principal, resource="federal_extract", action="download", resource_id=job_id, fields=[name]
    )
    return Response(
        content=found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
