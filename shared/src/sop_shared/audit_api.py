"""`GET /v1/audit/verify`: any component's own audit chain, recomputed and compared with its newest signed
checkpoint. Only auditors and administrators may ask (staff with the `auditor` or `admin` role); the gateway
passes the call through (`/api/<service>/v1/audit/verify`) with the caller's roles in the internal token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sop_shared.auth import CurrentPrincipal, Principal
from sop_shared.policy import ActorType, StaffRole
from sop_shared.problems import Forbidden

CHAIN_VERIFIERS = frozenset({StaffRole.auditor.value, StaffRole.admin.value})

router = APIRouter(tags=["audit"])


def may_verify_chain(principal: Principal) -> bool:
    return principal.actor_type == ActorType.staff and bool(CHAIN_VERIFIERS & set(principal.roles))


def require_chain_verifier(principal: Principal) -> None:
    if not may_verify_chain(principal):
        raise Forbidden("only auditors and administrators may verify the audit chain")


@router.get(
    "/v1/audit/verify",
    summary="Recompute this service's audit chain and compare it with its newest "
    "signed checkpoint (auditors and administrators)",
)
async def verify_audit_chain(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    require_chain_verifier(principal)
    trail = request.app.state.audit_trail
    verdict = await trail.verify()
    return {"component": trail.component, **verdict.to_dict()}
