"""Per-request GraphQL context: who is asking, and the gateway's tools to answer."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fastapi import Request
from strawberry.fastapi import BaseContext

from sop_gateway.access import AccessCache
from sop_gateway.graphql.global_ids import ViewKey
from sop_gateway.graphql.loaders import CaseLoaders
from sop_gateway.upstream import ServiceClients, upstream_calls
from sop_shared.audit import AuditWriter
from sop_shared.auth import Principal, bearer_token
from sop_shared.db import Database


@dataclass
class GatewayContext(BaseContext):
    principal: Principal | None
    services: ServiceClients
    access_cache: AccessCache
    database: Database
    audit: AuditWriter  # the app's keyed audit writer (app.state.audit)
    calls: Counter[str] = field(default_factory=Counter)
    # The view (case, audience, language) each root field's records are read through, by response key: the
    # records' global ids name it (`global_ids`).
    views: dict[str, ViewKey] = field(default_factory=dict)
    loaders: CaseLoaders = field(init=False)

    def __post_init__(self) -> None:
        super().__init__()
        # Made per request: a loader's cache and its allowed cases must never outlive the request.
        self.loaders = CaseLoaders(self.services, self.principal)


async def get_context(request: Request) -> GatewayContext:
    state = request.app.state
    principal = None
    # A GET without a query only serves GraphiQL (in development); every query needs a token, GET ones too.
    if request.method != "GET" or "query" in request.query_params:
        principal = await state.authenticator.authenticate(bearer_token(request))
        request.state.principal = principal
    calls: Counter[str] = Counter()
    upstream_calls.set(calls)
    return GatewayContext(
        principal=principal,
        services=state.services,
        access_cache=state.access_cache,
        database=state.database,
        calls=calls,
        audit=state.audit,
    )
