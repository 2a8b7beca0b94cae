"""The case access decision as the gateway sees it: asked of the network service, cached for seconds."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sop_gateway.upstream import ServiceClients
from sop_shared.auth import Principal
from sop_shared.problems import NotFound


@dataclass(frozen=True)
class CaseAccess:
    case_id: uuid.UUID
    allowed: bool
    scopes: frozenset[str]
    relationships: tuple[str, ...]


@dataclass
class AccessCache:
    """Seconds, not minutes: a revoked assignment or grant must stop access almost at once."""

    ttl_seconds: float = 5.0
    max_entries: int = 10_000
    _entries: dict[tuple[str, str, uuid.UUID], tuple[float, CaseAccess]] = field(default_factory=dict)

    def get(self, principal: Principal, case_id: uuid.UUID) -> CaseAccess | None:
        entry = self._entries.get((principal.actor_type.value, principal.subject, case_id))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, principal: Principal, access: CaseAccess) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[(principal.actor_type.value, principal.subject, access.case_id)] = (
            time.monotonic() + self.ttl_seconds, access)


def access_from(body: dict[str, Any]) -> CaseAccess:
    return CaseAccess(uuid.UUID(body["case_id"]), bool(body["allowed"]), frozenset(body["scopes"]),
                      tuple(body["relationships"]))


async def require_case_access(services: ServiceClients, cache: AccessCache, principal: Principal,
                              case_id: uuid.UUID) -> CaseAccess:
    """Allowed access or NotFound (never a hint that the case exists)."""
    access = cache.get(principal, case_id)
    if access is None:
        body = await services.get_json("network", f"/v1/cases/{case_id}/access", principal.scoped_to(case_id))
        access = access_from(body)
        cache.put(principal, access)
    if not access.allowed:
        raise NotFound("no such case")
    return access
