"""A network member's commitments: the member proposes their own as themselves (the person is the token's, never
the body's), the worker confirms or declines it; the worker records one with a member (confirmed in the same act);
everyone reads what their audience may."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_network.access.service import authorize
from sop_network.commitments.service import (
    commitment_out,
    commitments_shown,
    decide_commitment,
    propose,
    record_for_member,
    withdraw_commitment,
)
from sop_network.models import NetworkCommitment
from sop_network.schemas import (
    CommitmentDecisionIn,
    CommitmentWithdrawalIn,
    MemberCommitmentIn,
    NetworkCommitmentOut,
    WorkerCommitmentIn,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_member
from sop_shared.clock import Now
from sop_shared.concurrency import IfMatchVersion, etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep, IdempotentCreate
from sop_shared.policy import Audience, Scope
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1/cases/{case_id}/network", tags=["safety network"])


@router.post(
    "/member-commitments",
    status_code=201,
    response_model=NetworkCommitmentOut,
    dependencies=[known_query_params()],
    responses={403: {"description": "Not a member of this case's safety network"}},
)
async def propose_commitment_as_member(
    case_id: uuid.UUID,
    body: MemberCommitmentIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    now: Now,
) -> Response:
    """A safety-network member's own commitment, in their own words (kept as written): a proposal until the
    worker confirms it. The words are plain-language checked (`plain_language` for the worker); only a confirmed
    commitment is shared and can enter a plan."""
    person_id = require_member(principal, case_id)
    await authorize(session, principal, case_id, Scope.case_participate, now)
    replayed = await idempotency.replay_audited(
        request, session, principal, body, resource="network_commitment", case_id=case_id
    )
    if replayed is not None:
        return replayed
    commitment = await propose(session, case_id, person_id, body, by=principal.subject, now=now)
    return await _created(request, session, principal, idempotency, body, commitment, Audience.network)


@router.post(
    "/members/{member_id}/commitments",
    status_code=201,
    response_model=NetworkCommitmentOut,
    dependencies=[known_query_params()],
    responses={404: {"description": "No such network member in this case"}},
)
async def record_commitment_with_member(
    case_id: uuid.UUID,
    member_id: uuid.UUID,
    body: WorkerCommitmentIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    now: Now,
) -> Response:
    """A commitment the worker records with a network member: what the member agreed to, confirmed by the worker
    in the same act (`origin` worker). It is shared at once, so words the plain-language check has findings on
    need `share_reason` (422, nothing written); a plan rule may then name it, like a member's own confirmed one.
    A repeat with the same Idempotency-Key replays."""
    await authorize(session, principal, case_id, Scope.case_write, now)
    replayed = await idempotency.replay_audited(
        request, session, principal, body, resource="network_commitment", case_id=case_id
    )
    if replayed is not None:
        return replayed
    commitment = await record_for_member(session, case_id, member_id, body, by=principal.subject, now=now)
    return await _created(request, session, principal, idempotency, body, commitment, Audience.staff)


async def _created(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    idempotency: IdempotentCreate,
    body: Any,
    commitment: NetworkCommitment,
    audience: Audience,
) -> Response:
    """A new commitment's answer, whoever made it: audited, remembered for its Idempotency-Key, 201 as `audience`
    reads it."""
    await audit_request(
        request,
        session,
        principal,
        resource="network_commitment",
        action="create",
        case_id=commitment.case_id,
        resource_id=commitment.id,
    )
    content = commitment_out(commitment, audience).model_dump(mode="json")
    headers = {"Location": f"/v1/cases/{commitment.case_id}/network/commitments", "ETag": etag(1)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.get("/commitments", response_model=list[NetworkCommitmentOut], dependencies=[known_query_params()])
async def list_network_commitments(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
    now: Now,
) -> list[NetworkCommitmentOut]:
    """The network members' commitments (the worker's record and the members' own), oldest first: the agency
    reads every one (proposed, confirmed, declined, with the plain-language check); a member reads the confirmed
    ones and their own proposals (with the reason one was declined); everyone else the confirmed ones."""
    decision = await authorize(session, principal, case_id, Scope.case_read, now)
    shown = await commitments_shown(session, case_id, audience, decision.person_id)
    await audit_request(request, session, principal, resource="network_commitment", action="read", case_id=case_id)
    return shown


@router.post(
    "/commitments/{commitment_id}/decision",
    response_model=NetworkCommitmentOut,
    dependencies=[known_query_params()],
    responses={409: {"description": "It was decided already"}},
)
async def decide_network_commitment(
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    body: CommitmentDecisionIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> NetworkCommitmentOut:
    """The worker confirms a proposed commitment (it is then shared, and a plan rule may name it) or declines it
    with the reason (`reason`, required; the member reads it, translated like the commitment's words).
    If-Match with the version read (412 when stale, 428 without). Confirming words — or declining with a reason —
    the plain-language check has findings on needs `share_reason` (422)."""
    await authorize(session, principal, case_id, Scope.case_write, now)
    commitment = await decide_commitment(
        session, case_id, commitment_id, body, expected_version=expected, by=principal.subject, now=now
    )
    await audit_request(
        request,
        session,
        principal,
        resource="network_commitment",
        action="decide",
        case_id=case_id,
        resource_id=commitment.id,
    )
    set_etag(response, commitment.version)
    return commitment_out(commitment, Audience.staff)


@router.post(
    "/commitments/{commitment_id}/withdrawal",
    response_model=NetworkCommitmentOut,
    dependencies=[known_query_params()],
    responses={409: {"description": "It was declined or withdrawn already"}},
)
async def withdraw_network_commitment(
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    body: CommitmentWithdrawalIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> NetworkCommitmentOut:
    """The worker withdraws a commitment that no longer holds (the worker's record or a member's own), with the
    reason: kept for the record, no longer shared — the family and the network stop reading it. If-Match with
    the version read (412 when stale, 428 without)."""
    await authorize(session, principal, case_id, Scope.case_write, now)
    commitment = await withdraw_commitment(
        session, case_id, commitment_id, reason=body.reason, expected_version=expected, by=principal.subject, now=now
    )
    await audit_request(
        request,
        session,
        principal,
        resource="network_commitment",
        action="update",
        case_id=case_id,
        resource_id=commitment.id,
    )
    set_etag(response, commitment.version)
    return commitment_out(commitment, Audience.staff)
