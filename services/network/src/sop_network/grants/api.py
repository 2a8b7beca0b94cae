"""Partner grants on a case: create, list, revoke. Revocation takes effect at once in this service; the
gateway may serve a cached allow for up to 5 seconds more (docs/network.md)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from sop_network.access.service import authorize
from sop_network.grants.service import create_grant, grant_out, list_grants, revoke_grant
from sop_network.schemas import GrantIn, GrantOut, GrantRevoke
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal
from sop_shared.clock import Now
from sop_shared.concurrency import set_etag
from sop_shared.db import SessionDep
from sop_shared.policy import ActorType, Scope
from sop_shared.problems import Forbidden
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["partner grants"])


def _staff_only(principal: CurrentPrincipal) -> None:
    if principal.actor_type != ActorType.staff:
        raise Forbidden("only staff assigned to the case manage its partner grants")


@router.post("/cases/{case_id}/grants", status_code=201, response_model=GrantOut, dependencies=[known_query_params()])
async def grant_partner_access(
    case_id: uuid.UUID,
    body: GrantIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> GrantOut:
    """Give a partner agency access to this case: partner scopes only, for a purpose, until `expires_at`."""
    await authorize(session, principal, case_id, Scope.case_write, now)
    _staff_only(principal)
    grant = await create_grant(session, case_id, body, actor=principal.subject, now=now)
    await audit_request(
        request, session, principal, resource="partner_grant", action="create", case_id=case_id, resource_id=grant.id
    )
    set_etag(response, grant.version)
    response.headers["Location"] = f"/v1/cases/{case_id}/grants/{grant.id}"
    return grant_out(grant, now)


@router.get("/cases/{case_id}/grants", response_model=list[GrantOut], dependencies=[known_query_params()])
async def list_partner_grants(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, now: Now
) -> list[GrantOut]:
    """Every grant on the case, live or not, with its status at this moment."""
    await authorize(session, principal, case_id, Scope.case_read, now)
    _staff_only(principal)
    grants = await list_grants(session, case_id)
    await audit_request(request, session, principal, resource="partner_grant", action="read", case_id=case_id)
    return [grant_out(g, now) for g in grants]


@router.post("/cases/{case_id}/grants/{grant_id}/revoke", response_model=GrantOut, dependencies=[known_query_params()])
async def revoke_partner_grant(
    case_id: uuid.UUID,
    grant_id: uuid.UUID,
    body: GrantRevoke,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> GrantOut:
    """Revoke a grant: the partner's next request to this service is denied."""
    await authorize(session, principal, case_id, Scope.case_write, now)
    _staff_only(principal)
    grant = await revoke_grant(session, case_id, grant_id, reason=body.reason, actor=principal.subject, now=now)
    await audit_request(
        request, session, principal, resource="partner_grant", action="update", case_id=case_id, resource_id=grant.id
    )
    set_etag(response, grant.version)
    return grant_out(grant, now)
