"""The practitioner registry (coaches and trainers, the training coordinator, practice leads, the workers and
supervisors they serve) and coaches' caseloads of workers and units."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from sop_practice.access import may_read_people, may_read_person, require_action
from sop_practice.models import PracticeRole
from sop_practice.people.service import (
    assign_to_caseload,
    caseload,
    end_caseload_entry,
    entry_out,
    get_person,
    list_people,
    practitioner_out,
    register,
    update_person,
)
from sop_practice.schemas import (
    CaseloadEntryEnd,
    CaseloadEntryIn,
    CaseloadEntryOut,
    CaseloadOut,
    PractitionerIn,
    PractitionerOut,
    PractitionerUpdate,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal
from sop_shared.case_refs import NotCaseScoped
from sop_shared.clock import Now
from sop_shared.concurrency import IfMatchVersion, etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.policy import PracticeAction
from sop_shared.problems import Forbidden, NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["people and caseloads"])

# The practice service holds no case: its records belong to people, never to a case.
CaseloadEntryId = Annotated[uuid.UUID, NotCaseScoped("a coach's caseload entry: about people, never a case")]


@router.post("/people", status_code=201, response_model=PractitionerOut, dependencies=[known_query_params()])
async def register_practitioner(
    body: PractitionerIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Register a coach, trainer, coordinator, practice lead, worker or supervisor (training coordinator).
    409 when the subject is registered already; a repeat with the same Idempotency-Key replays."""
    require_action(principal, PracticeAction.manage_people)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(
            request, session, principal, resource="practitioner", action="read", resource_id=_id_of(replayed)
        )
        return replayed
    person = await register(session, body)
    await audit_request(request, session, principal, resource="practitioner", action="create", resource_id=person.id)
    content = practitioner_out(person).model_dump(mode="json")
    headers = {"Location": f"/v1/people/{person.subject}", "ETag": etag(person.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


def _id_of(replayed: Response) -> str | None:
    value = json.loads(bytes(replayed.body)).get("id")
    return str(value) if value is not None else None


@router.get("/people", response_model=list[PractitionerOut], dependencies=[known_query_params()])
async def list_practitioners(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    role: PracticeRole | None = Query(default=None, description="Only people with this role"),
    unit: str | None = Query(default=None, min_length=1, max_length=100, description="Only people in this unit"),
) -> list[PractitionerOut]:
    """The registry (training coordinator and practice leads), by subject."""
    if not may_read_people(principal):
        raise Forbidden("needs people:read in the practice service")
    people = await list_people(session, role=role, unit=unit)
    await audit_request(request, session, principal, resource="practitioner", action="read", fields=["list"])
    return [practitioner_out(p) for p in people]


@router.get("/people/{subject}", response_model=PractitionerOut, dependencies=[known_query_params()])
async def read_practitioner(
    subject: str, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> PractitionerOut:
    """One person: themselves, their supervisor, their coach, or who reads the registry. Anyone else hears
    404, as for someone not registered."""
    person = await get_person(session, subject)
    if not await may_read_person(session, principal, person, may_read_people(principal)):
        raise NotFound("no such practitioner")
    await audit_request(request, session, principal, resource="practitioner", action="read", resource_id=person.id)
    set_etag(response, person.version)
    return practitioner_out(person)


@router.patch("/people/{subject}", response_model=PractitionerOut, dependencies=[known_query_params()])
async def update_practitioner(
    subject: str,
    body: PractitionerUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> PractitionerOut:
    """Change a person's roles, unit, supervisor or start in role; `active: false` when they leave
    (training coordinator; If-Match with the version read)."""
    require_action(principal, PracticeAction.manage_people)
    person = await update_person(session, subject, body, expected_version=expected, now=now)
    await audit_request(
        request,
        session,
        principal,
        resource="practitioner",
        action="update",
        resource_id=person.id,
        fields=sorted(body.model_fields_set),
    )
    set_etag(response, person.version)
    return practitioner_out(person)


@router.post(
    "/coaches/{subject}/caseload",
    status_code=201,
    response_model=CaseloadEntryOut,
    dependencies=[known_query_params()],
)
async def add_to_caseload(
    subject: str,
    body: CaseloadEntryIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> CaseloadEntryOut:
    """Put a worker or a whole unit on a coach's caseload (training coordinator). 409 if already on it."""
    require_action(principal, PracticeAction.manage_people)
    entry = await assign_to_caseload(session, subject, body, actor=principal.subject, today=now.date())
    await audit_request(request, session, principal, resource="coach_caseload", action="create", resource_id=entry.id)
    set_etag(response, entry.version)
    response.headers["Location"] = f"/v1/coaches/{subject}/caseload/{entry.id}"
    return entry_out(entry)


@router.get("/coaches/{subject}/caseload", response_model=CaseloadOut, dependencies=[known_query_params()])
async def read_caseload(
    subject: str, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> CaseloadOut:
    """A coach's open caseload and the workers it covers: the coach, or who reads the registry."""
    if principal.subject != subject and not may_read_people(principal):
        raise Forbidden("a coach's caseload is for the coach, the training coordinator and practice leads")
    out = await caseload(session, subject)
    await audit_request(request, session, principal, resource="coach_caseload", action="read", resource_id=subject)
    return out


@router.post(
    "/coaches/{subject}/caseload/{entry_id}/end", response_model=CaseloadEntryOut, dependencies=[known_query_params()]
)
async def end_caseload(
    subject: str,
    entry_id: CaseloadEntryId,
    body: CaseloadEntryEnd,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    expected: IfMatchVersion,
    now: Now,
) -> CaseloadEntryOut:
    """Take a worker or unit off a coach's caseload, with a reason (training coordinator; If-Match)."""
    require_action(principal, PracticeAction.manage_people)
    entry = await end_caseload_entry(
        session, subject, entry_id, reason=body.reason, expected_version=expected, today=now.date()
    )
    await audit_request(request, session, principal, resource="coach_caseload", action="update", resource_id=entry.id)
    set_etag(response, entry.version)
    return entry_out(entry)
