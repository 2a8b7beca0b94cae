"""The REST façade: `/api/{service}/v1/…` passed through to the service, authenticated, access-checked
and audited at the edge. Paths under `cases/{case_id}` get a token scoped to that case."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Request, Response

from sop_gateway.access import forget_after_write, require_case_access
from sop_gateway.upstream import SERVICES, UpstreamError
from sop_shared.audit import AuditEntry
from sop_shared.auth import bearer_token
from sop_shared.problems import NotFound, ServiceUnavailable

router = APIRouter(tags=["rest facade"])

CASE_PATH = re.compile(r"^cases/(?P<case_id>[^/]+)(?:/|$)")
FORWARDED_REQUEST_HEADERS = ("content-type", "if-match", "idempotency-key", "accept", "x-sop-purpose")
FORWARDED_RESPONSE_HEADERS = (
    *("content-type", "etag", "location", "idempotent-replayed", "retry-after"),
    *("deprecation", "sunset", "link"),  # a route on its way out (sop_shared.response_headers.deprecated_route)
)
ACTIONS = {"GET": "read", "POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


async def facade(service: str, path: str, request: Request) -> Response:
    if service not in SERVICES:
        raise NotFound("no such API")
    state = request.app.state
    principal = await state.authenticator.authenticate(bearer_token(request))
    request.state.principal = principal
    case_id: uuid.UUID | None = None
    match = CASE_PATH.match(path)
    if match and match["case_id"] != "by-external":
        try:
            case_id = uuid.UUID(match["case_id"])
        except ValueError as exc:
            raise NotFound("no such case") from exc
        try:
            access = await require_case_access(state.services, state.access_cache, principal, case_id)
        except UpstreamError as exc:
            raise ServiceUnavailable("the case access check is unavailable right now") from exc
        downstream_principal = access.downstream(principal)
    else:
        downstream_principal = principal.scoped_to(None)
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
    try:
        upstream = await state.services.request(
            service,
            request.method,
            f"/v1/{path}",
            downstream_principal,
            params=request.query_params,
            content=await request.body(),
            headers=headers,
        )
    except UpstreamError as exc:
        if exc.idempotency_key is None:
            raise ServiceUnavailable(f"the {service} service is unavailable right now") from exc
        # The write may or may not have been stored: repeating it with this key returns what was stored, or
        # stores it now, never twice (the key is the client's own, or the one the gateway gave this request).
        raise ServiceUnavailable(
            f"the {service} service did not answer; send the request again with Idempotency-Key: {exc.idempotency_key}",
            idempotency_key=exc.idempotency_key,
        ) from exc
    forget_after_write(
        state.access_cache, service=service, method=request.method, case_id=case_id, status_code=upstream.status_code
    )
    if upstream.status_code < 400 or request.method != "GET":
        async with state.database.session() as session:
            # Recorded from what the gateway knows, never from headers the client could set.
            await state.audit.record(
                session,
                AuditEntry.for_principal(
                    principal,
                    resource=f"{service}:{path.split('/')[0]}",
                    action=ACTIONS.get(request.method, "read"),
                    case_id=case_id,
                    resource_id=f"{request.method} /v1/{path} -> {upstream.status_code}"[:100],
                    request_id=getattr(request.state, "request_id", None),
                ),
            )
    response_headers = {k: v for k, v in upstream.headers.items() if k.lower() in FORWARDED_RESPONSE_HEADERS}
    if "location" in response_headers:
        response_headers["location"] = public_location(service, response_headers["location"], case_id)
    return Response(upstream.content, status_code=upstream.status_code, headers=response_headers)


def public_location(service: str, location: str, case_id: uuid.UUID | None) -> str:
    """A service's `Location` (`/v1/<records>/<id>`, its own path) as the client reaches it through the gateway:
    `/api/<service>/v1/cases/<case>/<records>/<id>` when the request was made under a case (the façade scopes
    its token by that prefix), else `/api/<service>/v1/…`; anything else is left as the service said it."""
    if not location.startswith("/v1/"):
        return location
    if case_id is not None and not location.startswith("/v1/cases/"):
        return f"/api/{service}/v1/cases/{case_id}/{location.removeprefix('/v1/')}"
    return f"/api/{service}{location}"


# The OpenAPI document lists each service path the façade serves (sop_gateway.facade_contract), not this route.
router.add_api_route("/api/{service}/v1/{path:path}", facade, methods=list(ACTIONS), include_in_schema=False)
