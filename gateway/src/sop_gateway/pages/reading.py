"""Reading a page's data: a GraphQL document executed in-process against the gateway's own schema as the reader,
so the same authorization, redaction, one-call-per-service rule and audit apply as for any other client."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import Request
from strawberry.types import ExecutionResult

from sop_gateway.graphql.context import GatewayContext
from sop_gateway.upstream import upstream_calls
from sop_shared.auth import Principal


async def run_as(
    request: Request, principal: Principal, query: str, variables: dict[str, Any], operation_name: str | None = None
) -> ExecutionResult:
    state = request.app.state
    calls: Counter[str] = Counter()
    upstream_calls.set(calls)
    context = GatewayContext(
        principal=principal,
        services=state.services,
        access_cache=state.access_cache,
        database=state.database,
        calls=calls,
        audit=state.audit,
    )
    result: ExecutionResult = await state.graphql_schema.execute(
        query, variable_values=variables, context_value=context, operation_name=operation_name
    )
    return result
