"""Training: the catalogue, sessions and rosters, attendance and completions, a person's record, a unit's due
list and the batch roster load. Each write emits its event through the outbox in the same transaction."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_practice.models import Practitioner, platform
from sop_practice.training.models import (
    Completion,
    CompletionSource,
    Course,
    RosterEntry,
    RosterStatus,
    SessionStatus,
    TrainingSession,
)
from sop_practice.training.rules import (
    NEEDS_ACTION,
    CourseTerms,
    certified_until,
    check_course,
    check_session_times,
    completed_on_for,
    is_required,
    standing,
)
from sop_practice.training.schemas import (
    BatchResult,
    BatchRosterLine,
    BatchRosters,
    CompletionOut,
    CourseIn,
    CourseOut,
    CourseStanding,
    DueTraining,
    RosterEntryOut,
    SessionIn,
    SessionOut,
    TrainingRecordOut,
    UnitTrainingDue,
)
from sop_shared.outbox import emit
from sop_shared.problems import Conflict, InvalidInput, NotFound


class CourseExists(Conflict):
    slug, title = "course-exists", "A course with this code exists"


class Change(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


def terms_of(course: Course) -> CourseTerms:
    return CourseTerms(frozenset(course.required_for), course.due_within_days, course.certification_months)


def course_out(course: Course) -> CourseOut:
    return CourseOut.model_validate(course, from_attributes=True)


async def list_courses(session: AsyncSession) -> list[Course]:
    return list((await session.execute(select(Course).order_by(col(Course.code)))).scalars())


async def courses_by_code(session: AsyncSession, codes: set[str]) -> dict[str, Course]:
    found = await session.execute(select(Course).where(col(Course.code).in_(codes), col(Course.active).is_(True)))
    return {c.code: c for c in found.scalars()}


async def create_course(session: AsyncSession, body: CourseIn) -> Course:
    check_course(required_for=list(body.required_for), due_within_days=body.due_within_days)
    if await courses_by_code(session, {body.code}):
        raise CourseExists(f"{body.code} exists")
    course = Course(**body.model_dump(exclude={"required_for"}), required_for=[r.value for r in body.required_for])
    session.add(course)
    await session.flush()
    await emit(
        session, platform, subject="sop.practice.course.created", data={"course": course.code, "topic": course.topic}
    )
    return course


async def registered(session: AsyncSession, subjects: set[str]) -> dict[str, Practitioner]:
    if not subjects:
        return {}
    found = await session.execute(select(Practitioner).where(col(Practitioner.subject).in_(subjects)))
    return {p.subject: p for p in found.scalars()}


def _unknown_people(subjects: list[str], known: dict[str, Any], field: str) -> list[dict[str, str]]:
    return [
        {"field": field.format(i=i), "message": "not registered with the practice service"}
        for i, subject in enumerate(subjects)
        if subject not in known
    ]


async def schedule_session(session: AsyncSession, body: SessionIn) -> TrainingSession:
    courses = await courses_by_code(session, {body.course_code})
    errors = check_session_times(body.starts_at, body.ends_at)
    if body.course_code not in courses:
        errors.append({"field": "course_code", "message": "no such course"})
    if body.trainer_subject is not None:
        errors += _unknown_people(
            [body.trainer_subject], await registered(session, {body.trainer_subject}), "trainer_subject"
        )
    if errors:
        raise InvalidInput(errors)
    course = courses[body.course_code]
    row = TrainingSession(course_id=course.id, **body.model_dump(exclude={"course_code"}, exclude_none=False))
    session.add(row)
    await session.flush()
    await _session_event(session, "scheduled", row, course)
    return row


async def _session_event(session: AsyncSession, event: str, row: TrainingSession, course: Course) -> None:
    data = {"session_id": str(row.id), "course": course.code, "starts_at": row.starts_at.isoformat()}
    await emit(session, platform, subject=f"sop.practice.training_session.{event}", data=data)


async def get_session(session: AsyncSession, session_id: uuid.UUID) -> tuple[TrainingSession, Course]:
    row = await session.get(TrainingSession, session_id)
    if row is None:
        raise NotFound("no such training session")
    course = await session.get(Course, row.course_id)
    assert course is not None  # a foreign key
    return row, course


async def session_out(session: AsyncSession, row: TrainingSession, course: Course) -> SessionOut:
    roster = (
        await session.execute(
            select(RosterEntry).where(col(RosterEntry.session_id) == row.id).order_by(col(RosterEntry.person_subject))
        )
    ).scalars()
    return SessionOut(
        **{f: getattr(row, f) for f in SessionOut.model_fields if hasattr(row, f) and f not in ("roster",)},
        course_code=course.code,
        course_title=course.title,
        roster=[RosterEntryOut.model_validate(e, from_attributes=True) for e in roster],
    )


async def _roster(session: AsyncSession, session_id: uuid.UUID) -> dict[str, RosterEntry]:
    found = await session.execute(select(RosterEntry).where(col(RosterEntry.session_id) == session_id))
    return {e.person_subject: e for e in found.scalars()}


async def record_line(
    session: AsyncSession,
    row: TrainingSession,
    course: Course,
    entries: dict[str, RosterEntry],
    line: RosterLine,
    *,
    actor: str,
    source: CompletionSource,
    now: datetime,
) -> tuple[Change, bool]:
    """Enrol `subject` or record their attendance (and completion); what changed, and whether a completion was
    recorded. The same line again changes nothing."""
    subject, attended, completed = line.subject, line.attended, line.completed
    status = RosterStatus.enrolled if attended is None else RosterStatus.attended if attended else RosterStatus.absent
    entry = entries.get(subject)
    change = Change.unchanged
    if entry is None:
        entry = RosterEntry(
            session_id=row.id, person_subject=subject, status=status, completed=completed, recorded_by=actor
        )
        session.add(entry)
        entries[subject] = entry
        change = Change.created
    elif (entry.status, entry.completed) != (status, completed) and not (attended is None and not completed):
        entry.status, entry.completed, entry.recorded_by, entry.updated_at = status, completed, actor, now
        entry.version += 1
        change = Change.updated
    if change is not Change.unchanged:
        await session.flush()
        await emit(
            session,
            platform,
            subject="sop.practice.attendance.recorded",
            data={"session_id": str(row.id), "course": course.code, "subject": subject, "status": entry.status},
        )
    recorded = completed and await _complete(
        session, course, subject, completed_on_for(row.ends_at), row.id, actor, source
    )
    return change, recorded


async def _complete(
    session: AsyncSession,
    course: Course,
    subject: str,
    completed_on: date,
    session_id: uuid.UUID | None,
    actor: str,
    source: CompletionSource,
) -> bool:
    exists = await session.execute(
        select(col(Completion.id)).where(
            col(Completion.person_subject) == subject,
            col(Completion.course_id) == course.id,
            col(Completion.completed_on) == completed_on,
        )
    )
    if exists.first() is not None:
        return False
    until = certified_until(terms_of(course), completed_on)
    session.add(
        Completion(
            person_subject=subject,
            course_id=course.id,
            completed_on=completed_on,
            certified_until=until,
            session_id=session_id,
            source=source,
            recorded_by=actor,
        )
    )
    await session.flush()
    await emit(
        session,
        platform,
        subject="sop.practice.completion.recorded",
        data={
            "subject": subject,
            "course": course.code,
            "completed_on": completed_on.isoformat(),
            "certified_until": until.isoformat() if until else None,
        },
    )
    return True


class RosterLine(Protocol):
    """One person's line on a roster: enrolled (`attended` None), attended or absent, completed or not."""

    @property
    def subject(self) -> str: ...
    @property
    def attended(self) -> bool | None: ...
    @property
    def completed(self) -> bool: ...


def _attendance(actor: str, now: datetime) -> dict[str, Any]:
    return {"actor": actor, "source": CompletionSource.attendance, "now": now}


async def enrol(
    session: AsyncSession, row: TrainingSession, course: Course, subjects: list[str], *, actor: str, now: datetime
) -> None:
    errors = _unknown_people(subjects, await registered(session, set(subjects)), "subjects.{i}")
    if errors:
        raise InvalidInput(errors)
    entries = await _roster(session, row.id)
    if row.capacity is not None and len(set(entries) | set(subjects)) > row.capacity:
        raise InvalidInput.field("subjects", f"the session takes {row.capacity} people")
    attendance = _attendance(actor, now)
    for subject in dict.fromkeys(subjects):
        if subject not in entries:
            await record_line(session, row, course, entries, BatchRosterLine(subject=subject), **attendance)


async def record_attendance(
    session: AsyncSession,
    row: TrainingSession,
    course: Course,
    lines: Sequence[RosterLine],
    *,
    actor: str,
    now: datetime,
) -> None:
    entries = await _roster(session, row.id)
    errors = [
        {"field": f"entries.{i}.subject", "message": "not on this session's roster"}
        for i, line in enumerate(lines)
        if line.subject not in entries
    ]
    errors += [
        {"field": f"entries.{i}.completed", "message": "only someone who attended completes the course"}
        for i, line in enumerate(lines)
        if line.completed and not line.attended
    ]
    if row.status == SessionStatus.cancelled:
        errors.append({"field": "entries", "message": "the session was cancelled"})
    if errors:
        raise InvalidInput(errors)
    attendance = _attendance(actor, now)
    for line in lines:
        await record_line(session, row, course, entries, line, **attendance)


async def _completions(session: AsyncSession, subjects: set[str]) -> dict[str, list[Completion]]:
    by_person: dict[str, list[Completion]] = defaultdict(list)
    if subjects:
        found = await session.execute(
            select(Completion)
            .where(col(Completion.person_subject).in_(subjects))
            .order_by(col(Completion.completed_on))
        )
        for completion in found.scalars():
            by_person[completion.person_subject].append(completion)
    return by_person


def _standings(
    person: Practitioner, courses: list[Course], completions: list[Completion], today: date
) -> list[CourseStanding]:
    by_course: dict[uuid.UUID, list[date]] = defaultdict(list)
    for completion in completions:
        by_course[completion.course_id].append(completion.completed_on)
    out = []
    for course in courses:
        terms = terms_of(course)
        required = person.active and is_required(terms, list(person.roles))
        if not required and not by_course.get(course.id):
            continue
        s = standing(terms, started_on=person.started_on, completions=by_course.get(course.id, []), today=today)
        out.append(
            CourseStanding(
                course_code=course.code,
                title=course.title,
                topic=course.topic,
                required=required,
                status=s.status,
                due_on=s.due_on,
                last_completed_on=s.last_completed_on,
                certified_until=s.certified_until,
            )
        )
    return out


async def training_record(session: AsyncSession, person: Practitioner, today: date) -> TrainingRecordOut:
    courses = await list_courses(session)
    codes = {c.id: c.code for c in courses}
    completions = (await _completions(session, {person.subject}))[person.subject]
    return TrainingRecordOut(
        subject=person.subject,
        name=person.name,
        unit=person.unit,
        as_of=today,
        courses=_standings(person, courses, completions, today),
        completions=[
            CompletionOut(
                course_code=codes[c.course_id],
                completed_on=c.completed_on,
                certified_until=c.certified_until,
                source=c.source,
                session_id=c.session_id,
            )
            for c in completions
        ],
    )


async def unit_training_due(session: AsyncSession, unit: str, today: date) -> UnitTrainingDue:
    people = list(
        (
            await session.execute(
                select(Practitioner)
                .where(col(Practitioner.unit) == unit, col(Practitioner.active).is_(True))
                .order_by(col(Practitioner.subject))
            )
        ).scalars()
    )
    courses = await list_courses(session)
    completions = await _completions(session, {p.subject for p in people})
    items = [
        DueTraining(
            subject=person.subject,
            name=person.name,
            course_code=s.course_code,
            title=s.title,
            status=s.status,
            due_on=s.due_on,
        )
        for person in people
        for s in _standings(person, courses, completions[person.subject], today)
        if s.status in NEEDS_ACTION and (s.required or s.status in ("expiring", "expired"))
    ]
    items.sort(key=lambda item: (item.due_on or date.max, item.subject, item.course_code))
    return UnitTrainingDue(unit=unit, as_of=today, people=len(people), items=items)


async def load_rosters(session: AsyncSession, body: BatchRosters, *, actor: str, now: datetime) -> BatchResult:
    """Validate the whole batch first (nothing is written when any line is wrong), then create or update each
    session and roster line; lines already as they are change nothing."""
    courses = await courses_by_code(session, {s.course_code for s in body.sessions})
    people = await registered(
        session,
        {line.subject for s in body.sessions for line in s.roster}
        | {s.trainer_subject for s in body.sessions if s.trainer_subject},
    )
    errors: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(body.sessions):
        prefix = f"sessions.{i}."
        if item.external_id in seen:
            errors.append({"field": f"{prefix}external_id", "message": "appears twice in the batch"})
        seen.add(item.external_id)
        errors += check_session_times(item.starts_at, item.ends_at, field_prefix=prefix)
        if item.course_code not in courses:
            errors.append({"field": f"{prefix}course_code", "message": "no such course"})
        if item.trainer_subject is not None and item.trainer_subject not in people:
            errors.append({"field": f"{prefix}trainer_subject", "message": "not registered with the practice service"})
        errors += _unknown_people([line.subject for line in item.roster], people, prefix + "roster.{i}.subject")
        errors += [
            {"field": f"{prefix}roster.{j}.completed", "message": "only someone who attended completes the course"}
            for j, line in enumerate(item.roster)
            if line.completed and line.attended is not True
        ]
    if errors:
        raise InvalidInput(errors)
    counts: dict[str, int] = defaultdict(int)
    existing = {
        s.external_id: s
        for s in (
            await session.execute(
                select(TrainingSession).where(
                    col(TrainingSession.external_system) == body.source,
                    col(TrainingSession.external_id).in_([s.external_id for s in body.sessions]),
                )
            )
        ).scalars()
    }
    for item in body.sessions:
        course = courses[item.course_code]
        fields: dict[str, Any] = {
            "course_id": course.id,
            "starts_at": item.starts_at,
            "ends_at": item.ends_at,
            "location": item.location,
            "trainer_subject": item.trainer_subject,
        }
        row = existing.get(item.external_id)
        if row is None:
            row = TrainingSession(external_system=body.source, external_id=item.external_id, **fields)
            session.add(row)
            await session.flush()
            await _session_event(session, "scheduled", row, course)
            counts["sessions_created"] += 1
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(row, k, v)
            row.version += 1
            row.updated_at = now
            await session.flush()
            await _session_event(session, "updated", row, course)
            counts["sessions_updated"] += 1
        else:
            counts["sessions_unchanged"] += 1
        entries = await _roster(session, row.id)
        for line in item.roster:
            change, recorded = await record_line(
                session, row, course, entries, line, actor=actor, source=CompletionSource.batch, now=now
            )
            counts[f"roster_entries_{change.value}"] += 1
            counts["completions_recorded"] += int(recorded)
    return BatchResult(**{name: counts[name] for name in BatchResult.model_fields})
