"""Persons: create, read, change and upsert by external id; likely duplicates, the reversible merge, the
crosswalk, and a member's login identity.

A person outside a case, merging and the crosswalk are data stewardship on the SACWIS side: they need
`cases:sync`. Staff see people through their cases (`GET /v1/cases/{case_id}/members`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from sop_network.access.service import authorize
from sop_network.cases.service import create_person, person_out, resolve_person, update_person, upsert_person
from sop_network.models import Person
from sop_network.persons.service import (
    clear_principal,
    crosswalk_link,
    crosswalk_lookup,
    invite_to_login,
    likely_duplicates,
    merge_persons,
    redeem_login_invitation,
    reverse_merge,
)
from sop_network.schemas import (
    CrosswalkIn,
    CrosswalkOut,
    DuplicateOut,
    LoginInvitationIn,
    LoginInvitationOut,
    LoginInvitationRedeemIn,
    LoginRedeemedOut,
    PersonFields,
    PersonMergeIn,
    PersonMergeOut,
    PersonOut,
    PersonPatch,
    PrincipalIn,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_scope
from sop_shared.clock import Now
from sop_shared.concurrency import IfMatchVersion, OptionalIfMatchVersion, check_version, etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.policy import MEMBER_ACTORS, Audience, Scope
from sop_shared.problems import NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["persons"])

System = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
ExternalId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
STEWARD = frozenset({Audience.staff})


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonOut,
    dependencies=[known_query_params()],
    responses={201: {"headers": {"Location": {"description": "The new person", "schema": {"type": "string"}}}}},
)
async def record_person(
    body: PersonFields, request: Request, session: SessionDep, principal: CurrentPrincipal, idempotency: IdempotencyDep
) -> Response:
    """A person the platform records itself, before SACWIS knows them (changed later with PATCH)."""
    require_scope(principal, Scope.cases_sync)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        return replayed
    person = await create_person(session, body)
    await audit_request(request, session, principal, resource="person", action="create", resource_id=person.id)
    content = (await person_out(session, person, STEWARD)).model_dump(mode="json")
    headers = {"Location": f"/v1/persons/{person.id}", "ETag": etag(person.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


@router.get("/persons/{person_id}", response_model=PersonOut, dependencies=[known_query_params()])
async def read_person(
    person_id: uuid.UUID, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> PersonOut:
    """One person record (a merged-away record says `merged_into_id`)."""
    require_scope(principal, Scope.cases_sync)
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("no such person")
    await audit_request(request, session, principal, resource="person", action="read", resource_id=person_id)
    set_etag(response, person.version)
    return await person_out(session, person, STEWARD)


@router.patch("/persons/{person_id}", response_model=PersonOut, dependencies=[known_query_params()])
async def change_person(
    person_id: uuid.UUID,
    body: PersonPatch,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
) -> PersonOut:
    """Change a person the platform keeps, at the version read (`If-Match`); the cases they are in change with
    them. A person from SACWIS is changed in SACWIS (or with the upsert below): 409."""
    require_scope(principal, Scope.cases_sync)
    person = await update_person(session, person_id, body, expected_version=expected)
    await audit_request(request, session, principal, resource="person", action="update", resource_id=person_id)
    set_etag(response, person.version)
    return await person_out(session, person, STEWARD)


@router.put(
    "/persons/by-external/{system}/{external_id}",
    response_model=PersonOut,
    dependencies=[known_query_params()],
    responses={200: {"description": "updated or unchanged"}, 201: {"description": "created"}},
)
async def upsert_person_by_external_id(
    system: System,
    external_id: ExternalId,
    body: PersonFields,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: OptionalIfMatchVersion,
) -> PersonOut:
    """Idempotent upsert of the person another system knows by this id (the same payload again changes
    nothing; a merged-away record answers with its survivor). `If-Match` is optional; when sent, a stale
    version is refused."""
    require_scope(principal, Scope.cases_sync)
    if if_match is not None:
        _, live = await resolve_person(session, system, external_id)
        if live is not None:
            check_version(live.version, if_match)
    person, created, changed = await upsert_person(session, system, external_id, body)
    await audit_request(
        request,
        session,
        principal,
        resource="person",
        action="create" if created else ("update" if changed else "read"),
        resource_id=person.id,
    )
    response.status_code = 201 if created else 200
    set_etag(response, person.version)
    return await person_out(session, person, STEWARD)


@router.get(
    "/persons/{person_id}/likely-duplicates", response_model=list[DuplicateOut], dependencies=[known_query_params()]
)
async def get_likely_duplicates(
    person_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> list[DuplicateOut]:
    """People who may be the same as this one (name and date of birth), best first. A suggestion only."""
    require_scope(principal, Scope.cases_sync)
    found = await likely_duplicates(session, person_id)
    await audit_request(
        request,
        session,
        principal,
        resource="person",
        action="read",
        resource_id=person_id,
        fields=[f"{len(found)} suggestions"],
    )
    return [DuplicateOut(person=await person_out(session, p, STEWARD), score=s) for p, s in found]


@router.post("/person-merges", status_code=201, response_model=PersonMergeOut, dependencies=[known_query_params()])
async def merge(
    body: PersonMergeIn, request: Request, session: SessionDep, principal: CurrentPrincipal, now: Now
) -> PersonMergeOut:
    """Merge `merged_id` into `survivor_id`; the merge record says exactly what moved."""
    require_scope(principal, Scope.cases_sync)
    record = await merge_persons(session, body.survivor_id, body.merged_id, actor=principal.subject, now=now)
    await audit_request(request, session, principal, resource="person_merge", action="create", resource_id=record.id)
    return PersonMergeOut.model_validate(record, from_attributes=True)


@router.post("/person-merges/{merge_id}/reverse", response_model=PersonMergeOut, dependencies=[known_query_params()])
async def unmerge(
    merge_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, now: Now
) -> PersonMergeOut:
    """Reverse a merge: everything it moved goes back."""
    require_scope(principal, Scope.cases_sync)
    record = await reverse_merge(session, merge_id, actor=principal.subject, now=now)
    await audit_request(request, session, principal, resource="person_merge", action="update", resource_id=record.id)
    return PersonMergeOut.model_validate(record, from_attributes=True)


@router.get(
    "/crosswalk/persons/{system}/{external_id}", response_model=CrosswalkOut, dependencies=[known_query_params()]
)
async def get_crosswalk(
    system: System, external_id: ExternalId, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> CrosswalkOut:
    """Which person an external id names now. 409 when it would name more than one: never a guess."""
    require_scope(principal, Scope.cases_sync)
    record, live = await crosswalk_lookup(session, system, external_id)
    await audit_request(request, session, principal, resource="person", action="read", resource_id=live.id)
    return CrosswalkOut(
        external_system=system, external_id=external_id, record_id=record.id if record else None, person_id=live.id
    )


@router.put(
    "/crosswalk/persons/{system}/{external_id}", response_model=CrosswalkOut, dependencies=[known_query_params()]
)
async def put_crosswalk(
    system: System,
    external_id: ExternalId,
    body: CrosswalkIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> CrosswalkOut:
    """Link another system's id to a person (idempotent). 409 when that id already names someone else."""
    require_scope(principal, Scope.cases_sync)
    person = await crosswalk_link(session, system, external_id, body.person_id)
    await audit_request(request, session, principal, resource="person", action="update", resource_id=person.id)
    record, live = await crosswalk_lookup(session, system, external_id)
    return CrosswalkOut(
        external_system=system, external_id=external_id, record_id=record.id if record else None, person_id=live.id
    )


@router.put(
    "/cases/{case_id}/people/{person_id}/principal", response_model=PersonOut, dependencies=[known_query_params()]
)
async def put_person_principal(
    case_id: uuid.UUID,
    person_id: uuid.UUID,
    body: PrincipalIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> PersonOut:
    """End the login a caregiver or network member of this case uses (`{"principal_subject": null}`). A login
    is never bound here: the person redeems an invitation (`POST …/login-invitations`), signed in as
    themselves."""
    decision = await authorize(session, principal, case_id, Scope.case_write, now)
    person = await clear_principal(session, case_id, person_id, now=now)
    await audit_request(
        request, session, principal, resource="person", action="update", case_id=case_id, resource_id=person.id
    )
    return await person_out(session, person, decision.audiences)


@router.post(
    "/cases/{case_id}/people/{person_id}/login-invitations",
    status_code=201,
    response_model=LoginInvitationOut,
    dependencies=[known_query_params()],
)
async def create_login_invitation(
    case_id: uuid.UUID,
    person_id: uuid.UUID,
    body: LoginInvitationIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> LoginInvitationOut:
    """A one-time code for a caregiver or network member of this case to bind their own portal login (the
    code is shown once; give it to the person, who redeems it signed in as themselves)."""
    await authorize(session, principal, case_id, Scope.case_write, now)
    invitation, code = await invite_to_login(
        session, case_id, person_id, by=principal.subject, now=now, valid_for=timedelta(days=body.valid_for_days)
    )
    await audit_request(
        request,
        session,
        principal,
        resource="login_invitation",
        action="create",
        case_id=case_id,
        resource_id=invitation.id,
    )
    return LoginInvitationOut(
        id=invitation.id, case_id=case_id, person_id=invitation.person_id, expires_at=invitation.expires_at, code=code
    )


@router.post("/login-invitations/redeem", response_model=LoginRedeemedOut, dependencies=[known_query_params()])
async def redeem_login_invitation_endpoint(
    body: LoginInvitationRedeemIn, request: Request, session: SessionDep, principal: CurrentPrincipal, now: Now
) -> LoginRedeemedOut:
    """The invited person binds the login they are signed in with (a family or network member's portal
    login) to their record. Unknown, used, expired codes and a login already in use answer the same 404."""
    if principal.actor_type not in MEMBER_ACTORS:
        raise NotFound("no such invitation, or it can no longer be used")
    invitation, person = await redeem_login_invitation(session, body.code, subject=principal.subject, now=now)
    await audit_request(
        request,
        session,
        principal,
        resource="login_invitation",
        action="update",
        case_id=invitation.case_id,
        resource_id=invitation.id,
    )
    return LoginRedeemedOut(case_id=invitation.case_id, person_id=person.id)
