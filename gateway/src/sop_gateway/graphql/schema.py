"""The GraphQL schema and its guards (depth, aliases, tokens; parser and validation caches)."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import Info

from sop_gateway.graphql.case_view import CaseView, require_principal, resolve_case_view
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.types import Audience, Me
from sop_gateway.settings import GatewaySettings


@strawberry.type
class Query:
    @strawberry.field(description="One family's common-language case view, for an audience, in a language.")
    async def case_view(self, info: Info[GatewayContext, None], case_id: strawberry.ID,
                        audience: Audience = Audience.STAFF, language: str = "en") -> CaseView:
        return await resolve_case_view(info.context, case_id, audience, language)

    @strawberry.field(description="Who the caller is, as the platform sees them.")
    def me(self, info: Info[GatewayContext, None]) -> Me:
        p = require_principal(info.context)
        return Me(subject=p.subject, name=p.name, actor_type=p.actor_type.value, roles=sorted(p.roles),
                  scopes=sorted(p.scopes), agency=p.agency)


class UpstreamCallCount(SchemaExtension):
    """Development aid: how many calls each service received for this request (the one-call rule)."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        calls = getattr(context, "calls", None)
        return {"upstreamCalls": dict(calls)} if calls is not None else {}


def _should_mask(error: GraphQLError) -> bool:
    # Our own errors carry a code and are meant for the caller; anything else is an internal failure.
    return not (error.extensions and "code" in error.extensions) and error.original_error is not None


def build_schema(settings: GatewaySettings) -> strawberry.Schema:
    # Validation rules are classes built once: the validation cache is keyed by them, so rebuilding them per
    # request would make every request a cache miss. The extensions themselves are made per request
    # (factories), because strawberry keeps per-operation state on them.
    rules = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
    ]
    if not settings.is_development:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        # MaskErrors reads `self.execution_context` after the operation ran, so a shared instance masked
        # whichever request came last and let concurrent ones leak internal errors.
        lambda: MaskErrors(should_mask_error=_should_mask,
                           error_message="Internal error; quote the request id (X-Request-ID) to support."),
    ]
    if settings.is_development:
        extensions.append(UpstreamCallCount)
    return strawberry.Schema(query=Query, extensions=extensions)
