"""Supervision over HTTP: consultations, the approval queue, coaching referrals and the question bank.

Who reads supervision records is the policy table's (`sop_shared.policy`, `Section.supervision`): staff on the
case and their supervisors; a coach only what a worker brings to coaching, in the practice service; never the
family, their network, a partner or the court (404, audited as `denied`).

Approvals are case data: every path that reaches one checks the token's case, except the supervisor's
own queue (`GET /v1/approvals`), which lists only what was addressed to the caller. Case-scoped twins
(`/v1/cases/{case_id}/approvals/{approval_id}…`) are what the gateway's REST façade can reach.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.case_view.access import require_record_scope
from sop_assessment.case_view.http import idempotent_create
from sop_assessment.supervision.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    CoachingReferral,
    Consultation,
)
from sop_assessment.supervision.questions import AUDIENCES, QUESTION_TYPES, questions
from sop_assessment.supervision.schemas import (
    ApprovalDecisionIn,
    ApprovalOut,
    ApprovalRequestIn,
    ApprovalResubmitIn,
    BringToCoachingIn,
    BroughtToCoachingOut,
    CoachingReferralIn,
    CoachingReferralOut,
    CoachingReferralUpdate,
    ConsultationIn,
    ConsultationOut,
    QuestionOut,
    ServiceApprovalRequestIn,
)
from sop_assessment.supervision.service import (
    ApprovalNotFound,
    CoachingReferralNotFound,
    ConsultationNotFound,
    approval_out,
    bring_to_coaching,
    consultation_out,
    create_consultation,
    create_referral,
    decide_approval,
    get_approval,
    list_approvals,
    list_consultations,
    list_referrals,
    request_approval,
    resubmit_approval,
    update_referral,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal, RequestAudience, require_case_scope, require_scope
from sop_shared.concurrency import IfMatchVersion, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.plain_language import primary_language
from sop_shared.policy import ActorType, Audience, Scope
from sop_shared.problems import Forbidden, InvalidInput
from sop_shared.query_params import known_query_params
from sop_shared.response_headers import Deprecated

# The agency's supervision records (consultations, approvals, coaching referrals): the app serves them behind the
# policy table's `Section.supervision` (`sop_shared.auth.section_router`), so an audience kept from them — a
# family or network member, a partner, the court — finds no such route, and its attempt is audited.
router = APIRouter(prefix="/v1", tags=["supervision"])
# The question bank is no case's record: anyone signed in reads it.
questions_router = APIRouter(prefix="/v1", tags=["supervision"])

# Held only by service principals (integration tokens minted for another service of the platform); the
# gateway never grants it to an outside client.
APPROVALS_REQUEST = "approvals:request"


# --- consultations -------------------------------------------------------------------------------------


@router.post(
    "/cases/{case_id}/consultations",
    status_code=201,
    response_model=ConsultationOut,
    dependencies=[known_query_params()],
)
async def record_consultation(
    case_id: uuid.UUID,
    body: ConsultationIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    audience: RequestAudience,
) -> Response:
    """Record a consultation with the map version discussed (snapshot), each participant's rating, and what was
    discussed as it stood then: the danger statements, the safety goals and each scale's latest ratings."""
    require_case_scope(principal, case_id, Scope.case_write)
    made: dict[str, ConsultationOut] = {}

    async def create() -> Consultation:
        consultation = await create_consultation(session, case_id=case_id, body=body, created_by=principal.subject)
        made["out"] = await consultation_out(session, consultation, audience)
        return consultation

    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="consultation",
        case_id=case_id,
        create=create,
        render=lambda _: made["out"],
        location=lambda c: f"/v1/consultations/{c.id}",
    )


@router.get(
    "/cases/{case_id}/consultations",
    response_model=Page[ConsultationOut],
    dependencies=[known_query_params("limit", "cursor")],
)
async def case_consultations(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    audience: RequestAudience,
) -> Page[ConsultationOut]:
    """A case's consultations, oldest first, each with what it discussed as it stood then."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await list_consultations(session, case_id=case_id, page=page)
    await audit_request(request, session, principal, resource="consultation", action="read", case_id=case_id)
    items = [await consultation_out(session, r, audience) for r in rows]
    return Page[ConsultationOut](items=items, next_cursor=next_cursor)


async def _consultation(
    consultation_id: uuid.UUID,
    case_id: uuid.UUID | None,
    request: Request,
    session: AsyncSession,
    principal: Principal,
    audience: Audience,
) -> ConsultationOut:
    consultation = await session.get(Consultation, consultation_id)
    require_record_scope(principal, consultation, Scope.case_read, ConsultationNotFound(), path_case_id=case_id)
    assert consultation is not None
    await audit_request(
        request,
        session,
        principal,
        resource="consultation",
        action="read",
        case_id=consultation.case_id,
        resource_id=consultation.id,
    )
    return await consultation_out(session, consultation, audience)


@router.get("/consultations/{consultation_id}", response_model=ConsultationOut, dependencies=[known_query_params()])
async def get_consultation(
    consultation_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> ConsultationOut:
    return await _consultation(consultation_id, None, request, session, principal, audience)


@router.get(
    "/cases/{case_id}/consultations/{consultation_id}",
    response_model=ConsultationOut,
    dependencies=[known_query_params()],
)
async def get_case_consultation(
    case_id: uuid.UUID,
    consultation_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    audience: RequestAudience,
) -> ConsultationOut:
    return await _consultation(consultation_id, case_id, request, session, principal, audience)


@router.post(
    "/cases/{case_id}/consultations/{consultation_id}/coaching",
    status_code=202,
    response_model=BroughtToCoachingOut,
    dependencies=[known_query_params()],
)
async def bring_consultation_to_coaching(
    case_id: uuid.UUID,
    consultation_id: uuid.UUID,
    body: BringToCoachingIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Bring this consultation to a coaching referral at the practice service (`referral_id`): staff who may read
    the consultation (the worker, their supervisor). Its snapshot — what staff read here — goes to the practice
    service in an event written with this request; the practice service attaches it if the referral is the
    bringer's or their worker's (else it keeps the refusal in the referral's history). A coach sees it there
    without identifying details unless the worker's supervisor allows them. 202: on its way. `Idempotency-Key`
    accepted."""
    consultation = await session.get(Consultation, consultation_id)
    require_record_scope(principal, consultation, Scope.case_read, ConsultationNotFound(), path_case_id=case_id)
    assert consultation is not None
    if principal.actor_type != ActorType.staff:
        raise Forbidden("a worker or their supervisor brings a consultation to coaching")
    replayed = await idempotency.replay(session, body)
    if replayed is None:
        out = await bring_to_coaching(session, consultation, referral_id=body.referral_id, brought_by=principal.subject)
        replayed = JSONResponse(out.model_dump(mode="json"), status_code=202)
        await idempotency.remember(session, body, status_code=202, content=out.model_dump(mode="json"))
    await audit_request(
        request,
        session,
        principal,
        resource="consultation",
        action="share",
        case_id=consultation.case_id,
        resource_id=consultation.id,
        fields=["coaching"],
    )
    return replayed


# --- approvals -----------------------------------------------------------------------------------------

# Filed by the SDM engine itself when an override or a downgrade is asked for (POST …/sdm-assessments/{id}/
# override), never by hand: the queue item and the assessment's pending override are one thing.
FILED_BY_THE_SDM_ENGINE = frozenset({ApprovalKind.sdm_override, ApprovalKind.priority_downgrade})


def _not_filed_by_the_engine(kind: ApprovalKind) -> None:
    if kind in FILED_BY_THE_SDM_ENGINE:
        raise InvalidInput.field(
            "kind",
            f"a {kind.value} is asked for at the SDM assessment "
            "(POST /v1/sdm-assessments/{id}/override), which files it here",
        )


@router.post("/approvals", status_code=201, response_model=ApprovalOut, dependencies=[known_query_params()])
async def create_service_approval(
    body: ServiceApprovalRequestIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """For other services of the platform (e.g. plans, for a safety plan): put an item in the queue.
    Needs a service principal (integration actor with the `approvals:request` scope)."""
    if principal.actor_type != ActorType.integration or not principal.has_scope(APPROVALS_REQUEST):
        raise Forbidden(
            f"only a platform service (scope {APPROVALS_REQUEST}) files approvals here; staff use "
            "/v1/cases/{case_id}/approvals"
        )
    _not_filed_by_the_engine(body.kind)
    made: dict[str, ApprovalOut] = {}

    async def create() -> Approval:
        approval = await request_approval(
            session,
            case_id=body.case_id,
            kind=body.kind,
            subject_id=body.subject_id,
            subject_version=body.subject_version,
            requested_by=body.requested_by,
            summary=body.summary,
            approver_subject=body.approver_subject,
            source_service=body.source_service,
        )
        made["out"] = await approval_out(session, approval)
        return approval

    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="approval",
        case_id=body.case_id,
        create=create,
        render=lambda _: made["out"],
        location=lambda a: f"/v1/approvals/{a.id}",
        version=lambda a: a.version,
    )


@router.post(
    "/cases/{case_id}/approvals", status_code=201, response_model=ApprovalOut, dependencies=[known_query_params()]
)
async def create_case_approval(
    case_id: uuid.UUID,
    body: ApprovalRequestIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """A worker asks a supervisor to approve something of this case."""
    require_case_scope(principal, case_id, Scope.case_write)
    _not_filed_by_the_engine(body.kind)
    made: dict[str, ApprovalOut] = {}

    async def create() -> Approval:
        approval = await request_approval(
            session,
            case_id=case_id,
            kind=body.kind,
            subject_id=body.subject_id,
            subject_version=body.subject_version,
            requested_by=principal.subject,
            summary=body.summary,
            approver_subject=body.approver_subject,
        )
        made["out"] = await approval_out(session, approval)
        return approval

    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="approval",
        case_id=case_id,
        create=create,
        render=lambda _: made["out"],
        location=lambda a: f"/v1/approvals/{a.id}",
        version=lambda a: a.version,
    )


@router.get(
    "/approvals",
    response_model=Page[ApprovalOut],
    dependencies=[known_query_params("status", "kind", "limit", "cursor")],
)
async def my_approval_queue(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    status: Annotated[ApprovalStatus | None, Query(description="Default: pending")] = None,
    kind: Annotated[ApprovalKind | None, Query()] = None,
) -> Page[ApprovalOut]:
    """The calling supervisor's queue: approvals addressed to them, oldest first (pending unless asked)."""
    require_scope(principal, Scope.approvals_decide)
    rows, next_cursor = await list_approvals(
        session, page=page, approver_subject=principal.subject, status=status or ApprovalStatus.pending, kind=kind
    )
    for case_id in sorted({row.case_id for row in rows}):
        await audit_request(request, session, principal, resource="approval", action="read", case_id=case_id)
    return Page[ApprovalOut](items=[await approval_out(session, r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}/approvals",
    response_model=Page[ApprovalOut],
    dependencies=[known_query_params("status", "kind", "limit", "cursor")],
)
async def case_approvals(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    status: Annotated[ApprovalStatus | None, Query()] = None,
    kind: Annotated[ApprovalKind | None, Query()] = None,
) -> Page[ApprovalOut]:
    """A case's approvals with their history, oldest first."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await list_approvals(session, page=page, case_id=case_id, status=status, kind=kind)
    await audit_request(request, session, principal, resource="approval", action="read", case_id=case_id)
    return Page[ApprovalOut](items=[await approval_out(session, r) for r in rows], next_cursor=next_cursor)


async def _approval_for(
    session: AsyncSession, principal: Principal, approval_id: uuid.UUID, scope: Scope, case_id: uuid.UUID | None
) -> Approval:
    approval = await get_approval(session, approval_id)
    require_record_scope(principal, approval, scope, ApprovalNotFound(), path_case_id=case_id)
    assert approval is not None
    return approval


async def _read_approval(
    approval_id: uuid.UUID,
    case_id: uuid.UUID | None,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
) -> ApprovalOut:
    approval = await _approval_for(session, principal, approval_id, Scope.case_read, case_id)
    await audit_request(
        request,
        session,
        principal,
        resource="approval",
        action="read",
        case_id=approval.case_id,
        resource_id=approval.id,
    )
    set_etag(response, approval.version)
    return await approval_out(session, approval)


@router.get("/approvals/{approval_id}", response_model=ApprovalOut, dependencies=[known_query_params()])
async def get_one_approval(
    approval_id: uuid.UUID, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> ApprovalOut:
    """One approval with its history; the ETag is its version."""
    return await _read_approval(approval_id, None, request, response, session, principal)


@router.get("/cases/{case_id}/approvals/{approval_id}", response_model=ApprovalOut, dependencies=[known_query_params()])
async def get_case_approval(
    case_id: uuid.UUID,
    approval_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ApprovalOut:
    return await _read_approval(approval_id, case_id, request, response, session, principal)


async def _decide(
    approval_id: uuid.UUID,
    case_id: uuid.UUID | None,
    body: ApprovalDecisionIn,
    version: int,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
) -> ApprovalOut:
    approval = await _approval_for(session, principal, approval_id, Scope.case_read, case_id)
    require_scope(principal, Scope.approvals_decide)
    approval = await decide_approval(
        session,
        approval,
        decision=body.decision,
        comment=body.comment,
        decided_by=principal.subject,
        expected_version=version,
        app=request.app,
    )
    await audit_request(
        request,
        session,
        principal,
        resource="approval",
        action="decide",
        case_id=approval.case_id,
        resource_id=approval.id,
    )
    set_etag(response, approval.version)
    return await approval_out(session, approval)


DECIDE_DOC = (
    "Approve, or return for edits (a comment saying what to change is required). Needs the "
    "approvals:decide scope and If-Match; nobody decides their own request."
)


@router.post(
    "/approvals/{approval_id}/decision",
    response_model=ApprovalOut,
    dependencies=[known_query_params()],
    description=DECIDE_DOC,
)
async def decide(
    approval_id: uuid.UUID,
    body: ApprovalDecisionIn,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ApprovalOut:
    return await _decide(approval_id, None, body, version, request, response, session, principal)


@router.post(
    "/cases/{case_id}/approvals/{approval_id}/decision",
    response_model=ApprovalOut,
    dependencies=[known_query_params()],
    description=DECIDE_DOC,
)
async def decide_case_approval(
    case_id: uuid.UUID,
    approval_id: uuid.UUID,
    body: ApprovalDecisionIn,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ApprovalOut:
    return await _decide(approval_id, case_id, body, version, request, response, session, principal)


async def _resubmit(
    approval_id: uuid.UUID,
    case_id: uuid.UUID | None,
    body: ApprovalResubmitIn,
    version: int,
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
) -> ApprovalOut:
    approval = await _approval_for(session, principal, approval_id, Scope.case_write, case_id)
    approval = await resubmit_approval(
        session, approval, comment=body.comment, actor=principal.subject, expected_version=version
    )
    await audit_request(
        request,
        session,
        principal,
        resource="approval",
        action="update",
        case_id=approval.case_id,
        resource_id=approval.id,
    )
    set_etag(response, approval.version)
    return await approval_out(session, approval)


@router.post("/approvals/{approval_id}/resubmit", response_model=ApprovalOut, dependencies=[known_query_params()])
async def resubmit(
    approval_id: uuid.UUID,
    body: ApprovalResubmitIn,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ApprovalOut:
    """After the edits: send a returned approval back to the queue (If-Match)."""
    return await _resubmit(approval_id, None, body, version, request, response, session, principal)


@router.post(
    "/cases/{case_id}/approvals/{approval_id}/resubmit", response_model=ApprovalOut, dependencies=[known_query_params()]
)
async def resubmit_case_approval(
    case_id: uuid.UUID,
    approval_id: uuid.UUID,
    body: ApprovalResubmitIn,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ApprovalOut:
    return await _resubmit(approval_id, case_id, body, version, request, response, session, principal)


# --- coaching referrals --------------------------------------------------------------------------------


def _referral_out(referral: CoachingReferral) -> CoachingReferralOut:
    return CoachingReferralOut.model_validate(referral, from_attributes=True)


# Coaching moved to the practice service (issue 15): these routes still answer, deprecated, until the sunset;
# what they record reaches the practice service through their events.
MOVED_TO_PRACTICE = Deprecated(
    "/api/practice/v1/coaching-referrals",
    since=datetime(2026, 12, 6, tzinfo=UTC),
    sunset=datetime(2027, 6, 30, tzinfo=UTC),
)


@router.post(
    "/coaching-referrals",
    status_code=201,
    response_model=CoachingReferralOut,
    dependencies=[known_query_params(), MOVED_TO_PRACTICE.dependency],
    deprecated=True,
)
async def refer_for_coaching(
    body: CoachingReferralIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Deprecated: refer at the practice service (`/api/practice/v1/coaching-referrals`). A supervisor refers a
    worker (one-on-one) or a unit (group) for SOP/SDM coaching on a topic; the practice service keeps it too."""
    if principal.actor_type != ActorType.staff:
        raise Forbidden("coaching referrals are made by staff")
    require_scope(principal, Scope.approvals_decide)
    created = await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="coaching_referral",
        case_id=None,
        create=lambda: create_referral(session, body, referred_by=principal.subject),
        render=_referral_out,
        location=lambda r: f"/v1/coaching-referrals/{r.id}",
        version=lambda r: r.version,
    )
    return MOVED_TO_PRACTICE.mark(created)


@router.get(
    "/coaching-referrals",
    response_model=Page[CoachingReferralOut],
    dependencies=[known_query_params("limit", "cursor"), MOVED_TO_PRACTICE.dependency],
    deprecated=True,
)
async def my_coaching_referrals(
    request: Request, session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[CoachingReferralOut]:
    """Deprecated: the practice service lists referrals with their routing. The referrals the caller made or is
    the subject of, as recorded here."""
    rows, next_cursor = await list_referrals(session, subject=principal.subject, page=page)
    return Page[CoachingReferralOut](items=[_referral_out(r) for r in rows], next_cursor=next_cursor)


@router.patch(
    "/coaching-referrals/{referral_id}",
    response_model=CoachingReferralOut,
    dependencies=[known_query_params(), MOVED_TO_PRACTICE.dependency],
    deprecated=True,
)
async def update_coaching_referral(
    referral_id: uuid.UUID,
    body: CoachingReferralUpdate,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> CoachingReferralOut:
    """Deprecated: the practice service routes and moves referrals. Move a referral along (requested → scheduled →
    in_progress → completed, or cancelled; the practice service follows forward moves). If-Match."""
    referral = await session.get(CoachingReferral, referral_id)
    if referral is None or referral.referred_by != principal.subject:
        raise CoachingReferralNotFound()
    referral = await update_referral(session, referral, body, expected_version=version)
    await audit_request(
        request, session, principal, resource="coaching_referral", action="update", resource_id=referral.id
    )
    set_etag(response, referral.version)
    return _referral_out(referral)


# --- question bank -------------------------------------------------------------------------------------


@questions_router.get(
    "/questions", response_model=Page[QuestionOut], dependencies=[known_query_params("type", "audience", "language")]
)
async def question_bank(
    principal: CurrentPrincipal,
    question_type: Annotated[str | None, Query(alias="type", description=", ".join(QUESTION_TYPES))] = None,
    audience: Annotated[str | None, Query(description=", ".join(AUDIENCES))] = None,
    language: Annotated[str, Query(max_length=35)] = "en",
) -> Page[QuestionOut]:
    """Solution-focused and appreciative-inquiry questions by type, audience and language."""
    errors = []
    if question_type is not None and question_type not in QUESTION_TYPES:
        errors.append({"field": "type", "message": f"one of {', '.join(QUESTION_TYPES)}"})
    if audience is not None and audience not in AUDIENCES:
        errors.append({"field": "audience", "message": f"one of {', '.join(AUDIENCES)}"})
    if errors:
        raise InvalidInput(errors)
    items = questions(question_type=question_type, audience=audience, language=primary_language(language))
    return Page[QuestionOut](items=[QuestionOut(**q) for q in items])
