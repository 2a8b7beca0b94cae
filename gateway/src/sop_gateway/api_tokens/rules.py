"""Rules for issuing a partner API token, as plain functions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sop_shared.policy import ACTOR_SCOPE_CEILING, ActorType

MAX_TOKEN_LIFETIME = timedelta(days=366)
PARTNER_SCOPES = frozenset(s.value for s in ACTOR_SCOPE_CEILING[ActorType.partner])


def scope_errors(scopes: Iterable[str], allowed: frozenset[str], field: str = "scopes") -> list[dict[str, str]]:
    scopes = list(scopes)
    if not scopes:
        return [{"field": field, "message": "name at least one scope"}]
    unknown = sorted(set(scopes) - allowed)
    if unknown:
        return [
            {
                "field": field,
                "message": f"not grantable here: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
            }
        ]
    return []


def expiry_errors(expires_at: datetime, now: datetime, field: str = "expires_at") -> list[dict[str, str]]:
    """A partner token always expires, in the future and within a year (agreements are renewed yearly)."""
    if expires_at.tzinfo is None:
        return [{"field": field, "message": "give a time zone (e.g. 2027-01-31T00:00:00Z)"}]
    if expires_at <= now:
        return [{"field": field, "message": "must be in the future"}]
    if expires_at - now > MAX_TOKEN_LIFETIME:
        return [{"field": field, "message": "at most a year from now"}]
    return []


def is_live(expires_at: datetime, revoked_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and expires_at > now
