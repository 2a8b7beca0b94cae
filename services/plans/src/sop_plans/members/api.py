"""A member's own actions on their case's plan, under `/v1/cases/{case_id}` only: the person acting is the one
the token names (the gateway puts the member's person id there from the network service's access decision),
never one a body names."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sop_plans.check_ins.service import record_check_in
from sop_plans.deps import PolicyDep, SettingsDep, plan_for
from sop_plans.members.rules import member_name, participant_of, require_version_shown, signer_role, watched_rule
from sop_plans.members.schemas import MemberCheckInIn, MemberSignatureIn
from sop_plans.safety_plans.api import record_and_answer_signature
from sop_plans.safety_plans.service import check_in_out, get_version
from sop_plans.schemas import CheckInIn, CheckInOut, PersonRef, PlanContent, SignatureIn, SignatureOut
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_member
from sop_shared.clock import ClockDep
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.policy import Scope
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["members"])


@router.post(
    "/safety-plans/{plan_id}/member-signatures",
    status_code=201,
    response_model=SignatureOut,
    dependencies=[known_query_params()],
    responses={
        403: {"description": "Not a family or network member of this case"},
        409: {"description": "The version read is not the current one, or the plan ended"},
    },
)
async def sign_as_member(
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: MemberSignatureIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    clock: ClockDep,
    settings: SettingsDep,
    policy: PolicyDep,
) -> Response:
    """A caregiver or safety-network member signs (or refuses, with a reason) the version shown to them, as
    themselves. The interpreter rule applies: a version in a language that is not the member's own needs the
    interpreter who explained it."""
    person_id = require_member(principal, case_id)
    plan = await plan_for(request, session, principal, plan_id, Scope.case_participate, for_update=True)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        return replayed
    version = await get_version(session, plan.id, body.version_number)
    content = PlanContent.model_validate(version.content) if version is not None else None
    participant = participant_of(content, person_id) if content is not None else None
    fallback = principal.name or principal.subject
    signing = SignatureIn(
        **body.model_dump(exclude_unset=True),
        signer_name=member_name(content, person_id, fallback) if content is not None else fallback,
        signer_person_id=person_id,
        signer_role=signer_role(principal.actor_type),
        participant_id=participant.id if participant is not None else None,
    )
    return await record_and_answer_signature(
        request,
        session,
        principal,
        idempotency,
        plan,
        signing,
        sent=body,
        now=clock.now(),
        settings=settings,
        policy=policy,
        location_prefix=f"/v1/cases/{case_id}",
    )


@router.post(
    "/safety-plans/{plan_id}/member-check-ins",
    status_code=201,
    response_model=CheckInOut,
    dependencies=[known_query_params()],
    responses={
        403: {"description": "Not a family or network member of this case"},
        409: {"description": "The version in force is not the one the member was shown, or the plan ended"},
    },
)
async def check_in_as_member(
    case_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: MemberCheckInIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    clock: ClockDep,
) -> Response:
    """A member says whether a rule they watch was kept, or when it was broken (`kept: false`)."""
    person_id = require_member(principal, case_id)
    plan = await plan_for(request, session, principal, plan_id, Scope.case_participate, for_update=True)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        return replayed
    require_version_shown(plan.in_force_version_number, body.version_number)
    version = await get_version(session, plan.id, body.version_number)
    content = PlanContent.model_validate(version.content if version else {})
    watched_rule(content, body.rule_id, person_id)
    name = member_name(content, person_id, principal.name or principal.subject)
    check_in = await record_check_in(
        session,
        plan,
        CheckInIn(
            rule_id=body.rule_id,
            occurred_at=body.occurred_at,
            reported_by=PersonRef(name=name, person_id=person_id),
            kept=body.kept,
            note=body.note,
        ),
        by=principal.subject,
        now=clock.now(),
    )
    await audit_request(
        request, session, principal, resource="check_in", action="create", case_id=plan.case_id, resource_id=check_in.id
    )
    content_out = check_in_out(check_in).model_dump(mode="json")
    await idempotency.remember(session, body, status_code=201, content=content_out)
    return JSONResponse(content_out, status_code=201)
