"""Rules of coaching: who may refer whom, how a referral moves (referred → assigned → in coaching → closed), what a
coaching session may rate against the practice profile, and how a referral made in the assessment service maps
onto these states. Plain functions: no HTTP, no session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sop_practice.coaching.models import CloseOutcome, CoachingType, ReferralSource, ReferralStatus, SnapshotSource
from sop_practice.coaching.profile import PracticeProfile
from sop_practice.models import PracticeRole, Practitioner
from sop_shared.policy import coach_may_see, coach_view
from sop_shared.problems import Conflict

CONSULTATION_SNAPSHOT = "consultation_snapshot"  # its name in the policy table's COACH_CASE_VIEW
ORDER = (ReferralStatus.referred, ReferralStatus.assigned, ReferralStatus.in_coaching, ReferralStatus.closed)
# Where each state may go (a coach may be changed while assigned or in coaching: the state stays).
MOVES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.referred: frozenset({ReferralStatus.assigned, ReferralStatus.closed}),
    ReferralStatus.assigned: frozenset({ReferralStatus.assigned, ReferralStatus.in_coaching, ReferralStatus.closed}),
    ReferralStatus.in_coaching: frozenset({ReferralStatus.in_coaching, ReferralStatus.closed}),
    ReferralStatus.closed: frozenset(),
}


class ReferralMoveNotAllowed(Conflict):
    slug, title = "coaching-referral-move-not-allowed", "The coaching referral cannot move that way from where it is"


def check_move(current: ReferralStatus, new: ReferralStatus) -> None:
    if new not in MOVES[current]:
        raise ReferralMoveNotAllowed(f"a referral that is {current.value} cannot become {new.value}")


def after_assigning(current: ReferralStatus) -> ReferralStatus:
    """Routing to a coach: a new referral enters the coach's queue; a coach changed later keeps the state."""
    new = ReferralStatus.assigned if current == ReferralStatus.referred else current
    check_move(current, new)
    return new


Errors = list[dict[str, str]]


def _field(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def check_referral(
    *,
    worker_subject: str | None,
    unit: str | None,
    coaching_type: CoachingType,
    worker: Practitioner | None,
    waits_for_consultation: bool = False,
    pasted_snapshot: bool = False,
) -> Errors:
    """One worker (one-on-one) or one unit (group coaching), and a worker the practice service knows. A referral
    that names the consultation it waits for takes its snapshot from there only: none pasted beside it."""
    errors: Errors = []
    if waits_for_consultation and pasted_snapshot:
        errors.append(
            _field(
                CONSULTATION_SNAPSHOT,
                "the snapshot of the consultation named comes from the assessment service when the worker brings "
                "it; leave it out",
            )
        )
    if (worker_subject is None) == (unit is None):
        return [*errors, _field("worker_subject", "name the worker or the unit referred, exactly one")]
    if worker_subject is not None:
        if worker is None or not worker.active:
            errors.append(_field("worker_subject", "not an active practitioner registered with the practice service"))
        if coaching_type != CoachingType.one_on_one:
            errors.append(_field("coaching_type", "a worker is coached one_on_one; refer a unit for group coaching"))
    elif coaching_type != CoachingType.group:
        errors.append(_field("coaching_type", "a unit is coached as a group"))
    return errors


def referral_source(
    referrer_subject: str,
    referrer: Practitioner | None,
    *,
    worker: Practitioner | None,
    unit: str | None,
    supervises_worker: bool,
) -> ReferralSource | None:
    """Who may refer: the worker themselves, the worker's supervisor, or a supervisor of the unit referred (group
    coaching). None: nobody else."""
    if worker is not None:
        if worker.subject == referrer_subject:
            return ReferralSource.self
        return ReferralSource.supervisor if supervises_worker else None
    if (
        unit is not None
        and referrer is not None
        and referrer.active
        and PracticeRole.supervisor in referrer.roles
        and referrer.unit == unit
    ):
        return ReferralSource.supervisor
    return None


def check_coach(coach: Practitioner | None) -> Errors:
    if coach is None or PracticeRole.coach not in coach.roles or not coach.active:
        return [_field("coach_subject", "not an active coach registered with the practice service")]
    return []


@dataclass(frozen=True)
class RatingIn:
    behaviour: str
    rating: int
    worker: str | None = None  # whose practice it rates: named in a group session, else the referral's worker


def rated_worker(
    rating_worker: str | None, *, referral_worker: str | None, group_workers: frozenset[str] | None
) -> tuple[str | None, str | None]:
    """(the worker a rating is for, or an error message). One-on-one: the referral's worker (a rating may name
    them, no one else). A group's session: each rating names a worker of the unit, who is rated on their own."""
    if group_workers is None:
        if rating_worker is not None and rating_worker != referral_worker:
            return None, "a one-on-one session rates the referral's worker only"
        return referral_worker, None
    if rating_worker is None:
        return None, "a group session rates each worker on their own: name the worker"
    if rating_worker not in group_workers:
        return None, "not an active worker of the unit coached"
    return rating_worker, None


def check_session(
    profile: PracticeProfile,
    *,
    kind: str,
    held_on: date,
    today: date,
    ratings: list[RatingIn],
    referral_worker: str | None = None,
    group_workers: frozenset[str] | None = None,
) -> Errors:
    """A session happened (not in the future), and each rating names a behaviour of the profile observed in this
    kind of session, on the profile's scale, once a session for each worker it rates (`rated_worker`)."""
    errors: Errors = []
    if held_on > today:
        errors.append(_field("held_on", "a coaching session is recorded once it has happened"))
    seen: set[tuple[str | None, str]] = set()
    for i, rating in enumerate(ratings):
        worker, problem = rated_worker(rating.worker, referral_worker=referral_worker, group_workers=group_workers)
        if problem is not None:
            errors.append(_field(f"ratings.{i}.worker_subject", problem))
        behaviour = profile.behaviour(rating.behaviour)
        if behaviour is None:
            errors.append(_field(f"ratings.{i}.behaviour", f"not a behaviour of {profile.key} {profile.version}"))
        elif kind not in behaviour.observed_in:
            errors.append(_field(f"ratings.{i}.behaviour", f"not rated in a {kind} session"))
        elif problem is None and (worker, rating.behaviour) in seen:
            errors.append(_field(f"ratings.{i}.behaviour", "rate each behaviour once a session for each worker"))
        if problem is None:
            seen.add((worker, rating.behaviour))
        if rating.rating not in profile.ratings:
            scale = ", ".join(str(v) for v in sorted(profile.ratings))
            errors.append(_field(f"ratings.{i}.rating", f"one of {scale}"))
    return errors


def check_goal_behaviour(profile: PracticeProfile, behaviour: str | None) -> Errors:
    if behaviour is not None and profile.behaviour(behaviour) is None:
        return [_field("behaviour", f"not a behaviour of {profile.key} {profile.version}")]
    return []


def snapshot_for(
    snapshot: dict[str, Any] | None, *, reader_sees_whole: bool, identifying_allowed: bool
) -> dict[str, Any] | None:
    """The consultation snapshot as the reader may see it: whole for the worker who brought it and their
    supervisor; otherwise (the coach, the coordinator) as the policy table's coach view allows."""
    if snapshot is None or reader_sees_whole:
        return snapshot
    if not coach_may_see(CONSULTATION_SNAPSHOT):
        return None  # the policy table no longer lets a coach see what a worker brings
    seen = coach_view(snapshot, identified=identifying_allowed)
    assert isinstance(seen, dict)
    return seen


def snapshot_source(snapshot: dict[str, Any] | None, *, brought: bool) -> SnapshotSource | None:
    """Where the snapshot came from: a consultation brought from the assessment service, or pasted (deprecated)."""
    if snapshot is None:
        return None
    return SnapshotSource.consultation if brought else SnapshotSource.pasted


def refusal_to_attach(
    *,
    bringer: str,
    bringer_supervises: bool,
    worker_subject: str | None,
    status: ReferralStatus,
    waits_for: str | None,
    consultation: str,
) -> str | None:
    """Why a consultation brought from the assessment service is not attached to the referral (None: it is). Only
    the referral's worker or the worker's supervisor (a unit's referral: a supervisor of the unit) brings one, to
    a referral still open, and only the consultation it waits for when it names one."""
    if status == ReferralStatus.closed:
        return "the referral is closed"
    if bringer != worker_subject and not bringer_supervises:
        return "brought by someone who is neither the referral's worker nor the worker's supervisor"
    if waits_for is not None and waits_for != consultation:
        return "the referral waits for another consultation"
    return None


# A referral made in the assessment service, by its status there: the state it has here.
LEGACY_STATES: dict[str, tuple[ReferralStatus, CloseOutcome | None]] = {
    "requested": (ReferralStatus.referred, None),
    "scheduled": (ReferralStatus.assigned, None),
    "in_progress": (ReferralStatus.in_coaching, None),
    "completed": (ReferralStatus.closed, CloseOutcome.completed),
    "cancelled": (ReferralStatus.closed, CloseOutcome.withdrawn),
}


def legacy_move(
    current: ReferralStatus | None, legacy_status: str
) -> tuple[ReferralStatus, CloseOutcome | None] | None:
    """Where a referral goes when the assessment service reports it at `legacy_status`: only forward (a referral
    already further along here stays where it is); None when nothing changes."""
    target = LEGACY_STATES.get(legacy_status)
    if target is None:
        return None
    if current is not None and ORDER.index(target[0]) <= ORDER.index(current):
        return None
    return target
