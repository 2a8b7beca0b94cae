"""Per-request DataLoaders: every case node of a response asks for its assessment and plan summaries, and
each service gets ONE bulk call for all of them (`POST /v1/case-views`), with a bulk-read token naming only
the cases the network service already allowed this caller. The two services are called in parallel (each
loader dispatches on the same tick)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from sop_gateway.upstream import ServiceClients, UpstreamError
from sop_gateway.wire_json import read_json
from sop_shared.auth import MAX_CASES_PER_TOKEN, Principal

Summary = dict[str, Any] | None


@dataclass
class CaseLoaders:
    services: ServiceClients
    principal: Principal | None
    allowed: set[uuid.UUID] = field(default_factory=set)
    assessment: DataLoader[uuid.UUID, Summary] = field(init=False)
    plans: DataLoader[uuid.UUID, Summary] = field(init=False)

    def __post_init__(self) -> None:
        self.assessment = DataLoader(
            _bulk_read("assessment", self.services, self.principal, self.allowed), max_batch_size=MAX_CASES_PER_TOKEN
        )
        self.plans = DataLoader(
            _bulk_read("plans", self.services, self.principal, self.allowed), max_batch_size=MAX_CASES_PER_TOKEN
        )

    def allow(self, case_ids: Iterable[uuid.UUID]) -> None:
        """Cases the network service allowed in this request: the only ones a bulk token may name."""
        self.allowed.update(case_ids)


def _bulk_read(
    service: str, services: ServiceClients, principal: Principal | None, allowed: set[uuid.UUID]
) -> Callable[[list[uuid.UUID]], Awaitable[list[Summary | BaseException]]]:
    """One service's bulk read of the allowed cases among `case_ids`. It holds what it reads, not the
    `CaseLoaders` that holds its loader: a loader referring back to its holder would make a reference cycle that
    keeps the request's loaders, their futures and the summaries until the next cyclic collection (rare with
    `GC_GEN0_THRESHOLD`), instead of freeing them with the request (docs/performance.md, "Memory per replica")."""

    async def load(case_ids: list[uuid.UUID]) -> list[Summary | BaseException]:
        wanted = [c for c in dict.fromkeys(case_ids) if c in allowed]
        if not wanted or principal is None:
            return [None] * len(case_ids)
        try:
            body = await services.request(
                service,
                "POST",
                "/v1/case-views",
                principal.scoped_to_cases(wanted),
                json={"case_ids": [str(c) for c in wanted]},
            )
        except UpstreamError as exc:
            return [exc] * len(case_ids)
        if body.status_code >= 400:
            error = UpstreamError(service, body.status_code, body.text[:300])
            return [error] * len(case_ids)
        by_case = {uuid.UUID(item["case_id"]): item for item in read_json(body)["items"]}
        return [by_case.get(c) for c in case_ids]

    return load
