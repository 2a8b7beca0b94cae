"""Coaching over HTTP: referrals from a supervisor or a worker themselves, routed by the training coordinator to a
coach's queue; coaching sessions rated against the practice profile; goals and their follow-up."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sop_practice.access import actions_of, supervises
from sop_practice.coaching import rules
from sop_practice.coaching.models import CoachingGoal, CoachingReferral, ReferralStatus
from sop_practice.coaching.schemas import (
    AssignIn,
    CloseIn,
    FollowUpIn,
    GoalIn,
    GoalOut,
    IdentifyingDetailsIn,
    ProfileOut,
    QueueItem,
    ReferralIn,
    ReferralOut,
    SessionIn,
    SessionOut,
    StartIn,
)
from sop_practice.coaching.service import (
    OPEN,
    allow_identifying,
    assign,
    close,
    create_referral,
    current_profile,
    follow_up,
    get_referral,
    goal_out,
    goals_of,
    queue,
    record_session,
    referral_out,
    sessions_of,
    set_goal,
    start,
    visible_referrals,
)
from sop_practice.models import PracticeRole
from sop_practice.people.service import find_person
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal
from sop_shared.case_refs import NotCaseScoped
from sop_shared.clock import Now
from sop_shared.concurrency import IfMatchVersion, etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import ActorType, PracticeAction
from sop_shared.problems import Forbidden, InvalidInput, NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["coaching"])

ReferralId = Annotated[uuid.UUID, NotCaseScoped("a coaching referral: about a worker's practice, never a case")]
GoalId = Annotated[uuid.UUID, NotCaseScoped("a coaching goal: about a worker's practice, never a case")]


def _routes(principal: Principal) -> bool:
    return PracticeAction.route_coaching in actions_of(principal)


async def _worker_side(session: AsyncSession, principal: Principal, referral: CoachingReferral) -> bool:
    """The worker referred, who referred them, or the worker's supervisor: they see the snapshot whole."""
    if principal.actor_type != ActorType.staff:
        return False
    if principal.subject in (referral.worker_subject, referral.referred_by):
        return True
    worker = await find_person(session, referral.worker_subject) if referral.worker_subject else None
    return worker is not None and await supervises(session, principal, worker)


def _coaches(principal: Principal, referral: CoachingReferral) -> bool:
    return (
        principal.actor_type == ActorType.staff
        and PracticeRole.coach in principal.roles
        and referral.coach_subject == principal.subject
    )


async def _readable(
    session: AsyncSession, principal: Principal, referral_id: uuid.UUID
) -> tuple[CoachingReferral, bool]:
    """The referral and whether the caller sees its snapshot whole; who may not read it hears 404."""
    referral = await get_referral(session, referral_id)
    whole = await _worker_side(session, principal, referral)
    if not (whole or _coaches(principal, referral) or _routes(principal)):
        raise NotFound("no such coaching referral")
    return referral, whole


async def _answer(
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
    referral: CoachingReferral,
    action: str,
    whole: bool,
) -> ReferralOut:
    await audit_request(
        request, session, principal, resource="coaching_referral", action=action, resource_id=referral.id
    )
    set_etag(response, referral.version)
    return await referral_out(session, referral, whole=whole)


@router.post("/coaching-referrals", status_code=201, response_model=ReferralOut, dependencies=[known_query_params()])
async def refer_for_coaching(
    body: ReferralIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    now: Now,
) -> Response:
    """Refer a worker for coaching (their supervisor, or the worker themselves) or a unit for group coaching (a
    supervisor of the unit). It waits for the training coordinator to route it to a coach. What the worker brings
    from a consultation comes from the assessment service (`POST /api/assessment/v1/cases/{case_id}/consultations/
    {consultation_id}/coaching`); `consultation_id` here names the one the referral waits for. A pasted
    `consultation_snapshot` is deprecated (and refused beside `consultation_id`). `Idempotency-Key` accepted."""
    if principal.actor_type != ActorType.staff:
        raise Forbidden("coaching referrals are made by staff")
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        referral_id = json.loads(bytes(replayed.body)).get("id")
        await audit_request(
            request, session, principal, resource="coaching_referral", action="read", resource_id=referral_id
        )
        return replayed
    worker = await find_person(session, body.worker_subject) if body.worker_subject else None
    errors = rules.check_referral(
        worker_subject=body.worker_subject,
        unit=body.unit,
        coaching_type=body.coaching_type,
        worker=worker,
        waits_for_consultation=body.consultation_id is not None,
        pasted_snapshot=body.consultation_snapshot is not None,
    )
    if errors:
        raise InvalidInput(errors)
    source = rules.referral_source(
        principal.subject,
        await find_person(session, principal.subject),
        worker=worker,
        unit=body.unit,
        supervises_worker=worker is not None and await supervises(session, principal, worker),
    )
    if source is None:
        raise Forbidden("a worker is referred by their supervisor or by themselves; a unit by its supervisor")
    referral = await create_referral(session, body, source=source, actor=principal.subject, now=now)
    await audit_request(
        request, session, principal, resource="coaching_referral", action="create", resource_id=referral.id
    )
    content = (await referral_out(session, referral, whole=True)).model_dump(mode="json")
    headers = {"Location": f"/v1/coaching-referrals/{referral.id}", "ETag": etag(referral.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


StatusFilter = Annotated[ReferralStatus | None, Query(description="Only referrals in this state")]


@router.get(
    "/coaching-referrals",
    response_model=Page[ReferralOut],
    dependencies=[known_query_params("status", "limit", "cursor")],
)
async def list_coaching_referrals(
    request: Request, session: SessionDep, principal: CurrentPrincipal, page: PageDep, status: StatusFilter = None
) -> Page[ReferralOut]:
    """The referrals the caller made, is the subject of or coaches; every referral for the training coordinator.
    Oldest first, each with its history."""
    everyone = _routes(principal)
    rows, next_cursor = await visible_referrals(
        session, subject=principal.subject, everyone=everyone, status=status, page=page
    )
    items = [await referral_out(session, r, whole=await _worker_side(session, principal, r)) for r in rows]
    await audit_request(request, session, principal, resource="coaching_referral", action="read", fields=["list"])
    return Page[ReferralOut](items=items, next_cursor=next_cursor)


@router.get(
    "/coaching-queue", response_model=Page[QueueItem], dependencies=[known_query_params("status", "limit", "cursor")]
)
async def coaching_queue(
    request: Request, session: SessionDep, principal: CurrentPrincipal, page: PageDep, status: StatusFilter = None
) -> Page[QueueItem]:
    """A coach's queue: the referrals routed to them, assigned or in coaching unless `status` says otherwise. For
    the training coordinator: the referrals waiting to be routed (every coach's, by `status`). The consultation
    snapshot is shown as the policy table lets a coach see it: identifying details removed unless the worker's
    supervisor allowed them."""
    statuses: tuple[ReferralStatus, ...]
    if _routes(principal):
        coach, statuses = None, (status,) if status else (ReferralStatus.referred,)
    elif principal.actor_type == ActorType.staff and PracticeRole.coach in principal.roles:
        coach, statuses = principal.subject, (status,) if status else OPEN
    else:
        raise Forbidden("a coaching queue is a coach's, or the training coordinator's")
    items, next_cursor = await queue(session, coach=coach, statuses=statuses, page=page)
    await audit_request(request, session, principal, resource="coaching_queue", action="read", fields=["list"])
    return Page[QueueItem](items=items, next_cursor=next_cursor)


@router.get("/coaching-referrals/{referral_id}", response_model=ReferralOut, dependencies=[known_query_params()])
async def read_coaching_referral(
    referral_id: ReferralId, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> ReferralOut:
    """A referral and its history (who moved it, when, why): for the worker, who referred them, their supervisor,
    the coach it is routed to and the training coordinator; anyone else hears 404."""
    referral, whole = await _readable(session, principal, referral_id)
    return await _answer(request, response, session, principal, referral, "read", whole)


@router.post(
    "/coaching-referrals/{referral_id}/assign", response_model=ReferralOut, dependencies=[known_query_params()]
)
async def assign_coaching_referral(
    referral_id: ReferralId,
    body: AssignIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> ReferralOut:
    """Route a referral to a coach's queue, or change its coach with a why (training coordinator; If-Match)."""
    referral, whole = await _readable(session, principal, referral_id)
    if not _routes(principal):
        raise Forbidden("the training coordinator routes coaching referrals")
    referral = await assign(
        session,
        referral,
        coach_subject=body.coach_subject,
        why=body.why,
        actor=principal.subject,
        expected_version=expected,
        now=now,
    )
    return await _answer(request, response, session, principal, referral, "update", whole)


@router.post("/coaching-referrals/{referral_id}/start", response_model=ReferralOut, dependencies=[known_query_params()])
async def start_coaching(
    referral_id: ReferralId,
    body: StartIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> ReferralOut:
    """The coach starts the coaching (recording its first session does too; If-Match)."""
    referral, whole = await _readable(session, principal, referral_id)
    if not _coaches(principal, referral):
        raise Forbidden("the referral's coach starts the coaching")
    referral = await start(session, referral, why=body.why, actor=principal.subject, expected_version=expected, now=now)
    return await _answer(request, response, session, principal, referral, "update", whole)


@router.post("/coaching-referrals/{referral_id}/close", response_model=ReferralOut, dependencies=[known_query_params()])
async def close_coaching_referral(
    referral_id: ReferralId,
    body: CloseIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> ReferralOut:
    """Close a referral with its outcome and why: the coach or the training coordinator (any outcome), who referred
    (withdrawn). If-Match."""
    referral, whole = await _readable(session, principal, referral_id)
    may_close = _coaches(principal, referral) or _routes(principal)
    if not may_close and not (principal.subject == referral.referred_by and body.outcome.value == "withdrawn"):
        raise Forbidden("the coach or the training coordinator closes a referral; who referred may withdraw it")
    referral = await close(
        session,
        referral,
        outcome=body.outcome,
        why=body.why,
        actor=principal.subject,
        expected_version=expected,
        now=now,
    )
    return await _answer(request, response, session, principal, referral, "update", whole)


@router.post(
    "/coaching-referrals/{referral_id}/identifying-details",
    response_model=ReferralOut,
    dependencies=[known_query_params()],
)
async def allow_identifying_details(
    referral_id: ReferralId,
    body: IdentifyingDetailsIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> ReferralOut:
    """The worker's supervisor allows the coach to see the snapshot's identifying details (or takes it back),
    with a why (If-Match). Nobody else may."""
    referral, whole = await _readable(session, principal, referral_id)
    worker = await find_person(session, referral.worker_subject) if referral.worker_subject else None
    if worker is None or not await supervises(session, principal, worker):
        raise Forbidden("the worker's supervisor decides what a coach sees of a consultation")
    referral = await allow_identifying(
        session,
        referral,
        allowed=body.allowed,
        why=body.why,
        actor=principal.subject,
        expected_version=expected,
        now=now,
    )
    return await _answer(request, response, session, principal, referral, "update", whole)


@router.post(
    "/coaching-referrals/{referral_id}/sessions",
    status_code=201,
    response_model=SessionOut,
    dependencies=[known_query_params()],
)
async def record_coaching_session(
    referral_id: ReferralId,
    body: SessionIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> SessionOut:
    """The coach records a session (modelling, observing a mapping or family meeting, feedback) and the practice
    behaviours observed, rated against the current practice profile. The first session starts the coaching."""
    referral, _ = await _readable(session, principal, referral_id)
    if not _coaches(principal, referral):
        raise Forbidden("the referral's coach records its sessions")
    row, out = await record_session(session, referral, body, actor=principal.subject, now=now)
    await audit_request(request, session, principal, resource="coaching_session", action="create", resource_id=row.id)
    response.headers["Location"] = f"/v1/coaching-referrals/{referral.id}/sessions"
    return out


@router.get(
    "/coaching-referrals/{referral_id}/sessions", response_model=list[SessionOut], dependencies=[known_query_params()]
)
async def read_coaching_sessions(
    referral_id: ReferralId, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> list[SessionOut]:
    """A referral's sessions with their ratings, oldest first (whoever may read the referral)."""
    referral, _ = await _readable(session, principal, referral_id)
    await audit_request(
        request, session, principal, resource="coaching_session", action="read", resource_id=referral.id
    )
    return await sessions_of(session, referral)


@router.post(
    "/coaching-referrals/{referral_id}/goals",
    status_code=201,
    response_model=GoalOut,
    dependencies=[known_query_params()],
)
async def set_coaching_goal(
    referral_id: ReferralId,
    body: GoalIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> GoalOut:
    """A goal for the worker, set by the coach, perhaps on a behaviour of the profile, with a follow-up date."""
    referral, _ = await _readable(session, principal, referral_id)
    if not _coaches(principal, referral):
        raise Forbidden("the referral's coach sets goals")
    goal = await set_goal(session, referral, body, actor=principal.subject, now=now)
    await audit_request(request, session, principal, resource="coaching_goal", action="create", resource_id=goal.id)
    set_etag(response, goal.version)
    response.headers["Location"] = f"/v1/coaching-goals/{goal.id}"
    return goal_out(goal)


@router.get(
    "/coaching-referrals/{referral_id}/goals", response_model=list[GoalOut], dependencies=[known_query_params()]
)
async def read_coaching_goals(
    referral_id: ReferralId, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> list[GoalOut]:
    referral, _ = await _readable(session, principal, referral_id)
    await audit_request(request, session, principal, resource="coaching_goal", action="read", resource_id=referral.id)
    return [goal_out(g) for g in await goals_of(session, referral)]


@router.post("/coaching-goals/{goal_id}/follow-up", response_model=GoalOut, dependencies=[known_query_params()])
async def follow_up_coaching_goal(
    goal_id: GoalId,
    body: FollowUpIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> GoalOut:
    """The coach follows a goal up: met, partly met, not met, dropped, or still open with the next date (If-Match)."""
    goal = await session.get(CoachingGoal, goal_id)
    if goal is None:
        raise NotFound("no such coaching goal")
    referral, _ = await _readable(session, principal, goal.referral_id)
    if not _coaches(principal, referral):
        raise Forbidden("the referral's coach follows its goals up")
    goal = await follow_up(session, goal, body, actor=principal.subject, expected_version=expected, now=now)
    await audit_request(request, session, principal, resource="coaching_goal", action="update", resource_id=goal.id)
    set_etag(response, goal.version)
    return goal_out(goal)


@router.get("/practice-profile", response_model=ProfileOut, dependencies=[known_query_params()])
async def read_practice_profile(principal: CurrentPrincipal) -> ProfileOut:
    """The practice profile coaching rates against (its current version): domains, behaviours, the rating scale."""
    if principal.actor_type != ActorType.staff:
        raise Forbidden("the practice profile is for staff")
    profile = current_profile().model_dump(mode="json")
    return ProfileOut(**profile)
