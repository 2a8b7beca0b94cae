"""Rules for partner grants: plain functions, no HTTP, no session."""

from __future__ import annotations

from datetime import datetime

from sop_network.schemas import GrantIn, GrantStatus
from sop_shared.policy import ACTOR_SCOPE_CEILING, AUDIENCES_FOR_ACTOR, ActorType, Scope
from sop_shared.problems import InvalidInput


def check_grant(body: GrantIn, *, now: datetime) -> None:
    """A grant gives a partner only what partners may ever hold, for a stated purpose, until a set time."""
    errors: list[dict[str, str]] = []
    ceiling = {s.value for s in ACTOR_SCOPE_CEILING[ActorType.partner]}
    for i, scope in enumerate(body.scopes):
        if scope not in {s.value for s in Scope}:
            errors.append({"field": f"scopes.{i}", "message": "not a scope"})
        elif scope not in ceiling:
            errors.append({"field": f"scopes.{i}", "message": "partners may never hold this scope"})
    if body.audience not in {a.value for a in AUDIENCES_FOR_ACTOR[ActorType.partner]}:
        allowed = ", ".join(sorted(a.value for a in AUDIENCES_FOR_ACTOR[ActorType.partner]))
        errors.append({"field": "audience", "message": f"a partner audience is one of: {allowed}"})
    if body.expires_at.tzinfo is None:
        errors.append({"field": "expires_at", "message": "give a time zone"})
    elif body.expires_at <= now:
        errors.append({"field": "expires_at", "message": "a grant must expire in the future"})
    if errors:
        raise InvalidInput(errors)


def grant_status(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> GrantStatus:
    if revoked_at is not None:
        return GrantStatus.revoked
    if expires_at is not None and expires_at <= now:
        return GrantStatus.expired
    return GrantStatus.active
