"""Coaching: referrals and their history, routing to a coach's queue, sessions rated against the practice profile,
goals and follow-up; and the import of the assessment service's referrals from its events. Each write emits its
event through the outbox in the same transaction (subjects and states only: never the consultation snapshot)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_practice.access import registered_supervisor_of
from sop_practice.coaching import rules
from sop_practice.coaching.models import (
    BehaviourRating,
    CloseOutcome,
    CoachingGoal,
    CoachingReferral,
    CoachingSession,
    CoachingType,
    GoalStatus,
    ReferralEvent,
    ReferralSource,
    ReferralStatus,
)
from sop_practice.coaching.profile import DEFAULT_PROFILE, PracticeProfile, packaged_profiles
from sop_practice.coaching.schemas import (
    FollowUpIn,
    GoalIn,
    GoalOut,
    QueueItem,
    RatingOut,
    ReferralEventOut,
    ReferralIn,
    ReferralOut,
    SessionIn,
    SessionOut,
)
from sop_practice.models import Practitioner, platform
from sop_practice.people.service import find_person
from sop_shared.concurrency import check_version
from sop_shared.events import Event
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.problems import Conflict, InvalidInput, NotFound
from sop_shared.service import EventConsumer

LEGACY_REFERRAL_RECORDED = "sop.assessment.coaching_referral.recorded"
CONSULTATION_BROUGHT = "sop.assessment.consultation.brought_to_coaching"
OPEN = (ReferralStatus.assigned, ReferralStatus.in_coaching)

log = structlog.get_logger("sop.practice.coaching")


class ReferralClosed(Conflict):
    slug, title = "coaching-referral-closed", "The coaching referral is closed"


def current_profile() -> PracticeProfile:
    profile = packaged_profiles().get(DEFAULT_PROFILE)
    assert profile is not None, "the packaged practice profile is missing"
    return profile


async def _event(session: AsyncSession, name: str, referral: CoachingReferral, **extra: Any) -> None:
    data = {
        "referral_id": str(referral.id),
        "worker": referral.worker_subject,
        "unit": referral.unit,
        "status": referral.status.value,
        "coach": referral.coach_subject,
        **extra,
    }
    await emit(session, platform, subject=f"sop.practice.coaching_referral.{name}", data=data)


def _history(
    session: AsyncSession,
    referral: CoachingReferral,
    action: str,
    *,
    by: str,
    at: datetime,
    from_status: ReferralStatus | None,
    why: str | None = None,
) -> None:
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            action=action,
            from_status=from_status,
            to_status=referral.status,
            by=by,
            at=at,
            why=why,
            coach_subject=referral.coach_subject,
        )
    )


async def get_referral(session: AsyncSession, referral_id: uuid.UUID) -> CoachingReferral:
    referral = await session.get(CoachingReferral, referral_id)
    if referral is None:
        raise NotFound("no such coaching referral")
    return referral


async def referral_out(session: AsyncSession, referral: CoachingReferral, *, whole: bool) -> ReferralOut:
    """The referral with its history; the snapshot whole for the worker's side, else as a coach may see it."""
    events = (
        await session.execute(
            select(ReferralEvent).where(col(ReferralEvent.referral_id) == referral.id).order_by(col(ReferralEvent.id))
        )
    ).scalars()
    allowed = referral.identifying_allowed_by is not None
    return ReferralOut(
        **{f: getattr(referral, f) for f in ReferralOut.model_fields if hasattr(referral, f)}
        | {
            "consultation_snapshot": rules.snapshot_for(
                referral.consultation_snapshot, reader_sees_whole=whole, identifying_allowed=allowed
            ),
            "identifying_details_allowed": allowed,
            "snapshot_source": rules.snapshot_source(
                referral.consultation_snapshot, brought=referral.consultation_brought_at is not None
            ),
            "moved_from_assessment": referral.legacy_id is not None,
            "history": [ReferralEventOut.model_validate(e, from_attributes=True) for e in events],
        }
    )


async def create_referral(
    session: AsyncSession, body: ReferralIn, *, source: ReferralSource, actor: str, now: datetime
) -> CoachingReferral:
    referral = CoachingReferral(**body.model_dump(), source=source, referred_by=actor, created_at=now, updated_at=now)
    session.add(referral)
    await session.flush()
    _history(session, referral, "referred", by=actor, at=now, from_status=None, why=body.reason)
    await session.flush()
    await _event(session, "referred", referral, source=source.value, topic=referral.topic)
    return referral


def _moving(referral: CoachingReferral, expected_version: int) -> None:
    check_version(referral.version, expected_version)
    if referral.status == ReferralStatus.closed:
        raise ReferralClosed("a closed referral stays closed; refer again for more coaching")


async def _moved(
    session: AsyncSession,
    referral: CoachingReferral,
    action: str,
    *,
    before: ReferralStatus,
    actor: str,
    now: datetime,
    why: str | None,
) -> CoachingReferral:
    referral.version += 1
    referral.updated_at = now
    _history(session, referral, action, by=actor, at=now, from_status=before, why=why)
    await session.flush()
    await _event(session, action, referral)
    return referral


async def assign(
    session: AsyncSession,
    referral: CoachingReferral,
    *,
    coach_subject: str,
    why: str | None,
    actor: str,
    expected_version: int,
    now: datetime,
) -> CoachingReferral:
    """Route to a coach's queue (the training coordinator); changing the coach later needs a why."""
    _moving(referral, expected_version)
    errors = rules.check_coach(await find_person(session, coach_subject))
    if referral.coach_subject is not None and why is None:
        errors.append({"field": "why", "message": "say why the coach changes"})
    if referral.coach_subject == coach_subject:
        errors.append({"field": "coach_subject", "message": "already this referral's coach"})
    if errors:
        raise InvalidInput(errors)
    before = referral.status
    referral.status = rules.after_assigning(before)
    action = "assigned" if referral.coach_subject is None else "reassigned"
    referral.coach_subject = coach_subject
    return await _moved(session, referral, action, before=before, actor=actor, now=now, why=why)


async def start(
    session: AsyncSession,
    referral: CoachingReferral,
    *,
    why: str | None,
    actor: str,
    expected_version: int,
    now: datetime,
) -> CoachingReferral:
    _moving(referral, expected_version)
    rules.check_move(referral.status, ReferralStatus.in_coaching)
    if referral.status == ReferralStatus.in_coaching:
        raise rules.ReferralMoveNotAllowed("coaching has started already")
    before, referral.status = referral.status, ReferralStatus.in_coaching
    return await _moved(session, referral, "started", before=before, actor=actor, now=now, why=why)


async def close(
    session: AsyncSession,
    referral: CoachingReferral,
    *,
    outcome: CloseOutcome,
    why: str,
    actor: str,
    expected_version: int,
    now: datetime,
) -> CoachingReferral:
    _moving(referral, expected_version)
    rules.check_move(referral.status, ReferralStatus.closed)
    before, referral.status, referral.outcome = referral.status, ReferralStatus.closed, outcome
    return await _moved(session, referral, "closed", before=before, actor=actor, now=now, why=why)


async def allow_identifying(
    session: AsyncSession,
    referral: CoachingReferral,
    *,
    allowed: bool,
    why: str,
    actor: str,
    expected_version: int,
    now: datetime,
) -> CoachingReferral:
    check_version(referral.version, expected_version)
    referral.identifying_allowed_by, referral.identifying_allowed_at = (actor, now) if allowed else (None, None)
    action = "identifying_details_allowed" if allowed else "identifying_details_withdrawn"
    return await _moved(session, referral, action, before=referral.status, actor=actor, now=now, why=why)


def _session_out(row: CoachingSession, ratings: list[BehaviourRating], profile: PracticeProfile | None) -> SessionOut:
    labels = {r.value: r.label for r in profile.rating_scale} if profile else {}
    out = []
    for rating in ratings:
        behaviour = profile.behaviour(rating.behaviour_key) if profile else None
        out.append(
            RatingOut(
                worker_subject=rating.worker_subject,
                behaviour=rating.behaviour_key,
                domain=behaviour.domain if behaviour else None,
                text=behaviour.text if behaviour else None,
                rating=rating.rating,
                label=labels.get(rating.rating),
                note=rating.note,
            )
        )
    return SessionOut(**{f: getattr(row, f) for f in SessionOut.model_fields if f != "ratings"}, ratings=out)


async def record_session(
    session: AsyncSession, referral: CoachingReferral, body: SessionIn, *, actor: str, now: datetime
) -> tuple[CoachingSession, SessionOut]:
    """A session of the referral's coaching, its behaviours rated against the current practice profile. The first
    session of an assigned referral starts its coaching."""
    if referral.status not in OPEN:
        raise rules.ReferralMoveNotAllowed(
            f"sessions are recorded while a referral is in coaching (it is {referral.status.value})"
        )
    profile = current_profile()
    ratings = [rules.RatingIn(r.behaviour, r.rating, r.worker_subject) for r in body.ratings]
    group = await unit_workers(session, referral.unit) if referral.coaching_type == CoachingType.group else None
    errors = rules.check_session(
        profile,
        kind=body.kind.value,
        held_on=body.held_on,
        today=now.date(),
        ratings=ratings,
        referral_worker=referral.worker_subject,
        group_workers=group,
    )
    if errors:
        raise InvalidInput(errors)
    row = CoachingSession(
        referral_id=referral.id,
        coach_subject=actor,
        kind=body.kind,
        held_on=body.held_on,
        profile_key=profile.key,
        profile_version=profile.version,
        notes=body.notes,
        recorded_by=actor,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    kept = [
        BehaviourRating(
            session_id=row.id,
            worker_subject=r.worker_subject or referral.worker_subject,
            behaviour_key=r.behaviour,
            rating=r.rating,
            note=r.note,
        )
        for r in body.ratings
    ]
    session.add_all(kept)
    if referral.status == ReferralStatus.assigned:
        before, referral.status = referral.status, ReferralStatus.in_coaching
        await _moved(session, referral, "started", before=before, actor=actor, now=now, why="first coaching session")
    await session.flush()
    await emit(
        session,
        platform,
        subject="sop.practice.coaching_session.recorded",
        data={
            "session_id": str(row.id),
            "referral_id": str(referral.id),
            "worker": referral.worker_subject,
            "unit": referral.unit,
            "coach": actor,
            "kind": row.kind.value,
            "held_on": row.held_on.isoformat(),
            "profile": f"{profile.key}/{profile.version}",
            "ratings": {r.behaviour_key: r.rating for r in kept if r.worker_subject == referral.worker_subject},
            # each worker's own ratings (a group's session rates every worker in it on their own)
            "ratings_by_worker": _by_worker(kept),
        },
    )
    return row, _session_out(row, kept, profile)


def _by_worker(ratings: list[BehaviourRating]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in ratings:
        if r.worker_subject is not None:
            out.setdefault(r.worker_subject, {})[r.behaviour_key] = r.rating
    return out


async def unit_workers(session: AsyncSession, unit: str | None) -> frozenset[str]:
    """The active workers of a unit (who a group's session may rate)."""
    if unit is None:
        return frozenset()
    rows = await session.execute(
        select(col(Practitioner.subject)).where(col(Practitioner.unit) == unit, col(Practitioner.active).is_(True))
    )
    return frozenset(subject for (subject,) in rows)


async def sessions_of(session: AsyncSession, referral: CoachingReferral) -> list[SessionOut]:
    rows = list(
        (
            await session.execute(
                select(CoachingSession)
                .where(col(CoachingSession.referral_id) == referral.id)
                .order_by(col(CoachingSession.held_on), col(CoachingSession.id))
            )
        ).scalars()
    )
    ratings: dict[uuid.UUID, list[BehaviourRating]] = {r.id: [] for r in rows}
    if rows:
        found = await session.execute(
            select(BehaviourRating)
            .where(col(BehaviourRating.session_id).in_(list(ratings)))
            .order_by(col(BehaviourRating.worker_subject), col(BehaviourRating.behaviour_key))
        )
        for rating in found.scalars():
            ratings[rating.session_id].append(rating)
    catalog = packaged_profiles()
    return [_session_out(r, ratings[r.id], catalog.get(r.profile_key, r.profile_version)) for r in rows]


def goal_out(goal: CoachingGoal) -> GoalOut:
    return GoalOut(
        **{f: getattr(goal, f) for f in GoalOut.model_fields if f != "behaviour"}, behaviour=goal.behaviour_key
    )


async def set_goal(
    session: AsyncSession, referral: CoachingReferral, body: GoalIn, *, actor: str, now: datetime
) -> CoachingGoal:
    if referral.status not in OPEN:
        raise rules.ReferralMoveNotAllowed(
            f"goals are set while a referral is in coaching (it is {referral.status.value})"
        )
    errors = rules.check_goal_behaviour(current_profile(), body.behaviour)
    if body.session_id is not None:
        held = await session.get(CoachingSession, body.session_id)
        if held is None or held.referral_id != referral.id:
            errors.append({"field": "session_id", "message": "not a session of this referral"})
    if body.follow_up_on is not None and body.follow_up_on < now.date():
        errors.append({"field": "follow_up_on", "message": "a follow-up is in the future"})
    if errors:
        raise InvalidInput(errors)
    goal = CoachingGoal(
        referral_id=referral.id,
        session_id=body.session_id,
        worker_subject=referral.worker_subject,
        behaviour_key=body.behaviour,
        text=body.text,
        follow_up_on=body.follow_up_on,
        set_by=actor,
        created_at=now,
    )
    session.add(goal)
    await session.flush()
    await _goal_event(session, "set", goal)
    return goal


async def _goal_event(session: AsyncSession, name: str, goal: CoachingGoal) -> None:
    data = {
        "goal_id": str(goal.id),
        "referral_id": str(goal.referral_id),
        "worker": goal.worker_subject,
        "behaviour": goal.behaviour_key,
        "status": goal.status.value,
    }
    await emit(session, platform, subject=f"sop.practice.coaching_goal.{name}", data=data)


async def goals_of(session: AsyncSession, referral: CoachingReferral) -> list[CoachingGoal]:
    query = select(CoachingGoal).where(col(CoachingGoal.referral_id) == referral.id).order_by(col(CoachingGoal.id))
    return list((await session.execute(query)).scalars())


async def follow_up(
    session: AsyncSession, goal: CoachingGoal, body: FollowUpIn, *, actor: str, expected_version: int, now: datetime
) -> CoachingGoal:
    check_version(goal.version, expected_version)
    if body.follow_up_on is not None and (body.status != GoalStatus.open or body.follow_up_on < now.date()):
        raise InvalidInput.field("follow_up_on", "a next follow-up is for a goal that stays open, and in the future")
    goal.status, goal.follow_up_note = body.status, body.note
    goal.followed_up_by, goal.followed_up_at = actor, now
    goal.follow_up_on = body.follow_up_on
    goal.version += 1
    await session.flush()
    await _goal_event(session, "followed_up", goal)
    return goal


async def visible_referrals(
    session: AsyncSession, *, subject: str, everyone: bool, status: ReferralStatus | None, page: PageRequest
) -> tuple[list[CoachingReferral], str | None]:
    """Every referral (the training coordinator), or those a person made, is the subject of, or coaches."""
    query = select(CoachingReferral)
    if not everyone:
        query = query.where(
            or_(
                col(CoachingReferral.referred_by) == subject,
                col(CoachingReferral.worker_subject) == subject,
                col(CoachingReferral.coach_subject) == subject,
            )
        )
    if status is not None:
        query = query.where(col(CoachingReferral.status) == status)
    rows = list((await session.execute(page.apply(query, col(CoachingReferral.id)))).scalars())
    return page.page(rows)


async def queue(
    session: AsyncSession, *, coach: str | None, statuses: tuple[ReferralStatus, ...], page: PageRequest
) -> tuple[list[QueueItem], str | None]:
    """A coach's queue (`coach`), or every coach's (None: the coordinator), in the given states, oldest first;
    each snapshot as a coach may see it."""
    query = select(CoachingReferral).where(col(CoachingReferral.status).in_(statuses))
    if coach is not None:
        query = query.where(col(CoachingReferral.coach_subject) == coach)
    rows, cursor = page.page(list((await session.execute(page.apply(query, col(CoachingReferral.id)))).scalars()))
    ids = [r.id for r in rows]
    sessions: dict[uuid.UUID, int] = {}
    goals: dict[uuid.UUID, tuple[int, date | None]] = {}
    if ids:
        counted = await session.execute(
            select(col(CoachingSession.referral_id), func.count())
            .where(col(CoachingSession.referral_id).in_(ids))
            .group_by(col(CoachingSession.referral_id))
        )
        sessions = {referral_id: n for referral_id, n in counted.all()}
        open_goals = await session.execute(
            select(col(CoachingGoal.referral_id), func.count(), func.min(col(CoachingGoal.follow_up_on)))
            .where(col(CoachingGoal.referral_id).in_(ids), col(CoachingGoal.status) == GoalStatus.open)
            .group_by(col(CoachingGoal.referral_id))
        )
        goals = {referral_id: (n, first) for referral_id, n, first in open_goals.all()}
    items = [
        QueueItem(
            **{f: getattr(r, f) for f in QueueItem.model_fields if hasattr(r, f)}
            | {
                "consultation_snapshot": rules.snapshot_for(
                    r.consultation_snapshot,
                    reader_sees_whole=False,
                    identifying_allowed=r.identifying_allowed_by is not None,
                ),
                "sessions": sessions.get(r.id, 0),
                "open_goals": goals.get(r.id, (0, None))[0],
                "next_follow_up_on": goals.get(r.id, (0, None))[1],
            }
        )
        for r in rows
    ]
    return items, cursor


# --- the assessment service's referrals, moved here ----------------------------------------------------


def _when(value: Any, default: datetime) -> datetime:
    return datetime.fromisoformat(str(value)) if value else default


async def apply_legacy_referral(
    session: AsyncSession, data: dict[str, Any], occurred_at: datetime
) -> CoachingReferral | None:
    """A referral the assessment service recorded (made before coaching moved here, or through its deprecated
    route): created here with its history the first time, moved forward when it moved there. Idempotent by
    content: a version already applied changes nothing."""
    legacy_id = uuid.UUID(str(data["referral_id"]))
    legacy_version = int(data["version"])
    referral = (
        await session.execute(select(CoachingReferral).where(col(CoachingReferral.legacy_id) == legacy_id))
    ).scalar()
    referred_by = str(data["referred_by"])
    moved_at = _when(data.get("updated_at"), occurred_at)
    why = "moved in the assessment service (its coaching referral routes are deprecated)"
    if referral is None:
        created_at = _when(data.get("created_at"), occurred_at)
        referral = CoachingReferral(
            worker_subject=data.get("worker_subject"),
            unit=data.get("unit"),
            coaching_type=CoachingType(data.get("coaching_type") or CoachingType.one_on_one),
            topic=str(data["topic"]),
            reason=data.get("notes"),
            source=ReferralSource.assessment_service,
            referred_by=referred_by,
            legacy_id=legacy_id,
            legacy_version=legacy_version,
            created_at=created_at,
            updated_at=moved_at,
        )
        session.add(referral)
        await session.flush()
        made = "made in the assessment service; moved to the practice service with its history"
        _history(session, referral, "referred", by=referred_by, at=created_at, from_status=None, why=made)
        move = rules.legacy_move(ReferralStatus.referred, str(data["status"]))
        if move is not None:
            referral.status, referral.outcome = move
            _history(
                session, referral, "moved", by=referred_by, at=moved_at, from_status=ReferralStatus.referred, why=why
            )
        await session.flush()
        await _event(session, "imported", referral, legacy_id=str(legacy_id))
        return referral
    if referral.legacy_version is not None and legacy_version <= referral.legacy_version:
        return None  # applied already (or older than what was applied)
    referral.legacy_version = legacy_version
    referral.reason = data.get("notes")
    move = rules.legacy_move(referral.status, str(data["status"]))
    if move is not None:
        before = referral.status
        referral.status, referral.outcome = move
        _history(session, referral, "moved", by=referred_by, at=moved_at, from_status=before, why=why)
    referral.version += 1
    referral.updated_at = moved_at
    await session.flush()
    await _event(session, "imported", referral, legacy_id=str(legacy_id))
    return referral


async def _on_legacy_referral(app: FastAPI, session: AsyncSession, event: Event) -> None:
    await apply_legacy_referral(session, event.data, event.occurred_at)


# --- a consultation brought from the assessment service ------------------------------------------------


async def attach_consultation(
    session: AsyncSession, data: dict[str, Any], occurred_at: datetime
) -> CoachingReferral | None:
    """A consultation the assessment service sent to a referral (it checked the bringer may read it, in its case):
    its snapshot attached, with where it came from, by whom and when — if the referral exists, is open, is the
    bringer's own or their worker's (`rules.refusal_to_attach`), and waits for no other consultation. Otherwise
    nothing is attached: the refusal is kept in the referral's history (and logged). The same consultation with
    the same content again changes nothing. A different consultation takes back the identifying details the
    supervisor allowed for the one before."""
    referral_id = uuid.UUID(str(data["referral_id"]))
    consultation_id = uuid.UUID(str(data["consultation_id"]))
    bringer = str(data["brought_by"])
    brought_at = _when(data.get("brought_at"), occurred_at)
    context = {"referral_id": str(referral_id), "consultation_id": str(consultation_id), "brought_by": bringer}
    referral = await session.get(CoachingReferral, referral_id)
    if referral is None:
        log.warning("consultation_not_attached", why="no such coaching referral", **context)
        return None
    worker = await find_person(session, referral.worker_subject) if referral.worker_subject else None
    why_not = rules.refusal_to_attach(
        bringer=bringer,
        bringer_supervises=await registered_supervisor_of(session, bringer, worker=worker, unit=referral.unit),
        worker_subject=referral.worker_subject,
        status=referral.status,
        waits_for=str(referral.consultation_id)
        if referral.consultation_id and not referral.consultation_brought_at
        else None,
        consultation=str(consultation_id),
    )
    if why_not is not None:
        log.warning("consultation_not_attached", why=why_not, **context)
        why = f"consultation {consultation_id} not attached: {why_not}"
        _history(
            session, referral, "consultation_refused", by=bringer, at=brought_at, from_status=referral.status, why=why
        )
        await session.flush()
        await _event(
            session, "consultation_refused", referral, consultation_id=str(consultation_id), brought_by=bringer
        )
        return None
    snapshot = data["snapshot"]
    if referral.consultation_id == consultation_id and referral.consultation_snapshot == snapshot:
        return None  # this consultation, as it is, is attached already
    why = f"consultation {consultation_id} brought to coaching"
    if referral.identifying_allowed_by is not None and referral.consultation_id != consultation_id:
        referral.identifying_allowed_by, referral.identifying_allowed_at = None, None
        why += "; the identifying details allowed for the snapshot before are not allowed for this one"
    referral.consultation_snapshot = snapshot
    referral.consultation_id = consultation_id
    referral.consultation_brought_by, referral.consultation_brought_at = bringer, brought_at
    log.info("consultation_attached", **context)
    return await _moved(
        session, referral, "consultation_brought", before=referral.status, actor=bringer, now=brought_at, why=why
    )


async def _on_consultation_brought(app: FastAPI, session: AsyncSession, event: Event) -> None:
    await attach_consultation(session, event.data, event.occurred_at)


# The assessment service announces each of its coaching referrals (those made before coaching moved here, once,
# and every write through its deprecated routes): this service keeps them, with their history.
COACHING_CONSUMERS = (
    EventConsumer(LEGACY_REFERRAL_RECORDED, "practice-coaching-legacy-referrals", _on_legacy_referral),
    # A consultation a worker (or their supervisor) brings to a referral: its snapshot, checked here too.
    EventConsumer(CONSULTATION_BROUGHT, "practice-coaching-consultations", _on_consultation_brought),
)
