"""The case access decision as the gateway sees it: asked of the network service, cached for seconds, and
forgotten at once when this gateway learns that who may see a case has changed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache

from sop_gateway.upstream import ServiceClients
from sop_shared.audit import AuditEntry
from sop_shared.auth import Principal
from sop_shared.events import Event
from sop_shared.observability import request_target_var
from sop_shared.policy import DEFAULT_SHARING, NetworkSharing, Section
from sop_shared.problems import NotFound

DeniedRecorder = Callable[[Principal, uuid.UUID], Awaitable[None]]

# The service that owns the access facts (assignments, partner grants, family and network memberships): any
# change it announces may change who may see the case.
ACCESS_FACTS_SERVICE = "network"
ACCESS_FACTS_EVENTS = "sop.network.>"


@dataclass(frozen=True)
class CaseAccess:
    case_id: uuid.UUID
    allowed: bool
    scopes: frozenset[str]
    relationships: tuple[str, ...]
    audiences: frozenset[str] = frozenset()  # the audiences this caller may be shown on this case
    person_id: uuid.UUID | None = None  # a family or network member: the person their login is on this case
    language: str | None = None  # a family or network member: the language they read
    network_sharing: NetworkSharing = DEFAULT_SHARING  # what the family chose their network sees on this case

    def downstream(self, principal: Principal) -> Principal:
        """The principal for a service call on this case: its scopes, a member's own person id, and what the
        family chose their network sees (each service applies it to the network's reads)."""
        return principal.scoped_to(
            self.case_id, self.scopes, person_id=self.person_id, network_sharing=self.network_sharing
        )


@dataclass
class AccessCache:
    """Seconds, not minutes: a revoked assignment or grant must stop access almost at once — and at once
    when the revocation passed through this gateway or its event reached it (`forget_case`). Bounded: when
    full, the least recently used decision goes (expired ones first), never the whole cache."""

    ttl_seconds: float = 5.0
    max_entries: int = 10_000
    # Every refusal of a case is decided on a decision this cache holds (`require_case_access`, the case
    # view, the case lookup), so the cache carries the recorder that audits it (`record_refusal`).
    on_denied: DeniedRecorder | None = None
    clock: Callable[[], float] = time.monotonic
    _entries: TTLCache[tuple[str, str, uuid.UUID], CaseAccess] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._entries = TTLCache(maxsize=self.max_entries, ttl=self.ttl_seconds, timer=self.clock)

    def get(self, principal: Principal, case_id: uuid.UUID) -> CaseAccess | None:
        return self._entries.get((principal.actor_type.value, principal.subject, case_id))

    def put(self, principal: Principal, access: CaseAccess) -> None:
        self._entries[(principal.actor_type.value, principal.subject, access.case_id)] = access

    def forget_case(self, case_id: uuid.UUID) -> None:
        """Every caller's decision on this case: the next request asks the network service again."""
        for key in [k for k in self._entries if k[2] == case_id]:
            self._entries.pop(key, None)

    def forget_all(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def forget_after_write(
    cache: AccessCache, *, service: str, method: str, case_id: uuid.UUID | None, status_code: int
) -> None:
    """After a successful write to the network service through this gateway (a grant revoked, an assignment
    ended by the SACWIS upsert, a member's dates or login changed), drop the decisions it may have changed:
    the case's, or all of them for a write not under one case (SACWIS upserts and batches, person merges)."""
    if service != ACCESS_FACTS_SERVICE or method in ("GET", "HEAD") or status_code >= 400:
        return
    if case_id is not None:
        cache.forget_case(case_id)
    else:
        cache.forget_all()


async def forget_on_event(cache: AccessCache, event: Event) -> None:
    """The bus path (embedded mode): a network change made anywhere — by a service, a sync, another
    gateway — drops the decisions on its case (all of them for a change not under one case)."""
    if event.case_id is not None:
        cache.forget_case(event.case_id)
    else:
        cache.forget_all()


def access_from(body: dict[str, Any]) -> CaseAccess:
    return CaseAccess(
        uuid.UUID(body["case_id"]),
        bool(body["allowed"]),
        frozenset(body["scopes"]),
        tuple(body["relationships"]),
        frozenset(body.get("audiences", ())),
        uuid.UUID(body["person_id"]) if body.get("person_id") else None,
        body.get("language"),
        _network_sharing(body.get("network_sees")),
    )


def _network_sharing(body: dict[str, Any] | None) -> NetworkSharing:
    if not body:
        return DEFAULT_SHARING
    return NetworkSharing(
        sections=frozenset(Section(s) for s in body.get("sections") or []),
        statement_ids=frozenset(uuid.UUID(str(i)) for i in body.get("statement_ids") or []),
    )


async def require_case_access(
    services: ServiceClients, cache: AccessCache, principal: Principal, case_id: uuid.UUID
) -> CaseAccess:
    """Allowed access or NotFound (never a hint that the case exists)."""
    access = cache.get(principal, case_id)
    if access is None:
        body = await services.get_json("network", f"/v1/cases/{case_id}/access", principal.scoped_to(case_id))
        access = access_from(body)
        cache.put(principal, access)
    if not access.allowed:
        await record_refusal(cache, principal, case_id)
        raise NotFound("no such case")
    return access


async def record_refusal(cache: AccessCache, principal: Principal, case_id: uuid.UUID) -> None:
    """Audit that `principal` was refused `case_id` (before answering "no such case")."""
    if cache.on_denied is not None:
        await cache.on_denied(principal, case_id)


def record_denied(app: Any) -> DeniedRecorder:
    """Audit a refused attempt on a case (action `denied`: who, through which client, which case, what was
    asked for) in its own transaction, since the request itself fails. The caller still gets only "no such
    case": the record is for auditors, the answer says nothing about whether the case exists."""

    async def record(principal: Principal, case_id: uuid.UUID) -> None:
        async with app.state.database.session() as session:
            await app.state.audit.record(
                session,
                AuditEntry.for_principal(
                    principal,
                    resource="case",
                    action="denied",
                    case_id=case_id,
                    resource_id=(request_target_var.get() or "")[:100] or None,
                ),
            )

    return record
