"""Rules for the practitioner registry and coaches' caseloads: plain functions, no HTTP, no session."""

from __future__ import annotations

from datetime import date

from sop_practice.models import PracticeRole, Practitioner
from sop_practice.schemas import CaseloadEntryIn, PractitionerIn, PractitionerUpdate
from sop_shared.problems import InvalidInput


def check_practitioner(body: PractitionerIn | PractitionerUpdate, *, subject: str) -> None:
    errors: list[dict[str, str]] = []
    if body.supervisor_subject is not None and body.supervisor_subject == subject:
        errors.append({"field": "supervisor_subject", "message": "nobody supervises themselves"})
    if body.roles is not None and len(set(body.roles)) != len(body.roles):
        errors.append({"field": "roles", "message": "name each role once"})
    if (
        body.roles is not None
        and PracticeRole.worker in body.roles
        and body.unit is None
        and isinstance(body, PractitionerIn)
    ):
        errors.append({"field": "unit", "message": "a worker belongs to a unit"})
    if errors:
        raise InvalidInput(errors)


def check_caseload_entry(
    body: CaseloadEntryIn, *, coach: Practitioner | None, worker: Practitioner | None, today: date
) -> None:
    """A coach (registered with the coach role) takes on one worker (registered) or one unit."""
    errors: list[dict[str, str]] = []
    if coach is None or PracticeRole.coach not in coach.roles or not coach.active:
        errors.append({"field": "coach_subject", "message": "not an active coach registered with the practice service"})
    if (body.worker_subject is None) == (body.unit is None):
        errors.append({"field": "worker_subject", "message": "give a worker_subject or a unit, exactly one"})
    elif body.worker_subject is not None and (worker is None or not worker.active):
        errors.append({"field": "worker_subject", "message": "not an active practitioner"})
    if body.started_on is not None and body.started_on > today:
        errors.append({"field": "started_on", "message": "cannot start in the future"})
    if errors:
        raise InvalidInput(errors)
