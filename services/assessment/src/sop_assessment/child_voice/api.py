"""Child-voice records over HTTP: Three Houses, Safety House, Words and Pictures, and their drawings.
What an audience sees depends on the child's consent to share (header X-SOP-Audience, set by the gateway)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.attachments.store import AttachmentStore, build_store
from sop_assessment.child_voice import rules, service
from sop_assessment.child_voice.models import ChildVoiceKind, ChildVoiceRecord
from sop_assessment.child_voice.schemas import (
    AttachmentOut,
    ChildVoiceIn,
    ChildVoiceOut,
    ChildVoicePage,
    ChildVoicePatch,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, require_case_scope
from sop_shared.case_refs import CaseOfRecord
from sop_shared.concurrency import IfMatchVersion, check_version, etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import PageDep
from sop_shared.policy import Audience, Scope
from sop_shared.problems import NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["child voice"])
CHILD_VOICE_FIELDS = ["child_voice"]


async def _audience(
    principal: CurrentPrincipal, x_sop_audience: Annotated[str | None, Header(alias="X-SOP-Audience")] = None
) -> Audience:
    return rules.request_audience(principal, x_sop_audience)


async def _store(request: Request) -> AttachmentStore:
    state = request.app.state
    store = getattr(state, "attachment_store", None)
    if store is None:
        store = build_store(state.settings)
        state.attachment_store = store
    return store


AudienceDep = Annotated[Audience, Depends(_audience)]
StoreDep = Annotated[AttachmentStore, Depends(_store)]


async def _record_for(
    session: AsyncSession, principal: Principal, record_id: uuid.UUID, scope: Scope, case_id: uuid.UUID | None = None
) -> ChildVoiceRecord:
    record = await service.get_record(session, record_id)
    if case_id is not None and record.case_id != case_id:
        raise service.ChildVoiceNotFound()
    try:
        require_case_scope(principal, record.case_id, scope)
    except NotFound:
        raise service.ChildVoiceNotFound() from None
    return record


def _fields(out: ChildVoiceOut) -> list[str]:
    return [] if out.restricted else CHILD_VOICE_FIELDS


@router.post(
    "/cases/{case_id}/child-voice", status_code=201, response_model=ChildVoiceOut, dependencies=[known_query_params()]
)
async def create_child_voice(
    case_id: uuid.UUID,
    body: Annotated[ChildVoiceIn, Body()],
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    audience: AudienceDep,
) -> Response:
    """Record a session with a child in the child's exact words, with whom the child agreed to share it.
    Drawings are uploaded to the record afterwards and referenced by id (PATCH)."""
    require_case_scope(principal, case_id, Scope.case_write)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(
            request,
            session,
            principal,
            resource="child_voice",
            action="read",
            case_id=case_id,
            resource_id=json.loads(bytes(replayed.body)).get("id"),
            fields=CHILD_VOICE_FIELDS,
        )
        return replayed
    record = await service.create_record(session, case_id=case_id, body=body, created_by=principal.subject)
    out = await service.record_out(session, record, audience, principal.person_id)
    await audit_request(
        request,
        session,
        principal,
        resource="child_voice",
        action="create",
        case_id=case_id,
        resource_id=record.id,
        fields=_fields(out),
    )
    content = out.model_dump(mode="json")
    headers = {"Location": f"/v1/child-voice/{record.id}", "ETag": etag(record.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.get(
    "/cases/{case_id}/child-voice",
    response_model=ChildVoicePage,
    dependencies=[known_query_params("kind", "limit", "cursor")],
)
async def list_child_voice(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: AudienceDep,
    kind: Annotated[ChildVoiceKind | None, Query(description="Only records of this kind")] = None,
) -> ChildVoicePage:
    """A case's child-voice records, oldest first; records the child did not share with this audience show
    only that they exist."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await service.list_records(session, case_id=case_id, page=page, kind=kind)
    items = [await service.record_out(session, row, audience, principal.person_id) for row in rows]
    await audit_request(
        request,
        session,
        principal,
        resource="child_voice",
        action="read",
        case_id=case_id,
        fields=CHILD_VOICE_FIELDS if any(not i.restricted for i in items) else [],
    )
    return ChildVoicePage(items=items, next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}/child-voice/{record_id}", response_model=ChildVoiceOut, dependencies=[known_query_params()]
)
@router.get("/child-voice/{record_id}", response_model=ChildVoiceOut, dependencies=[known_query_params()])
async def get_child_voice(
    record_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: AudienceDep,
    case_id: CaseOfRecord = None,
) -> ChildVoiceOut:
    record = await _record_for(session, principal, record_id, Scope.case_read, case_id)
    out = await service.record_out(session, record, audience, principal.person_id)
    await audit_request(
        request,
        session,
        principal,
        resource="child_voice",
        action="read",
        case_id=record.case_id,
        resource_id=record.id,
        fields=_fields(out),
    )
    if not out.restricted:
        set_etag(response, record.version)
    return out


@router.patch(
    "/cases/{case_id}/child-voice/{record_id}", response_model=ChildVoiceOut, dependencies=[known_query_params()]
)
@router.patch("/child-voice/{record_id}", response_model=ChildVoiceOut, dependencies=[known_query_params()])
async def update_child_voice(
    record_id: uuid.UUID,
    body: ChildVoicePatch,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    audience: AudienceDep,
    case_id: CaseOfRecord = None,
) -> ChildVoiceOut:
    """Change the content or the child's consent (If-Match). Consent may be narrowed at any time."""
    record = await _record_for(session, principal, record_id, Scope.case_write, case_id)
    check_version(record.version, expected)
    await service.update_record(session, record, body, by=principal.subject)
    out = await service.record_out(session, record, audience, principal.person_id)
    await audit_request(
        request,
        session,
        principal,
        resource="child_voice",
        action="update",
        case_id=record.case_id,
        resource_id=record.id,
        fields=_fields(out),
    )
    set_etag(response, record.version)
    return out


@router.post(
    "/cases/{case_id}/child-voice/{record_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    dependencies=[known_query_params()],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
@router.post(
    "/child-voice/{record_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    dependencies=[known_query_params()],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_drawing(
    record_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    store: StoreDep,
    content_type: Annotated[str, Header(alias="Content-Type")] = "",
    case_id: CaseOfRecord = None,
) -> Response:
    """Upload a drawing as the raw request body (Content-Type image/png or image/jpeg; the bytes are checked,
    not just the header; at most SOP_ASSESSMENT_ATTACHMENT_MAX_BYTES)."""
    record = await _record_for(session, principal, record_id, Scope.case_write, case_id)
    max_bytes = request.app.state.settings.attachment_max_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise service.AttachmentTooLarge(f"a drawing may be at most {max_bytes} bytes")
    data = await request.body()
    attachment = await service.add_attachment(
        session, store, record, data=data, declared_type=content_type, max_bytes=max_bytes, created_by=principal.subject
    )
    await audit_request(
        request,
        session,
        principal,
        resource="child_voice_attachment",
        action="create",
        case_id=record.case_id,
        resource_id=attachment.id,
        fields=CHILD_VOICE_FIELDS,
    )
    content = AttachmentOut.model_validate(attachment, from_attributes=True).model_dump(mode="json")
    return JSONResponse(
        content, status_code=201, headers={"Location": f"/v1/child-voice/{record.id}/attachments/{attachment.id}"}
    )


@router.get(
    "/cases/{case_id}/child-voice/{record_id}/attachments/{attachment_id}",
    dependencies=[known_query_params()],
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
)
@router.get(
    "/child-voice/{record_id}/attachments/{attachment_id}",
    dependencies=[known_query_params()],
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
)
async def download_drawing(
    record_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: AudienceDep,
    store: StoreDep,
    case_id: CaseOfRecord = None,
) -> Response:
    """A drawing, only for an audience the child agreed to share the record with (others: 404)."""
    record = await _record_for(session, principal, record_id, Scope.case_read, case_id)
    if not service.may_see_record(record, audience, principal.person_id):
        raise service.AttachmentNotFound()
    attachment = await service.get_attachment(session, record, attachment_id)
    data = await store.get(attachment.storage_key)
    await audit_request(
        request,
        session,
        principal,
        resource="child_voice_attachment",
        action="read",
        case_id=record.case_id,
        resource_id=attachment.id,
        fields=CHILD_VOICE_FIELDS,
    )
    return Response(
        data,
        media_type=attachment.content_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
