"""`POST /oauth/token` (RFC 6749 client credentials) and `/v1/integration-clients` (administrators)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from sop_gateway.api_tokens.rules import scope_errors
from sop_gateway.credentials import EdgePrincipal, require_admin
from sop_gateway.models import IntegrationClient
from sop_gateway.oauth.service import (
    CLIENT_ID_PATTERN,
    INTEGRATION_SCOPES,
    client_for_credentials,
    list_clients,
    register_client,
    revoke_client,
)
from sop_shared.audit import AuditEntry
from sop_shared.auth import Principal
from sop_shared.openapi import OWN_ERROR_FORMAT
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import ActorType
from sop_shared.problems import NotFound

router = APIRouter(tags=["oauth"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers={**NO_STORE, **(headers or {})}
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


class OAuthError(BaseModel):
    """An OAuth 2 error (RFC 6749 §5.2), as the token endpoint answers it."""

    error: str
    error_description: str | None = None


_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthError, "description": "invalid_request, unsupported_grant_type or invalid_scope"},
    401: {"model": OAuthError, "description": "invalid_client: unknown client or wrong secret"},
}
for _declared in _OAUTH_ERRORS.values():
    _declared[OWN_ERROR_FORMAT] = "rfc6749"
_OAUTH_ERRORS |= {  # these two are problem details, like every other error
    404: {"description": "Client credentials are not enabled on this gateway"},
    429: {"description": "Too many attempts: wait `Retry-After` seconds"},
}


@router.post(
    "/oauth/token",
    summary="OAuth2 client credentials: a short-lived gateway token for a client",
    responses=_OAUTH_ERRORS,
)
async def token(request: Request) -> JSONResponse:
    signer = request.app.state.token_signer
    if signer is None:
        raise NotFound("client credentials are not enabled on this gateway")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "send application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "the body is not UTF-8")
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            return _oauth_error(400, "invalid_request", f"{name} given twice")
        form[name] = value
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only grant_type=client_credentials")
    basic = _basic_credentials(request)
    if basic and ("client_secret" in form):
        return _oauth_error(400, "invalid_request", "authenticate the client one way, not two")
    client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
    if not client_id or not secret:
        return _oauth_error(
            401, "invalid_client", "client authentication failed", {"WWW-Authenticate": 'Basic realm="sop-gateway"'}
        )
    # Wrong secrets count in a window of their own, per client and source address: a guesser elsewhere can
    # neither spend the real client's API budget nor lock the real client out. (Behind a proxy the source
    # address is the one uvicorn takes from X-Forwarded-For when --forwarded-allow-ips trusts the proxy.)
    rate_limits = request.app.state.rate_limits
    source = request.client.host if request.client else "unknown"
    await rate_limits.refuse_after_failed_secrets(client_id, source)
    async with request.app.state.database.session() as session:
        client = await client_for_credentials(session, client_id, secret)
    if client is None:
        await rate_limits.count_failed_secret(client_id, source)
        return _oauth_error(
            401, "invalid_client", "client authentication failed", {"WWW-Authenticate": 'Basic realm="sop-gateway"'}
        )
    # A proven client's token requests count against its own window, like its API calls.
    await rate_limits.check(
        Principal(subject=client.client_id, actor_type=ActorType.integration, client_id=client.client_id)
    )
    requested = form.get("scope", "").split() or list(client.scopes)
    if set(requested) - set(client.scopes):
        return _oauth_error(400, "invalid_scope", "the client may ask for: " + " ".join(client.scopes))
    scopes = sorted(set(requested))
    return JSONResponse(
        {
            "access_token": signer.mint(client, scopes),
            "token_type": "Bearer",
            "expires_in": signer.lifetime_seconds,
            "scope": " ".join(scopes),
        },
        headers=NO_STORE,
    )


class IntegrationClientCreate(BaseModel):
    model_config = {"extra": "forbid"}

    client_id: str = Field(min_length=1, max_length=64, description="e.g. chris-sync")
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(description="Integration scopes: cases:sync, case:read, training:sync")

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, client_id: str) -> str:
        if not CLIENT_ID_PATTERN.match(client_id):
            raise ValueError("3-63 characters: lower-case letters, digits, '.', '-'")
        return client_id

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, scopes: list[str]) -> list[str]:
        for error in scope_errors(scopes, INTEGRATION_SCOPES):
            raise ValueError(error["message"])
        return scopes


class IntegrationClientOut(BaseModel):
    id: uuid.UUID
    client_id: str
    name: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, client: IntegrationClient) -> IntegrationClientOut:
        return cls.model_validate(client, from_attributes=True)


class IntegrationClientRegistered(IntegrationClientOut):
    client_secret: str = Field(description="Shown this once; the platform keeps only its hash.")


async def _audit(request: Request, session: Any, principal: Any, action: str, client_uuid: uuid.UUID) -> None:
    await request.app.state.audit.record(
        session,
        AuditEntry.for_principal(
            principal,
            resource="integration_client",
            action=action,
            resource_id=str(client_uuid),
            request_id=getattr(request.state, "request_id", None),
        ),
    )


@router.post(
    "/v1/integration-clients",
    status_code=201,
    response_model=IntegrationClientRegistered,
    summary="Register an integration client (administrators); the secret is in this response only",
)
async def create_integration_client(
    body: IntegrationClientCreate, request: Request, response: Response, principal: EdgePrincipal
) -> IntegrationClientRegistered:
    require_admin(principal)
    async with request.app.state.database.session() as session:
        client, secret = await register_client(
            session, client_id=body.client_id, name=body.name, scopes=body.scopes, created_by=principal.subject
        )
        await _audit(request, session, principal, "create", client.id)
    response.headers["Location"] = f"/v1/integration-clients/{client.id}"
    response.headers["Cache-Control"] = "no-store"
    return IntegrationClientRegistered(**IntegrationClientOut.of(client).model_dump(), client_secret=secret)


@router.get(
    "/v1/integration-clients",
    response_model=Page[IntegrationClientOut],
    summary="List integration clients (administrators), never their secrets",
)
async def get_integration_clients(
    request: Request, principal: EdgePrincipal, page: PageDep
) -> Page[IntegrationClientOut]:
    require_admin(principal)
    async with request.app.state.database.session() as session:
        rows = await list_clients(session, page)
    items, next_cursor = page.page(rows)
    return Page(items=[IntegrationClientOut.of(c) for c in items], next_cursor=next_cursor)


@router.delete(
    "/v1/integration-clients/{client_uuid}",
    response_model=IntegrationClientOut,
    summary="Revoke an integration client (administrators); its tokens stop working at once",
)
async def delete_integration_client(
    client_uuid: uuid.UUID, request: Request, principal: EdgePrincipal
) -> IntegrationClientOut:
    require_admin(principal)
    async with request.app.state.database.session() as session:
        client = await revoke_client(session, client_uuid, principal.subject)
        await _audit(request, session, principal, "delete", client.id)
    return IntegrationClientOut.of(client)
