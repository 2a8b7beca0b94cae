"""Trauma histories and known triggers over HTTP, under their case. Restricted like 42 CFR Part 2 data: only an
audience a recorded consent names reads one (X-SOP-Audience, set by the gateway); others see that it exists."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.case_view.access import require_record_scope
from sop_assessment.case_view.http import idempotent_create
from sop_assessment.trauma import service
from sop_assessment.trauma.models import TraumaHistory
from sop_assessment.trauma.schemas import TraumaHistoryIn, TraumaHistoryOut, TraumaHistoryPage, TraumaHistoryPatch
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_case_scope
from sop_shared.concurrency import IfMatchVersion, check_version, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import PageDep
from sop_shared.policy import Scope
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["trauma-informed practice"])
FIELDS = ["trauma_history"]


def _fields(out: TraumaHistoryOut) -> list[str]:
    return [] if out.restricted else FIELDS


async def _record_for(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, history_id: uuid.UUID, scope: Scope
) -> TraumaHistory:
    record = await session.get(TraumaHistory, history_id)
    require_record_scope(principal, record, scope, service.TraumaHistoryNotFound(), path_case_id=case_id)
    assert record is not None
    return record


@router.post("/trauma-histories", status_code=201, response_model=TraumaHistoryOut, dependencies=[known_query_params()])
async def record_trauma_history(
    case_id: uuid.UUID,
    body: TraumaHistoryIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    audience: RequestAudience,
) -> Response:
    """Record a child's or a caregiver's trauma history and known triggers (what sets them off, what helps),
    with the audiences a recorded consent names. Nobody else reads it, the worker included."""
    require_case_scope(principal, case_id, Scope.case_write)

    async def create() -> TraumaHistory:
        return await service.create_history(session, case_id=case_id, body=body, created_by=principal.subject)

    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="trauma_history",
        case_id=case_id,
        create=create,
        render=lambda record: service.history_out(record, audience),
        location=lambda record: f"/v1/cases/{case_id}/trauma-histories/{record.id}",
        version=lambda record: record.version,
    )


@router.get("/trauma-histories", response_model=TraumaHistoryPage, dependencies=[known_query_params("limit", "cursor")])
async def list_trauma_histories(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
) -> TraumaHistoryPage:
    """The case's trauma histories, oldest first; one without a consent naming this audience shows only that it
    exists."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await service.list_histories(session, case_id=case_id, page=page)
    items = [service.history_out(row, audience) for row in rows]
    await audit_request(
        request,
        session,
        principal,
        resource="trauma_history",
        action="read",
        case_id=case_id,
        fields=FIELDS if any(not i.restricted for i in items) else [],
    )
    return TraumaHistoryPage(items=items, next_cursor=next_cursor)


@router.get("/trauma-histories/{history_id}", response_model=TraumaHistoryOut, dependencies=[known_query_params()])
async def get_trauma_history(
    case_id: uuid.UUID,
    history_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> TraumaHistoryOut:
    record = await _record_for(session, principal, case_id, history_id, Scope.case_read)
    out = service.history_out(record, audience)
    await audit_request(
        request,
        session,
        principal,
        resource="trauma_history",
        action="read",
        case_id=case_id,
        resource_id=record.id,
        fields=_fields(out),
    )
    if not out.restricted:
        set_etag(response, record.version)
    return out


@router.patch("/trauma-histories/{history_id}", response_model=TraumaHistoryOut, dependencies=[known_query_params()])
async def update_trauma_history(
    case_id: uuid.UUID,
    history_id: uuid.UUID,
    body: TraumaHistoryPatch,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    audience: RequestAudience,
) -> TraumaHistoryOut:
    """Change the history, the triggers or the consent (If-Match). A consent may be narrowed at any time."""
    record = await _record_for(session, principal, case_id, history_id, Scope.case_write)
    check_version(record.version, expected)
    await service.update_history(session, record, body)
    out = service.history_out(record, audience)
    await audit_request(
        request,
        session,
        principal,
        resource="trauma_history",
        action="update",
        case_id=case_id,
        resource_id=record.id,
        fields=_fields(out),
    )
    set_etag(response, record.version)
    return out
