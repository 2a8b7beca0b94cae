"""The safety network: members (every change a new revision) and network meetings."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_network.cases.service import language_of, persons_out
from sop_network.changes.service import record_change
from sop_network.commitments.service import commitments_shown
from sop_network.models import NetworkMeeting, NetworkMember, NetworkMemberRevision, Person
from sop_network.safety_network.rules import check_meeting, check_member_update, check_new_member
from sop_network.schemas import (
    NetworkCommitmentOut,
    NetworkMeetingIn,
    NetworkMeetingOut,
    NetworkMemberCreate,
    NetworkMemberOut,
    NetworkMemberUpdate,
    SafetyNetworkOut,
)
from sop_shared.concurrency import check_version
from sop_shared.db import utcnow
from sop_shared.pagination import PageRequest
from sop_shared.person_languages import PEOPLE_KEY
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.problems import Conflict, InvalidInput, NotFound

MEMBER_FIELDS = (
    "circle",
    "roles",
    "availability",
    "background_check",
    "background_checked_on",
    "agreed_plan_version",
    "active_from",
    "active_to",
    "seen_danger_statements_on",
)


class AlreadyInNetwork(Conflict):
    slug, title = "already-in-network", "This person is already in the case's safety network"


def _values(body: NetworkMemberUpdate | NetworkMemberCreate) -> dict[str, Any]:
    return body.model_dump(mode="python", include=set(MEMBER_FIELDS))


def _snapshot(member: NetworkMember) -> dict[str, Any]:
    from fastapi.encoders import jsonable_encoder

    return {"person_id": str(member.person_id), **jsonable_encoder({f: getattr(member, f) for f in MEMBER_FIELDS})}


async def add_member(
    session: AsyncSession, case_id: uuid.UUID, body: NetworkMemberCreate, *, actor: str, today: Any
) -> NetworkMember:
    check_new_member(body, today=today)
    if body.person_id is not None:
        person = await session.get(Person, body.person_id)
        if person is None or person.merged_into_id is not None:
            raise InvalidInput.field("person_id", "no such person")
    else:
        assert body.person is not None
        person = Person(**body.person.model_dump())
        session.add(person)
        await session.flush()
    exists = (
        await session.execute(
            select(col(NetworkMember.id)).where(
                col(NetworkMember.case_id) == case_id, col(NetworkMember.person_id) == person.id
            )
        )
    ).first()
    if exists:
        raise AlreadyInNetwork("add a new revision of the existing member instead", member_id=str(exists[0]))
    member = NetworkMember(case_id=case_id, person_id=person.id, **_values(body))
    session.add(member)
    await session.flush()
    session.add(NetworkMemberRevision(member_id=member.id, version=1, snapshot=_snapshot(member), changed_by=actor))
    await record_change(
        session,
        subject="sop.network.network_member.added",
        case_id=case_id,
        data={
            "case_id": str(case_id),
            "member_id": str(member.id),
            "person_id": str(person.id),
            "version": 1,
            PEOPLE_KEY: [language_of(person)],
            **_fidelity_facts(member),
        },
    )
    return member


async def update_member(
    session: AsyncSession,
    case_id: uuid.UUID,
    member_id: uuid.UUID,
    body: NetworkMemberUpdate,
    *,
    expected_version: int,
    actor: str,
    today: Any,
) -> NetworkMember:
    member = await session.get(NetworkMember, member_id)
    if member is None or member.case_id != case_id:
        raise NotFound("no such network member")
    check_version(member.version, expected_version)
    check_member_update(body, today=today)
    for name, value in _values(body).items():
        setattr(member, name, value)
    member.version += 1
    member.updated_at = utcnow()
    await session.flush()
    session.add(
        NetworkMemberRevision(member_id=member.id, version=member.version, snapshot=_snapshot(member), changed_by=actor)
    )
    await record_change(
        session,
        subject="sop.network.network_member.updated",
        case_id=case_id,
        data={
            "case_id": str(case_id),
            "member_id": str(member.id),
            "version": member.version,
            **_fidelity_facts(member),
        },
    )
    return member


def _fidelity_facts(member: NetworkMember) -> dict[str, Any]:
    """Dates only, never words: whether the member is in the network and has heard the danger statements (the
    practice service's fidelity measures count them)."""
    return {
        "active_to": member.active_to.isoformat() if member.active_to else None,
        "seen_danger_statements_on": (
            member.seen_danger_statements_on.isoformat() if member.seen_danger_statements_on else None
        ),
    }


async def member_history(
    session: AsyncSession, case_id: uuid.UUID, member_id: uuid.UUID
) -> list[NetworkMemberRevision]:
    member = await session.get(NetworkMember, member_id)
    if member is None or member.case_id != case_id:
        raise NotFound("no such network member")
    return list(
        (
            await session.execute(
                select(NetworkMemberRevision)
                .where(col(NetworkMemberRevision.member_id) == member_id)
                .order_by(col(NetworkMemberRevision.version))
            )
        ).scalars()
    )


async def network_members_out(
    session: AsyncSession,
    members: list[NetworkMember],
    audiences: frozenset[Audience],
    reader_person_id: uuid.UUID | None = None,
) -> list[NetworkMemberOut]:
    """The members as a caller shown `audiences` reads them, each with their commitments from `network_commitment`
    (the worker's record and the member's own, as that caller may read them)."""
    people = (
        list(
            (await session.execute(select(Person).where(col(Person.id).in_([m.person_id for m in members])))).scalars()
        )
        if members
        else []
    )
    shown = await persons_out(session, people, audiences)
    by_case: dict[uuid.UUID, list[NetworkMember]] = {}
    for m in members:
        by_case.setdefault(m.case_id, []).append(m)
    commitments: dict[uuid.UUID, list[NetworkCommitmentOut]] = {}
    for case_id, of_case in by_case.items():  # one query per case (the members are one case's, as a rule)
        for c in await commitments_shown(
            session, case_id, widest(audiences), reader_person_id, member_ids=[m.id for m in of_case]
        ):
            commitments.setdefault(c.member_id, []).append(c)
    return [
        NetworkMemberOut(
            person=shown[m.person_id],
            commitments=commitments.get(m.id, []),
            **{f: getattr(m, f) for f in ("id", "case_id", "version", "created_at", "updated_at", *MEMBER_FIELDS)},
        )
        for m in members
    ]


async def add_meeting(
    session: AsyncSession, case_id: uuid.UUID, body: NetworkMeetingIn, *, actor: str
) -> NetworkMeeting:
    check_meeting(body)
    if body.attendee_member_ids:
        known = (
            await session.execute(
                select(func.count())
                .select_from(NetworkMember)
                .where(col(NetworkMember.case_id) == case_id, col(NetworkMember.id).in_(body.attendee_member_ids))
            )
        ).scalar_one()
        if known != len(body.attendee_member_ids):
            raise InvalidInput.field("attendee_member_ids", "every attendee must be a member of this network")
    meeting = NetworkMeeting(
        case_id=case_id,
        held_on=body.held_on,
        attendee_member_ids=[str(i) for i in body.attendee_member_ids],
        decisions=body.decisions,
        next_meeting_on=body.next_meeting_on,
        recorded_by=actor,
    )
    session.add(meeting)
    await session.flush()
    await record_change(
        session,
        subject="sop.network.network_meeting.recorded",
        case_id=case_id,
        data={"case_id": str(case_id), "meeting_id": str(meeting.id), "held_on": body.held_on.isoformat()},
    )
    return meeting


def meeting_out(meeting: NetworkMeeting) -> NetworkMeetingOut:
    return NetworkMeetingOut.model_validate(meeting, from_attributes=True)


async def network_meetings(
    session: AsyncSession, case_id: uuid.UUID, page: PageRequest
) -> tuple[list[NetworkMeetingOut], str | None]:
    """A case's network meetings in the order they were recorded, a page at a time."""
    query = select(NetworkMeeting).where(col(NetworkMeeting.case_id) == case_id)
    rows, next_cursor = page.page(list((await session.execute(page.apply(query, col(NetworkMeeting.id)))).scalars()))
    return [meeting_out(m) for m in rows], next_cursor


async def read_safety_network(
    session: AsyncSession,
    case_id: uuid.UUID,
    audiences: frozenset[Audience],
    reader_person_id: uuid.UUID | None = None,
) -> SafetyNetworkOut:
    """The members, meetings and commitments, for a caller shown `audiences` (a member: `reader_person_id`)."""
    members = list(
        (
            await session.execute(
                select(NetworkMember).where(col(NetworkMember.case_id) == case_id).order_by(col(NetworkMember.id))
            )
        ).scalars()
    )
    meetings = (
        await session.execute(
            select(NetworkMeeting)
            .where(col(NetworkMeeting.case_id) == case_id)
            .order_by(col(NetworkMeeting.held_on), col(NetworkMeeting.id))
        )
    ).scalars()
    return SafetyNetworkOut(
        members=await network_members_out(session, members, audiences, reader_person_id),
        meetings=[meeting_out(m) for m in meetings],
        commitments=await commitments_shown(session, case_id, widest(audiences), reader_person_id),
    )


def widest(audiences: frozenset[Audience]) -> Audience:
    """The audience whose reading of the commitments the caller gets: the agency's when it may read drafts (the
    gateway's case view then shows each audience what it may read), else its own."""
    if any(may_see_unshared(a) for a in audiences):
        return Audience.staff
    return min(audiences) if audiences else Audience.partner
