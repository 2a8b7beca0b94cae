"""Safety plans over HTTP: create and list a case's plans; read, edit (a new version), submit, approve,
activate, terminate and review one plan; sign-offs and their verification.

Plan routes live on `plan_router`, mounted twice: at `/v1/safety-plans/{plan_id}/…` (the public contract)
and at `/v1/cases/{case_id}/safety-plans/{plan_id}/…`, the form the gateway's REST façade can scope to a
case today (it routes only paths under `cases/{case_id}`)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.case_view.rules import is_agency, plan_for_audience, shared_with, version_for
from sop_plans.deps import OptionalIfMatch, PolicyDep, SettingsDep, plan_for
from sop_plans.known_triggers.service import known_triggers_of
from sop_plans.models import PlanStatus, SafetyPlan, SafetyPlanSignature
from sop_plans.plan_policy import PlanPolicy
from sop_plans.safety_plans import service
from sop_plans.safety_plans.signatures import verify_signature
from sop_plans.schemas import (
    ActivateIn,
    ApprovalIn,
    ApprovalOut,
    ReviewIn,
    ReviewOut,
    SafetyPlanEdit,
    SafetyPlanIn,
    SafetyPlanOut,
    SafetyPlanVersionOut,
    SignatureIn,
    SignatureOut,
    SignatureVerification,
    SubmitIn,
    TerminateIn,
)
from sop_plans.settings import PlansSettings
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_case_scope, require_section
from sop_shared.clock import ClockDep
from sop_shared.concurrency import MAX_VERSION, IfMatchVersion, VersionNumber, etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import DEFAULT_SHARING, Audience, NetworkSharing, Scope, Section, may_see_section
from sop_shared.problems import NotFound
from sop_shared.query_params import known_query_params

case_router = APIRouter(prefix="/v1", tags=["safety plans"])
plan_router = APIRouter(tags=["safety plans"])

NO_SUCH_SIGNATURE = "no such signature on this plan"


async def _out(
    session: AsyncSession,
    plan: SafetyPlan,
    *,
    now: datetime,
    policy: PlanPolicy,
    audience: Audience = Audience.staff,
    reader: Principal | None = None,
) -> SafetyPlanOut:
    version = await service.current_version(session, plan)
    extras = await service.load_extras(session, [plan])
    if is_agency(audience):
        return service.plan_out(plan, version, extras, now=now, policy=policy)
    shown = await service.get_version(session, plan.id, version_for(plan, audience)) or version
    return plan_for_audience(service.plan_out(plan, shown, extras, now=now, policy=policy), audience, *_reading(reader))


def require_every_rule(audience: Audience, principal: Principal) -> None:
    """A version is shown whole, exactly as agreed (its hash covers every rule): an audience that reads only the
    rules it helps with (the network, unless the family opened every rule) finds no version at all."""
    if not may_see_section(Section.every_rule, audience, principal.network_sharing):
        raise NotFound("no such version of this safety plan")


def _reading(reader: Principal | None) -> tuple[uuid.UUID | None, NetworkSharing]:
    """Who reads a plan outside the agency: their own person (a member) and what the family opened to the network."""
    return (reader.person_id, reader.network_sharing) if reader is not None else (None, DEFAULT_SHARING)


def _with_etag(plan_out: SafetyPlanOut, status_code: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(
        plan_out.model_dump(mode="json"), status_code=status_code, headers={"ETag": etag(plan_out.version), **headers}
    )


@case_router.post(
    "/cases/{case_id}/safety-plans",
    status_code=201,
    response_model=SafetyPlanOut,
    dependencies=[known_query_params()],
    responses={
        201: {
            "description": "Created as a draft with version 1. A repeat with the same "
            "Idempotency-Key and body returns this response again."
        }
    },
)
async def create_plan(
    case_id: uuid.UUID,
    body: SafetyPlanIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> Response:
    """Create a draft safety plan and its first version. Dates not given come from the policy in force
    (config/plan_rules.json). Practice concerns come back in `warnings`; they never block."""
    require_case_scope(principal, case_id, Scope.case_write)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(
            request,
            session,
            principal,
            resource="safety_plan",
            action="read",
            case_id=case_id,
            resource_id=json.loads(bytes(replayed.body)).get("id"),
        )
        return replayed
    now = clock.now()
    plan, version = await service.create_safety_plan(
        session, case_id=case_id, body=body, created_by=principal.subject, now=now, policy=policy
    )
    await audit_request(
        request, session, principal, resource="safety_plan", action="create", case_id=case_id, resource_id=plan.id
    )
    extras = service.PlanExtras(known_triggers=await known_triggers_of(session, [case_id]))
    out = service.plan_out(plan, version, extras, now=now, policy=policy)
    content = out.model_dump(mode="json")
    headers = {"Location": f"/v1/safety-plans/{plan.id}", "ETag": etag(plan.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@case_router.get(
    "/cases/{case_id}/safety-plans",
    response_model=Page[SafetyPlanOut],
    dependencies=[known_query_params("status", "limit", "cursor")],
)
async def list_case_plans(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    clock: ClockDep,
    policy: PolicyDep,
    audience: RequestAudience,
    status: Annotated[PlanStatus | None, Query(description="Only plans in this status")] = None,
) -> Page[SafetyPlanOut]:
    """A case's safety plans (oldest first), each with its current version's rules (with their plain-language
    check), the version in force, sign-offs, the latest approval, recent check-ins and alerts: everything
    the case view needs, in one call and a fixed number of queries."""
    require_case_scope(principal, case_id, Scope.case_read)
    now = clock.now()
    await service.bring_plans_to_now(session, now=now, policy=policy, case_id=case_id)
    rows, next_cursor = await service.list_plans(
        session, case_id=case_id, status=status, page=page, shared_only=not is_agency(audience)
    )
    extras = await service.load_extras(session, [plan for plan, _ in rows])
    await audit_request(request, session, principal, resource="safety_plan", action="read", case_id=case_id)
    items = []
    for plan, version in rows:
        if not is_agency(audience):  # outside the agency: the version in force, without the agency's notes
            version = await service.get_version(session, plan.id, version_for(plan, audience)) or version
        out = service.plan_out(plan, version, extras, now=now, policy=policy)
        items.append(plan_for_audience(out, audience, *_reading(principal)))
    return Page[SafetyPlanOut](items=items, next_cursor=next_cursor)


@plan_router.get("/safety-plans/{plan_id}", response_model=SafetyPlanOut, dependencies=[known_query_params()])
async def get_safety_plan(
    plan_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    clock: ClockDep,
    policy: PolicyDep,
    audience: RequestAudience,
) -> Response:
    """One plan with its current version (outside the agency, `X-SOP-Audience`: its version in force, and a
    plan never submitted is not found); the ETag is the plan's row version (send it as If-Match)."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    if not shared_with(plan, audience):
        raise NotFound("no such safety plan")
    await audit_request(
        request, session, principal, resource="safety_plan", action="read", case_id=plan.case_id, resource_id=plan.id
    )
    return _with_etag(await _out(session, plan, now=clock.now(), policy=policy, audience=audience, reader=principal))


@plan_router.patch(
    "/safety-plans/{plan_id}",
    response_model=SafetyPlanOut,
    dependencies=[known_query_params()],
    responses={
        409: {"description": "The plan is pending approval, terminated or expired"},
        412: {"description": "Stale If-Match"},
        428: {"description": "If-Match missing"},
    },
)
async def edit_safety_plan(
    plan_id: uuid.UUID,
    body: SafetyPlanEdit,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatchVersion,
    clock: ClockDep,
    policy: PolicyDep,
) -> Response:
    """Change the plan: the result is always a new version n+1 (old versions, their signatures and
    approvals never change). An approved plan returns to draft; an active one becomes `modified`, and its
    version in force keeps binding the family until the new one is approved, signed and activated."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_write, for_update=True, if_match=if_match)
    now = clock.now()
    version = await service.edit_plan(session, plan, body, by=principal.subject, now=now, policy=policy)
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan",
        action="update",
        case_id=plan.case_id,
        resource_id=plan.id,
        fields=[f"version:{version.number}"],
    )
    return _with_etag(await _out(session, plan, now=now, policy=policy))


@plan_router.get(
    "/safety-plans/{plan_id}/versions",
    response_model=Page[SafetyPlanVersionOut],
    dependencies=[known_query_params("limit", "cursor")],
)
async def list_safety_plan_versions(
    plan_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
) -> Page[SafetyPlanVersionOut]:
    """Every version of a plan, oldest first, with who changed what and the sign-offs on each (whole, as agreed:
    not for an audience kept from every rule, the network unless the family opened it)."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    require_every_rule(audience, principal)
    versions, next_cursor = await service.list_versions(session, plan_id=plan.id, page=page)
    extras = service.PlanExtras(
        signatures=await service.signatures_of(session, [plan.id]),
        approvals=await service.approvals_of(session, [plan.id]),
    )
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_version",
        action="read",
        case_id=plan.case_id,
        resource_id=plan.id,
    )
    return Page[SafetyPlanVersionOut](
        items=[service.version_out(plan, v, extras) for v in versions], next_cursor=next_cursor
    )


@plan_router.get(
    "/safety-plans/{plan_id}/versions/{n}", response_model=SafetyPlanVersionOut, dependencies=[known_query_params()]
)
async def get_safety_plan_version(
    plan_id: uuid.UUID,
    n: VersionNumber,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> SafetyPlanVersionOut:
    """One immutable version: its content exactly as agreed, the SHA-256 its signatures bind to, who made
    it and why, and the sign-offs and decisions on it (not for an audience kept from every rule)."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    require_every_rule(audience, principal)
    version = await service.get_version(session, plan.id, n)
    if version is None:
        raise NotFound("no such version of this safety plan")
    extras = service.PlanExtras(
        signatures=await service.signatures_of(session, [plan.id], version_number=n),
        approvals=await service.approvals_of(session, [plan.id]),
    )
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_version",
        action="read",
        case_id=plan.case_id,
        resource_id=version.id,
    )
    return service.version_out(plan, version, extras)


@plan_router.post(
    "/safety-plans/{plan_id}/submit",
    response_model=SafetyPlanOut,
    dependencies=[known_query_params()],
    responses={409: {"description": "Illegal transition"}},
)
async def submit_safety_plan(
    plan_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: OptionalIfMatch,
    clock: ClockDep,
    policy: PolicyDep,
    body: SubmitIn | None = None,
) -> Response:
    """Ask for a supervisor's decision on the current version (draft or modified → pending_approval).
    Emits `sop.plans.safety_plan.approval_requested` for the supervisor's approval queue."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_write, for_update=True, if_match=if_match)
    now = clock.now()
    await service.submit(session, plan, body or SubmitIn(), by=principal.subject, now=now)
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan",
        action="update",
        case_id=plan.case_id,
        resource_id=plan.id,
        fields=["status:pending_approval"],
    )
    return _with_etag(await _out(session, plan, now=now, policy=policy))


@plan_router.post(
    "/safety-plans/{plan_id}/approve",
    response_model=SafetyPlanOut,
    dependencies=[known_query_params()],
    responses={
        403: {"description": "Needs approvals:decide, or the caller wrote this version"},
        409: {"description": "Not pending approval, or the version read is not current"},
    },
)
async def approve_safety_plan(
    plan_id: uuid.UUID,
    body: ApprovalIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: OptionalIfMatch,
    clock: ClockDep,
    policy: PolicyDep,
) -> Response:
    """The supervisor's decision on the version they read: `approved` (→ approved) or
    `requires_modification` with a comment (→ draft, or modified when a version is in force)."""
    plan = await plan_for(
        request, session, principal, plan_id, Scope.approvals_decide, for_update=True, if_match=if_match
    )
    now = clock.now()
    approval = await service.decide(session, plan, body, by=principal.subject, now=now)
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_approval",
        action="decide",
        case_id=plan.case_id,
        resource_id=approval.id,
        fields=[f"decision:{body.decision.value}"],
    )
    return _with_etag(await _out(session, plan, now=now, policy=policy))


@plan_router.get(
    "/safety-plans/{plan_id}/approvals",
    response_model=list[ApprovalOut],
    # the supervisor's decisions are the agency's supervision records, as the assessment's approvals are
    dependencies=[known_query_params(), Depends(require_section(Section.supervision))],
)
async def list_approvals(
    plan_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> list[ApprovalOut]:
    """Every supervisor decision on the plan, oldest first."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    approvals = (await service.approvals_of(session, [plan.id])).get(plan.id, [])
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_approval",
        action="read",
        case_id=plan.case_id,
        resource_id=plan.id,
    )
    return [service.approval_out(a) for a in approvals]


@plan_router.post(
    "/safety-plans/{plan_id}/activate",
    response_model=SafetyPlanOut,
    dependencies=[known_query_params()],
    responses={409: {"description": "Not approved, signatures missing, or past its expiry"}},
)
async def activate_safety_plan(
    plan_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: OptionalIfMatch,
    clock: ClockDep,
    policy: PolicyDep,
    body: ActivateIn | None = None,
) -> Response:
    """Put the approved version in force (approved → active), once the signatures the policy requires
    are on that very version."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_write, for_update=True, if_match=if_match)
    now = clock.now()
    await service.activate(session, plan, by=principal.subject, now=now, policy=policy)
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan",
        action="update",
        case_id=plan.case_id,
        resource_id=plan.id,
        fields=["status:active"],
    )
    return _with_etag(await _out(session, plan, now=now, policy=policy))


@plan_router.post(
    "/safety-plans/{plan_id}/terminate",
    response_model=SafetyPlanOut,
    dependencies=[known_query_params()],
    responses={409: {"description": "Already ended"}},
)
async def terminate_safety_plan(
    plan_id: uuid.UUID,
    body: TerminateIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: OptionalIfMatch,
    clock: ClockDep,
    policy: PolicyDep,
) -> Response:
    """End the plan (any open status → terminated), with the reason."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_write, for_update=True, if_match=if_match)
    now = clock.now()
    await service.terminate(session, plan, reason=body.reason, by=principal.subject, now=now)
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan",
        action="update",
        case_id=plan.case_id,
        resource_id=plan.id,
        fields=["status:terminated"],
    )
    return _with_etag(await _out(session, plan, now=now, policy=policy))


@plan_router.post(
    "/safety-plans/{plan_id}/reviews", status_code=201, response_model=ReviewOut, dependencies=[known_query_params()]
)
async def review_safety_plan(
    plan_id: uuid.UUID,
    body: ReviewIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    clock: ClockDep,
    policy: PolicyDep,
) -> ReviewOut:
    """Record the periodic review of the plan in force; the next review falls due by the policy's interval."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_write, for_update=True)
    review = await service.record_review(
        session, plan, note=body.note, by=principal.subject, now=clock.now(), policy=policy
    )
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_review",
        action="create",
        case_id=plan.case_id,
        resource_id=review.id,
    )
    return ReviewOut(
        id=review.id,
        plan_id=plan.id,
        version_number=review.version_number,
        note=review.note,
        reviewed_by=review.reviewed_by,
        reviewed_at=review.reviewed_at,
        next_review_due=plan.next_review_due,
    )


@plan_router.post(
    "/safety-plans/{plan_id}/signatures",
    status_code=201,
    response_model=SignatureOut,
    dependencies=[known_query_params()],
    responses={409: {"description": "The version read is not the current one, or the plan ended"}},
)
async def sign_safety_plan(
    plan_id: uuid.UUID,
    body: SignatureIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    clock: ClockDep,
    settings: SettingsDep,
    policy: PolicyDep,
) -> Response:
    """A participant signs (or refuses, with a reason) the version they read, named by number and content
    hash. The record is hashed with the version hash; it is never changed afterwards. An immediate plan signed
    by the worker and every caregiver on the spot comes into force with the last of those signatures."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_write, for_update=True)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        return replayed
    return await record_and_answer_signature(
        request,
        session,
        principal,
        idempotency,
        plan,
        body,
        sent=body,
        now=clock.now(),
        settings=settings,
        policy=policy,
    )


async def record_and_answer_signature(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    idempotency: Any,
    plan: SafetyPlan,
    signing: SignatureIn,
    *,
    sent: BaseModel,
    now: datetime,
    settings: PlansSettings,
    policy: PlanPolicy,
    location_prefix: str = "/v1",
) -> JSONResponse:
    """Record the sign-off, audit it, remember the answer for `sent` (the body as the caller sent it, for a
    repeat with the same Idempotency-Key) and answer 201 with its Location."""
    signature = await service.record_signature(
        session,
        plan,
        signing,
        principal=principal,
        now=now,
        image_max_bytes=settings.signature_image_max_bytes,
        policy=policy,
    )
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_signature",
        action="create",
        case_id=plan.case_id,
        resource_id=signature.id,
    )
    content = SignatureOut.model_validate(signature, from_attributes=True).model_dump(mode="json")
    headers = {"Location": f"{location_prefix}/safety-plans/{plan.id}/signatures/{signature.id}"}
    await idempotency.remember(session, sent, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@plan_router.get(
    "/safety-plans/{plan_id}/signatures",
    response_model=list[SignatureOut],
    dependencies=[known_query_params("version")],
)
async def list_signatures(
    plan_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION, description="Only this version's")] = None,
) -> list[SignatureOut]:
    """Every sign-off and refusal on the plan (or on one version), oldest first."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    signatures = (await service.signatures_of(session, [plan.id], version_number=version)).get(plan.id, [])
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_signature",
        action="read",
        case_id=plan.case_id,
        resource_id=plan.id,
    )
    return [SignatureOut.model_validate(s, from_attributes=True) for s in signatures]


async def _signature(session: AsyncSession, plan: SafetyPlan, signature_id: uuid.UUID) -> SafetyPlanSignature:
    signature = (
        await session.execute(
            select(SafetyPlanSignature)
            .where(col(SafetyPlanSignature.id) == signature_id, col(SafetyPlanSignature.plan_id) == plan.id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if signature is None:
        raise NotFound(NO_SUCH_SIGNATURE)
    return signature


@plan_router.get(
    "/safety-plans/{plan_id}/signatures/{signature_id}",
    response_model=SignatureOut,
    dependencies=[known_query_params()],
)
async def get_signature(
    plan_id: uuid.UUID, signature_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> SignatureOut:
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    signature = await _signature(session, plan, signature_id)
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_signature",
        action="read",
        case_id=plan.case_id,
        resource_id=signature.id,
    )
    return SignatureOut.model_validate(signature, from_attributes=True)


@plan_router.get(
    "/safety-plans/{plan_id}/signatures/{signature_id}/verify",
    response_model=SignatureVerification,
    dependencies=[known_query_params()],
)
async def verify_plan_signature(
    plan_id: uuid.UUID, signature_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> SignatureVerification:
    """Prove what was signed: recompute the signature record's hash, the signed version's content hash and
    the image hash from what is stored. `valid` is false, naming the failed check, if anything changed."""
    plan = await plan_for(request, session, principal, plan_id, Scope.case_read)
    signature = await _signature(session, plan, signature_id)
    version = await service.get_version(session, plan.id, signature.version_number)
    await audit_request(
        request,
        session,
        principal,
        resource="safety_plan_signature",
        action="read",
        case_id=plan.case_id,
        resource_id=signature.id,
        fields=["verify"],
    )
    return verify_signature(signature, version)
