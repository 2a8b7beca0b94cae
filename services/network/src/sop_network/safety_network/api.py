"""The safety network of a case: its members (with their history) and its meetings."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sop_network.access.service import authorize
from sop_network.models import NetworkSharingChoice
from sop_network.safety_network.service import (
    add_meeting,
    add_member,
    meeting_out,
    member_history,
    network_meetings,
    network_members_out,
    read_safety_network,
    update_member,
)
from sop_network.safety_network.sharing import choose, sharing_out
from sop_network.schemas import (
    NetworkMeetingIn,
    NetworkMeetingOut,
    NetworkMemberCreate,
    NetworkMemberOut,
    NetworkMemberRevisionOut,
    NetworkMemberUpdate,
    NetworkSharingIn,
    NetworkSharingOut,
    SafetyNetworkOut,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_member
from sop_shared.clock import Now
from sop_shared.concurrency import IfMatchVersion, etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import Page, PageDep
from sop_shared.policy import MEMBER_ACTORS, ActorType, Scope
from sop_shared.problems import Forbidden
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["safety network"])


@router.get("/cases/{case_id}/network", response_model=SafetyNetworkOut, dependencies=[known_query_params()])
async def get_safety_network(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, now: Now
) -> SafetyNetworkOut:
    """The family's safety network: who is in it (circle, roles, commitments, checks) and its meetings."""
    decision = await authorize(session, principal, case_id, Scope.case_read, now)
    network = await read_safety_network(session, case_id, decision.audiences, decision.person_id)
    await audit_request(request, session, principal, resource="safety_network", action="read", case_id=case_id)
    return network


@router.post(
    "/cases/{case_id}/network/members",
    status_code=201,
    response_model=NetworkMemberOut,
    dependencies=[known_query_params()],
)
async def create_network_member(
    case_id: uuid.UUID,
    body: NetworkMemberCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    now: Now,
) -> Response:
    """Add someone to the safety network: an existing person (`person_id`) or a new one (`person`, with the
    `principal_subject` they will log in with, if any). A repeat with the same Idempotency-Key replays."""
    decision = await authorize(session, principal, case_id, Scope.case_write, now)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(
            request,
            session,
            principal,
            resource="network_member",
            action="read",
            case_id=case_id,
            resource_id=json.loads(bytes(replayed.body)).get("id"),
        )
        return replayed
    member = await add_member(session, case_id, body, actor=principal.subject, today=now.date())
    await audit_request(
        request, session, principal, resource="network_member", action="create", case_id=case_id, resource_id=member.id
    )
    content = (await network_members_out(session, [member], decision.audiences))[0].model_dump(mode="json")
    headers = {"Location": f"/v1/cases/{case_id}/network/members/{member.id}", "ETag": etag(member.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.put(
    "/cases/{case_id}/network/members/{member_id}", response_model=NetworkMemberOut, dependencies=[known_query_params()]
)
async def revise_network_member(
    case_id: uuid.UUID,
    member_id: uuid.UUID,
    body: NetworkMemberUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> NetworkMemberOut:
    """A new revision of a member (If-Match with the version read; 412 when stale, 428 without)."""
    decision = await authorize(session, principal, case_id, Scope.case_write, now)
    member = await update_member(
        session, case_id, member_id, body, expected_version=expected, actor=principal.subject, today=now.date()
    )
    await audit_request(
        request, session, principal, resource="network_member", action="update", case_id=case_id, resource_id=member.id
    )
    set_etag(response, member.version)
    return (await network_members_out(session, [member], decision.audiences))[0]


@router.get(
    "/cases/{case_id}/network/members/{member_id}/history",
    response_model=list[NetworkMemberRevisionOut],
    dependencies=[known_query_params()],
)
async def get_network_member_history(
    case_id: uuid.UUID,
    member_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> list[NetworkMemberRevisionOut]:
    """Every revision of a member, oldest first: nothing is overwritten."""
    await authorize(session, principal, case_id, Scope.case_read, now)
    revisions = await member_history(session, case_id, member_id)
    await audit_request(
        request, session, principal, resource="network_member", action="read", case_id=case_id, resource_id=member_id
    )
    return [NetworkMemberRevisionOut.model_validate(r, from_attributes=True) for r in revisions]


@router.post("/cases/{case_id}/network/meetings", status_code=201, dependencies=[known_query_params()])
async def record_network_meeting(
    case_id: uuid.UUID,
    body: NetworkMeetingIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
    now: Now,
) -> Response:
    """A network meeting: who came, what was decided, when the next one is."""
    await authorize(session, principal, case_id, Scope.case_write, now)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        return replayed
    meeting = await add_meeting(session, case_id, body, actor=principal.subject)
    await audit_request(
        request,
        session,
        principal,
        resource="network_meeting",
        action="create",
        case_id=case_id,
        resource_id=meeting.id,
    )
    content = meeting_out(meeting).model_dump(mode="json")
    await idempotency.remember(session, body, status_code=201, content=content, headers={})
    return JSONResponse(content, status_code=201)


@router.get(
    "/cases/{case_id}/network/meetings",
    response_model=Page[NetworkMeetingOut],
    dependencies=[known_query_params("limit", "cursor")],
)
async def list_network_meetings(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, page: PageDep, now: Now
) -> Page[NetworkMeetingOut]:
    """The safety network's meetings, in the order they were recorded."""
    await authorize(session, principal, case_id, Scope.case_read, now)
    await audit_request(request, session, principal, resource="network_meeting", action="read", case_id=case_id)
    items, next_cursor = await network_meetings(session, case_id, page)
    return Page[NetworkMeetingOut](items=items, next_cursor=next_cursor)


@router.get("/cases/{case_id}/network/sharing", response_model=NetworkSharingOut, dependencies=[known_query_params()])
async def get_network_sharing(
    case_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> NetworkSharingOut:
    """What the family chose their safety network sees beyond the default (`version` 0: the default holds). The
    ETag is its version (`"0"` before the first choice), for the `If-Match` of the next choice."""
    await authorize(session, principal, case_id, Scope.case_read, now)
    row = await session.get(NetworkSharingChoice, case_id)
    await audit_request(request, session, principal, resource="network_sharing", action="read", case_id=case_id)
    out = sharing_out(case_id, row)
    set_etag(response, out.version)
    return out


@router.put(
    "/cases/{case_id}/network/sharing",
    response_model=NetworkSharingOut,
    dependencies=[known_query_params()],
    responses={403: {"description": "Neither a family member of the case nor its staff"}},
)
async def choose_network_sharing(
    case_id: uuid.UUID,
    body: NetworkSharingIn,
    version: IfMatchVersion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> NetworkSharingOut:
    """The family chooses what their network sees beyond the default: a caregiver as themselves (family login),
    or the worker recording the family's decision. A network member may not (403). `If-Match` is the ETag of the
    choice read (`"0"` before the first one): 412 when it moved on, 428 without one."""
    person_id: uuid.UUID | None = None
    if principal.actor_type in MEMBER_ACTORS:
        person_id = require_member(principal, case_id)
        if principal.actor_type != ActorType.family:
            raise Forbidden("the family chooses what their network sees, not the network")
        await authorize(session, principal, case_id, Scope.case_participate, now)
    else:
        await authorize(session, principal, case_id, Scope.case_write, now)
    row = await choose(session, case_id, body, version, by=principal.subject, person_id=person_id, now=now)
    await audit_request(
        request, session, principal, resource="network_sharing", action="update", case_id=case_id, resource_id=case_id
    )
    set_etag(response, row.version)
    return sharing_out(case_id, row)
