"""Training: the course catalogue, sessions with rosters and attendance, completions and certifications, a
person's training record, a unit's due and overdue training, and the batch roster load."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from sop_practice.access import actions_of, may_read_person, require_action
from sop_practice.people.service import find_person, get_person
from sop_practice.training.schemas import (
    AttendanceSheet,
    BatchResult,
    BatchRosters,
    CourseIn,
    CourseOut,
    RosterIn,
    SessionIn,
    SessionOut,
    TrainingRecordOut,
    UnitTrainingDue,
)
from sop_practice.training.service import (
    course_out,
    create_course,
    enrol,
    get_session,
    list_courses,
    load_rosters,
    record_attendance,
    schedule_session,
    session_out,
    training_record,
    unit_training_due,
)
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, Principal
from sop_shared.case_refs import NotCaseScoped
from sop_shared.clock import Now
from sop_shared.concurrency import etag, set_etag
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.policy import ActorType, PracticeAction
from sop_shared.problems import Forbidden, NotFound
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1", tags=["training"])

SessionId = Annotated[uuid.UUID, NotCaseScoped("a training session: about people, never a case")]
AsOf = Annotated[date | None, Query(description="The day to judge on (default: today)")]


def _staff(principal: Principal) -> None:
    if principal.actor_type != ActorType.staff:
        raise Forbidden("training records are read by staff")


@router.get("/courses", response_model=list[CourseOut], dependencies=[known_query_params()])
async def read_courses(session: SessionDep, principal: CurrentPrincipal) -> list[CourseOut]:
    """The course catalogue (any staff member): SOP foundations, mapping, harm and danger statements, safety
    networks, child voice tools, SDM instruments, supervision, and what the coordinator added."""
    _staff(principal)
    return [course_out(c) for c in await list_courses(session)]


@router.post("/courses", status_code=201, response_model=CourseOut, dependencies=[known_query_params()])
async def add_course(
    body: CourseIn, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> CourseOut:
    """Add a course to the catalogue (training coordinator)."""
    require_action(principal, PracticeAction.manage_training)
    course = await create_course(session, body)
    await audit_request(request, session, principal, resource="course", action="create", resource_id=course.id)
    set_etag(response, course.version)
    response.headers["Location"] = f"/v1/courses/{course.code}"
    return course_out(course)


@router.post("/training-sessions", status_code=201, response_model=SessionOut, dependencies=[known_query_params()])
async def schedule_training_session(
    body: SessionIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Schedule a session of a course (training coordinator; `Idempotency-Key` accepted)."""
    require_action(principal, PracticeAction.manage_training)
    replayed = await idempotency.replay(session, body)
    if replayed is not None:
        await audit_request(request, session, principal, resource="training_session", action="read")
        return replayed
    row = await schedule_session(session, body)
    course_row = (await get_session(session, row.id))[1]
    await audit_request(request, session, principal, resource="training_session", action="create", resource_id=row.id)
    content = (await session_out(session, row, course_row)).model_dump(mode="json")
    headers = {"Location": f"/v1/training-sessions/{row.id}", "ETag": etag(row.version)}
    await idempotency.remember(session, body, status_code=201, content=content, headers=headers)
    return JSONResponse(content, status_code=201, headers=headers)


def _may_see_session(principal: Principal, trainer_subject: str | None) -> bool:
    actions = actions_of(principal)
    return (
        PracticeAction.manage_training in actions
        or PracticeAction.read_all_training in actions
        or (principal.subject == trainer_subject and PracticeAction.record_attendance in actions)
    )


@router.get("/training-sessions/{session_id}", response_model=SessionOut, dependencies=[known_query_params()])
async def read_training_session(
    session_id: SessionId, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> SessionOut:
    """A session and its roster: the coordinator, practice leads and the session's trainer."""
    row, course = await get_session(session, session_id)
    if not _may_see_session(principal, row.trainer_subject):
        raise NotFound("no such training session")
    await audit_request(request, session, principal, resource="training_session", action="read", resource_id=row.id)
    set_etag(response, row.version)
    return await session_out(session, row, course)


@router.post("/training-sessions/{session_id}/roster", response_model=SessionOut, dependencies=[known_query_params()])
async def enrol_people(
    session_id: SessionId,
    body: RosterIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> SessionOut:
    """Enrol registered people (training coordinator); someone enrolled already is left as they are, so the
    same roster sent again changes nothing."""
    require_action(principal, PracticeAction.manage_training)
    row, course = await get_session(session, session_id)
    await enrol(session, row, course, body.subjects, actor=principal.subject, now=now)
    await audit_request(request, session, principal, resource="roster_entry", action="update", resource_id=row.id)
    return await session_out(session, row, course)


@router.post(
    "/training-sessions/{session_id}/attendance", response_model=SessionOut, dependencies=[known_query_params()]
)
async def record_session_attendance(
    session_id: SessionId,
    body: AttendanceSheet,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: Now,
) -> SessionOut:
    """Who attended and who completed the course (the session's trainer, or the coordinator). A completion of a
    course that certifies records the certification and its expiry."""
    row, course = await get_session(session, session_id)
    actions = actions_of(principal)
    own_session = principal.subject == row.trainer_subject and PracticeAction.record_attendance in actions
    if not own_session and PracticeAction.manage_training not in actions:
        raise Forbidden("attendance is recorded by the session's trainer or the training coordinator")
    await record_attendance(session, row, course, body.entries, actor=principal.subject, now=now)
    await audit_request(
        request, session, principal, resource="roster_entry", action="update", resource_id=row.id, fields=["attendance"]
    )
    return await session_out(session, row, course)


@router.get("/people/{subject}/training-record", response_model=TrainingRecordOut, dependencies=[known_query_params()])
async def read_training_record(
    subject: str, request: Request, session: SessionDep, principal: CurrentPrincipal, now: Now, as_of: AsOf = None
) -> TrainingRecordOut:
    """A person's training record: each required or completed course's standing (current, expiring, expired,
    due, overdue) and every completion. For the person, their supervisor, their coach, the coordinator and
    practice leads; anyone else hears 404."""
    person = await get_person(session, subject)
    read_all = PracticeAction.read_all_training in actions_of(principal)
    if not await may_read_person(session, principal, person, read_all):
        raise NotFound("no such practitioner")
    record = await training_record(session, person, as_of or now.date())
    await audit_request(request, session, principal, resource="training_record", action="read", resource_id=person.id)
    return record


@router.get("/units/{unit}/training-due", response_model=UnitTrainingDue, dependencies=[known_query_params()])
async def read_unit_training_due(
    unit: str, request: Request, session: SessionDep, principal: CurrentPrincipal, now: Now, as_of: AsOf = None
) -> UnitTrainingDue:
    """A unit's due, overdue, expiring and expired training, soonest first: the coordinator, practice leads and
    the unit's supervisors."""
    if PracticeAction.read_all_training not in actions_of(principal):
        me = await find_person(session, principal.subject)
        if me is None or me.unit != unit or "supervisor" not in me.roles or "supervisor" not in principal.roles:
            raise Forbidden("a unit's training is for its supervisors, the training coordinator and practice leads")
    due = await unit_training_due(session, unit, as_of or now.date())
    await audit_request(request, session, principal, resource="unit_training", action="read", resource_id=unit)
    return due


@router.post("/training-rosters/batch", response_model=BatchResult, dependencies=[known_query_params()])
async def load_training_rosters(
    body: BatchRosters, request: Request, session: SessionDep, principal: CurrentPrincipal, now: Now
) -> BatchResult:
    """Sessions, rosters, attendance and completions in batch, from the state's learning system or SACWIS
    (`training:sync`) or the coordinator. Idempotent: the same batch again answers all unchanged. A wrong line
    anywhere: 422 naming each, nothing written."""
    require_action(principal, PracticeAction.load_rosters)
    result = await load_rosters(session, body, actor=principal.subject, now=now)
    await audit_request(
        request,
        session,
        principal,
        resource="training_roster",
        action="update",
        resource_id=body.source,
        fields=[name for name, count in result.model_dump().items() if count],
    )
    return result
