"""Small HTTP helpers the assessment domains share: the idempotent create response."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from sop_shared.audit import audit_request
from sop_shared.auth import Principal
from sop_shared.concurrency import etag
from sop_shared.idempotency import IdempotentCreate


async def idempotent_create(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    idempotency: IdempotentCreate,
    body: Any,
    *,
    resource: str,
    case_id: uuid.UUID | None,
    create: Callable[[], Awaitable[Any]],
    render: Callable[[Any], BaseModel],
    location: Callable[[Any], str],
    version: Callable[[Any], int] | None = None,
) -> JSONResponse:
    """Replay a repeated create (audited as a read), or create, audit and remember the first response."""
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(
            request,
            session,
            principal,
            resource=resource,
            action="read",
            case_id=case_id,
            resource_id=json.loads(bytes(replayed.body)).get("id"),
        )
        return replayed
    record = await create()
    await audit_request(
        request, session, principal, resource=resource, action="create", case_id=case_id, resource_id=record.id
    )
    content = render(record).model_dump(mode="json")
    headers = {"Location": location(record)}
    if version is not None:
        headers["ETag"] = etag(version(record))
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)
