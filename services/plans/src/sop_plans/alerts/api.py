"""Alerts over HTTP: per case (`/v1/cases/{case_id}/alerts`) and across cases for the caller as a worker
(`/v1/alerts?worker=<me>`) or as a supervisor (`/v1/alerts?supervisor=<me>`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from sop_plans.alerts.service import alerts_for
from sop_plans.deps import PolicyDep
from sop_plans.schemas import Alert
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_case_scope, require_scope
from sop_shared.clock import ClockDep
from sop_shared.db import SessionDep
from sop_shared.pagination import Page
from sop_shared.policy import ActorType, Scope
from sop_shared.problems import Forbidden, InvalidInput
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["alerts"])
Subject = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/cases/{case_id}/alerts", response_model=Page[Alert], dependencies=[known_query_params()])
async def case_alerts(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    clock: ClockDep,
    policy: PolicyDep,
) -> Page[Alert]:
    """The case's plans about to expire, expired, due or overdue for review, waiting for approval, and its
    overdue next steps; soonest first."""
    require_case_scope(principal, case_id, Scope.case_read)
    alerts = await alerts_for(session, now=clock.now(), policy=policy, case_id=case_id)
    await audit_request(request, session, principal, resource="alert", action="read", case_id=case_id)
    return Page[Alert](items=alerts, next_cursor=None)


@router.get("/alerts", response_model=Page[Alert], dependencies=[known_query_params("worker", "supervisor")])
async def my_alerts(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    clock: ClockDep,
    policy: PolicyDep,
    worker: Subject = None,
    supervisor: Subject = None,
) -> Page[Alert]:
    """Across cases, for the caller only: `worker=<your subject>` lists the plans you own and the next steps
    you created; `supervisor=<your subject>` (needs approvals:decide) the plans you were asked to decide on
    or decided. Asking for someone else's list is 403: plans cannot check case assignments."""
    if (worker is None) == (supervisor is None):
        raise InvalidInput([{"field": "worker", "message": "give exactly one of worker or supervisor"}])
    if principal.actor_type != ActorType.staff:
        raise Forbidden("alerts across cases are for staff")
    require_scope(principal, Scope.case_read)
    if (worker or supervisor) != principal.subject:
        raise Forbidden("you may list your own alerts only")
    if supervisor is not None:
        require_scope(principal, Scope.approvals_decide)
    alerts = await alerts_for(session, now=clock.now(), policy=policy, worker=worker, supervisor=supervisor)
    await audit_request(
        request,
        session,
        principal,
        resource="alert",
        action="read",
        fields=sorted({str(a.case_id) for a in alerts})[:50],
    )
    return Page[Alert](items=alerts, next_cursor=None)
