"""`/v1/api-tokens`: administrators issue, list and revoke partner agencies' API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from sop_gateway.api_tokens.rules import PARTNER_SCOPES, expiry_errors, scope_errors
from sop_gateway.api_tokens.service import issue_token, list_tokens, revoke_token
from sop_gateway.credentials import EdgePrincipal, require_admin
from sop_gateway.models import ApiToken
from sop_shared.audit import AuditEntry
from sop_shared.auth import Principal
from sop_shared.db import utcnow
from sop_shared.pagination import Page, PageDep
from sop_shared.problems import BadQuery

router = APIRouter(prefix="/v1/api-tokens", tags=["api tokens"])


class ApiTokenCreate(BaseModel):
    model_config = {"extra": "forbid"}

    agency: str = Field(min_length=1, max_length=100, description="The partner agency the token acts for")
    purpose: str = Field(min_length=1, max_length=200, description="Why the agency needs it (shown in audits)")
    scopes: list[str] = Field(description="Partner scopes, e.g. case:read")
    expires_at: datetime = Field(description="When the token stops working (at most a year ahead)")

    # The rules run here too, so that one 422 names every field that is wrong.
    @field_validator("scopes")
    @classmethod
    def _scopes(cls, scopes: list[str]) -> list[str]:
        for error in scope_errors(scopes, PARTNER_SCOPES):
            raise ValueError(error["message"])
        return scopes

    @field_validator("expires_at")
    @classmethod
    def _expiry(cls, expires_at: datetime) -> datetime:
        for error in expiry_errors(expires_at, utcnow()):
            raise ValueError(error["message"])
        return expires_at


class ApiTokenOut(BaseModel):
    id: uuid.UUID
    display_prefix: str
    agency: str
    purpose: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> ApiTokenOut:
        return cls.model_validate(token, from_attributes=True)


class ApiTokenIssued(ApiTokenOut):
    token: str = Field(description="The secret. Shown this once; the platform keeps only its hash.")


def _only_params(request: Request, *allowed: str) -> None:
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise BadQuery(
            f"unknown query parameter(s): {', '.join(unknown)}; this endpoint accepts: {', '.join(allowed)}",
            errors=[{"field": n, "message": "unknown query parameter"} for n in unknown],
        )


async def _audit(
    request: Request, session: AsyncSession, principal: Principal, action: str, token_id: uuid.UUID
) -> None:
    await request.app.state.audit.record(
        session,
        AuditEntry.for_principal(
            principal,
            resource="api_token",
            action=action,
            resource_id=str(token_id),
            request_id=getattr(request.state, "request_id", None),
        ),
    )


@router.post(
    "",
    status_code=201,
    response_model=ApiTokenIssued,
    summary="Issue a partner API token (administrators); the secret is in this response only",
)
async def create_api_token(
    body: ApiTokenCreate, request: Request, response: Response, principal: EdgePrincipal
) -> ApiTokenIssued:
    require_admin(principal)
    async with request.app.state.database.session() as session:
        token, secret = await issue_token(
            session,
            agency=body.agency,
            purpose=body.purpose,
            scopes=body.scopes,
            expires_at=body.expires_at,
            created_by=principal.subject,
        )
        await _audit(request, session, principal, "create", token.id)
    response.headers["Location"] = f"/v1/api-tokens/{token.id}"
    response.headers["Cache-Control"] = "no-store"
    return ApiTokenIssued(**ApiTokenOut.of(token).model_dump(), token=secret)


@router.get("", response_model=Page[ApiTokenOut], summary="List API tokens (administrators), never their secrets")
async def get_api_tokens(
    request: Request,
    principal: EdgePrincipal,
    page: PageDep,
    agency: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[ApiTokenOut]:
    require_admin(principal)
    _only_params(request, "agency", "limit", "cursor")
    async with request.app.state.database.session() as session:
        rows = await list_tokens(session, page, agency)
    items, next_cursor = page.page(rows)
    return Page(items=[ApiTokenOut.of(t) for t in items], next_cursor=next_cursor)


@router.delete(
    "/{token_id}", response_model=ApiTokenOut, summary="Revoke an API token (administrators); it stops working at once"
)
async def delete_api_token(token_id: uuid.UUID, request: Request, principal: EdgePrincipal) -> ApiTokenOut:
    require_admin(principal)
    async with request.app.state.database.session() as session:
        token = await revoke_token(session, token_id, principal.subject)
        await _audit(request, session, principal, "delete", token.id)
    return ApiTokenOut.of(token)
