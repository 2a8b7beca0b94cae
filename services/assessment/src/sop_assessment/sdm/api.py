"""SDM instruments and assessments over HTTP. The server scores; nothing computed is taken from the client."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.sdm import service
from sop_assessment.sdm.instrument import Catalog, InstrumentKind
from sop_assessment.sdm.models import SdmAssessment, SdmStatus
from sop_assessment.sdm.schemas import (
    ApprovalIn,
    InstrumentPage,
    InstrumentSummary,
    OverrideIn,
    SdmAssessmentIn,
    SdmAssessmentOut,
    SdmAssessmentPage,
    SdmAssessmentPatch,
    SdmCompleteIn,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, require_case, require_case_scope, require_scope
from sop_shared.case_refs import CaseOfRecord
from sop_shared.concurrency import IfMatchVersion, OptionalIfMatchVersion, check_version, etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import PageDep
from sop_shared.policy import Scope
from sop_shared.problems import NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["sdm"])


async def _catalog(request: Request) -> Catalog:
    return service.catalog_of(request.app)


async def _holidays(request: Request) -> list[date]:
    return service.holidays_of(request.app)


CatalogDep = Annotated[Catalog, Depends(_catalog)]
HolidaysDep = Annotated[list[date], Depends(_holidays)]
OptionalIfMatch = OptionalIfMatchVersion


class InstrumentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such instrument version")


@router.get("/instruments", response_model=InstrumentPage, dependencies=[known_query_params("kind")])
async def list_instruments(
    catalog: CatalogDep,
    principal: CurrentPrincipal,
    kind: Annotated[InstrumentKind | None, Query(description="Only instruments of this kind")] = None,
) -> InstrumentPage:
    """Every loaded instrument version: the packaged illustrative ones and the state's configured ones."""
    items = [
        InstrumentSummary(
            key=i.instrument.key,
            version=i.instrument.version,
            kind=i.instrument.kind.value,
            title=i.instrument.title,
            illustrative=i.instrument.illustrative,
            notice=i.instrument.notice,
            source=i.source,
            sha256=i.sha256,
        )
        for i in catalog.all()
        if kind is None or i.instrument.kind == kind
    ]
    return InstrumentPage(items=items, next_cursor=None)


@router.get("/instruments/{key}/versions/{version}", dependencies=[known_query_params()])
async def get_instrument(
    key: str,
    version: str,
    catalog: CatalogDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """One instrument definition: items, options, points, indices, thresholds, overrides, decision rules,
    checks and due-date rules, with where it was loaded from and the hash of its file."""
    loaded = catalog.get(key, version)
    if loaded is None:
        raise InstrumentNotFound()
    return {
        **loaded.instrument.model_dump(mode="json", by_alias=True, exclude_none=True),
        "source": loaded.source,
        "sha256": loaded.sha256,
    }


async def _assessment_for(
    session: AsyncSession,
    principal: Principal,
    assessment_id: uuid.UUID,
    scope: Scope,
    case_id: uuid.UUID | None = None,
) -> SdmAssessment:
    """The assessment if the token's case is its case; another case's and a missing one answer the same 404."""
    assessment = await service.get_assessment(session, assessment_id)
    if case_id is not None and assessment.case_id != case_id:
        raise service.SdmAssessmentNotFound()
    try:
        require_case(principal, assessment.case_id)
    except NotFound:
        raise service.SdmAssessmentNotFound() from None
    # A worker who may read the case but not decide approvals is told so (403), not "not found".
    require_case_scope(principal, assessment.case_id, scope)
    return assessment


def _respond(assessment: SdmAssessment, catalog: Catalog, response: Response) -> SdmAssessmentOut:
    set_etag(response, assessment.version)
    return service.assessment_out(assessment, catalog)


@router.post(
    "/cases/{case_id}/sdm-assessments",
    status_code=201,
    response_model=SdmAssessmentOut,
    dependencies=[known_query_params()],
)
async def create_sdm_assessment(
    case_id: uuid.UUID,
    body: SdmAssessmentIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    catalog: CatalogDep,
    holidays: HolidaysDep,
) -> Response:
    """Start a draft assessment with the answers known so far (they are checked against the instrument)."""
    require_case_scope(principal, case_id, Scope.case_write)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(
            request,
            session,
            principal,
            resource="sdm_assessment",
            action="read",
            case_id=case_id,
            resource_id=json.loads(bytes(replayed.body)).get("id"),
        )
        return replayed
    assessment = await service.create_assessment(
        session, catalog=catalog, case_id=case_id, body=body, created_by=principal.subject, holidays=holidays
    )
    await audit_request(
        request,
        session,
        principal,
        resource="sdm_assessment",
        action="create",
        case_id=case_id,
        resource_id=assessment.id,
    )
    content = service.assessment_out(assessment, catalog).model_dump(mode="json")
    headers = {"Location": f"/v1/sdm-assessments/{assessment.id}", "ETag": etag(assessment.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.get(
    "/cases/{case_id}/sdm-assessments",
    response_model=SdmAssessmentPage,
    dependencies=[known_query_params("instrument_key", "status", "limit", "cursor")],
)
async def list_sdm_assessments(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    catalog: CatalogDep,
    instrument_key: Annotated[str | None, Query(max_length=64, description="Only this instrument")] = None,
    status: Annotated[SdmStatus | None, Query(description="Only assessments in this status")] = None,
) -> SdmAssessmentPage:
    """A case's SDM assessments (every revision), oldest first."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await service.list_assessments(
        session, case_id=case_id, page=page, instrument_key=instrument_key, status=status
    )
    await audit_request(request, session, principal, resource="sdm_assessment", action="read", case_id=case_id)
    return SdmAssessmentPage(items=[service.assessment_out(r, catalog) for r in rows], next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}/sdm-assessments/{assessment_id}",
    response_model=SdmAssessmentOut,
    dependencies=[known_query_params()],
)
@router.get("/sdm-assessments/{assessment_id}", response_model=SdmAssessmentOut, dependencies=[known_query_params()])
async def get_sdm_assessment(
    assessment_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    catalog: CatalogDep,
    case_id: CaseOfRecord = None,
) -> SdmAssessmentOut:
    assessment = await _assessment_for(session, principal, assessment_id, Scope.case_read, case_id)
    await audit_request(
        request,
        session,
        principal,
        resource="sdm_assessment",
        action="read",
        case_id=assessment.case_id,
        resource_id=assessment.id,
    )
    return _respond(assessment, catalog, response)


@router.patch(
    "/cases/{case_id}/sdm-assessments/{assessment_id}",
    response_model=SdmAssessmentOut,
    dependencies=[known_query_params()],
)
@router.patch("/sdm-assessments/{assessment_id}", response_model=SdmAssessmentOut, dependencies=[known_query_params()])
async def update_sdm_assessment(
    assessment_id: uuid.UUID,
    body: SdmAssessmentPatch,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    catalog: CatalogDep,
    holidays: HolidaysDep,
    case_id: CaseOfRecord = None,
) -> SdmAssessmentOut:
    """Change a draft's answers (If-Match: the version you read). Completed and approved ones cannot change."""
    assessment = await _assessment_for(session, principal, assessment_id, Scope.case_write, case_id)
    check_version(assessment.version, expected)
    await service.update_draft(session, assessment, catalog=catalog, body=body, holidays=holidays)
    await audit_request(
        request,
        session,
        principal,
        resource="sdm_assessment",
        action="update",
        case_id=assessment.case_id,
        resource_id=assessment.id,
    )
    return _respond(assessment, catalog, response)


@router.post(
    "/cases/{case_id}/sdm-assessments/{assessment_id}/complete",
    response_model=SdmAssessmentOut,
    dependencies=[known_query_params()],
)
@router.post(
    "/sdm-assessments/{assessment_id}/complete", response_model=SdmAssessmentOut, dependencies=[known_query_params()]
)
async def complete_sdm_assessment(
    assessment_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: OptionalIfMatch,
    catalog: CatalogDep,
    holidays: HolidaysDep,
    case_id: CaseOfRecord = None,
    body: SdmCompleteIn | None = None,
) -> SdmAssessmentOut:
    """The server computes every score, level and decision from the stored answers. A conditionally safe
    decision emits `sop.assessment.safety_plan.required`; an unsafe one needs a protective placement. A
    protective intervention needs the threat it answers, unless a supervisor (`approvals:decide`) completes
    it with `supervisor_review` (anyone else giving one: 403). A screened-in report needs a response priority
    (not "none") and its initiation deadline (the anchor it counts from). Otherwise 422 naming the field."""
    assessment = await _assessment_for(session, principal, assessment_id, Scope.case_write, case_id)
    if expected is not None:
        check_version(assessment.version, expected)
    review = body.supervisor_review if body is not None else None
    if review is not None:
        require_scope(principal, Scope.approvals_decide)  # the review is a supervisor's decision, recorded as theirs
    await service.complete(
        session, assessment, catalog=catalog, by=principal.subject, holidays=holidays, supervisor_review=review
    )
    await audit_request(
        request,
        session,
        principal,
        resource="sdm_assessment",
        action="update",
        case_id=assessment.case_id,
        resource_id=assessment.id,
    )
    return _respond(assessment, catalog, response)


@router.post(
    "/cases/{case_id}/sdm-assessments/{assessment_id}/override",
    response_model=SdmAssessmentOut,
    dependencies=[known_query_params()],
)
@router.post(
    "/sdm-assessments/{assessment_id}/override", response_model=SdmAssessmentOut, dependencies=[known_query_params()]
)
async def override_sdm_assessment(
    assessment_id: uuid.UUID,
    body: OverrideIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: OptionalIfMatch,
    catalog: CatalogDep,
    holidays: HolidaysDep,
    case_id: CaseOfRecord = None,
) -> SdmAssessmentOut:
    """Policy override (→ very high, at once), discretionary override (exactly one level up, with reasons,
    pending a supervisor) or a response-priority downgrade (pending a supervisor)."""
    assessment = await _assessment_for(session, principal, assessment_id, Scope.case_write, case_id)
    if expected is not None:
        check_version(assessment.version, expected)
    await service.request_override(
        session, assessment, catalog=catalog, body=body, by=principal.subject, holidays=holidays
    )
    await audit_request(
        request,
        session,
        principal,
        resource="sdm_assessment",
        action="update",
        case_id=assessment.case_id,
        resource_id=assessment.id,
    )
    return _respond(assessment, catalog, response)


@router.post(
    "/cases/{case_id}/sdm-assessments/{assessment_id}/approve",
    response_model=SdmAssessmentOut,
    dependencies=[known_query_params()],
)
@router.post(
    "/sdm-assessments/{assessment_id}/approve", response_model=SdmAssessmentOut, dependencies=[known_query_params()]
)
async def approve_sdm_assessment(
    assessment_id: uuid.UUID,
    body: ApprovalIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: OptionalIfMatch,
    catalog: CatalogDep,
    holidays: HolidaysDep,
    case_id: CaseOfRecord = None,
) -> SdmAssessmentOut:
    """A supervisor (scope approvals:decide) approves — the result is then frozen — or returns a pending
    override or downgrade for edits."""
    assessment = await _assessment_for(session, principal, assessment_id, Scope.approvals_decide, case_id)
    if expected is not None:
        check_version(assessment.version, expected)
    await service.decide(session, assessment, catalog=catalog, body=body, by=principal.subject, holidays=holidays)
    await audit_request(
        request,
        session,
        principal,
        resource="sdm_assessment",
        action="decide",
        case_id=assessment.case_id,
        resource_id=assessment.id,
    )
    return _respond(assessment, catalog, response)


@router.post(
    "/cases/{case_id}/sdm-assessments/{assessment_id}/amend",
    status_code=201,
    response_model=SdmAssessmentOut,
    dependencies=[known_query_params()],
)
@router.post(
    "/sdm-assessments/{assessment_id}/amend",
    status_code=201,
    response_model=SdmAssessmentOut,
    dependencies=[known_query_params()],
)
async def amend_sdm_assessment(
    assessment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    catalog: CatalogDep,
    case_id: CaseOfRecord = None,
) -> Response:
    """A new draft revision with the same answers; the amended revision (and its approval) stays as it was."""
    assessment = await _assessment_for(session, principal, assessment_id, Scope.case_write, case_id)
    amended = await service.amend(session, assessment, by=principal.subject)
    await audit_request(
        request,
        session,
        principal,
        resource="sdm_assessment",
        action="create",
        case_id=amended.case_id,
        resource_id=amended.id,
    )
    content = service.assessment_out(amended, catalog).model_dump(mode="json")
    return JSONResponse(
        content,
        status_code=201,
        headers={"Location": f"/v1/sdm-assessments/{amended.id}", "ETag": etag(amended.version)},
    )
