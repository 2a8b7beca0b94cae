"""The GraphQL schema and its guards: depth, aliases, tokens and directives limits; parser and validation
caches; introspection only in development; no "Did you mean …?" suggestions (they map the schema for a
caller who may not introspect); internal errors masked, with the request id to quote."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

import strawberry
import structlog
from graphql import DirectiveNode, GraphQLError, VariableDefinitionNode
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationContext, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.tools import merge_types
from strawberry.types import Info

from sop_gateway.audit_log import AccessLogConnection, AuditChainVerdict, resolve_audit_chain, resolve_case_access_log
from sop_gateway.graphql.case_view import CaseView, require_principal, resolve_case_view
from sop_gateway.graphql.caseload import (
    CaseConnection,
    CaseFilter,
    CaseSummary,
    resolve_case,
    resolve_case_by_external_id,
    resolve_cases,
)
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.execution import AnswerWaits, GatewayExecutionContext
from sop_gateway.graphql.global_ids import Node
from sop_gateway.graphql.mutations import build_derived
from sop_gateway.graphql.nodes import resolve_node, resolve_nodes
from sop_gateway.graphql.per_document import per_node
from sop_gateway.graphql.translation_queue import TranslationQueuePage, resolve_translation_queue
from sop_gateway.graphql.trusted_documents import TrustedDocuments, TrustedDocumentsExtension
from sop_gateway.graphql.types import ActorType, Audience, Me
from sop_gateway.settings import GatewaySettings
from sop_shared.observability import request_id_var


@strawberry.type
class Query:
    @strawberry.field(
        description="One family's common-language case view, for an audience, in a language. Without an "
        "audience, the caller's own (staff: STAFF; a family member: FAMILY; a network member: NETWORK; a "
        "partner: PARTNER); without a language, a family or network member's preferred one, else English."
    )
    async def case_view(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        audience: Audience | None = None,
        language: str | None = None,
    ) -> CaseView:
        return await resolve_case_view(info, case_id, audience, language)

    @strawberry.field(
        description="A record by its global id (Relay): read again through the view the id names (case, "
        "audience, language), with caseView's authorization and audit. A record of a case you may not see, or "
        "one that view does not show, is NOT_FOUND."
    )
    async def node(self, info: Info[GatewayContext, None], id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(
        description="Records by their global ids (Relay), each as `node(id:)` reads it, in order (at most 20); "
        "null for an id naming no record you may see."
    )
    async def nodes(self, info: Info[GatewayContext, None], ids: list[strawberry.ID]) -> list[Node | None]:
        return await resolve_nodes(info, ids)

    @strawberry.field(
        description="The caller's caseload, a page at a time, ordered by case id: `first` (1 to 50, default 25) "
        "after `after`, or the `last` before `before`."
    )
    async def cases(
        self,
        info: Info[GatewayContext, None],
        first: int | None = None,
        after: str | None = None,
        filter: CaseFilter | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CaseConnection:
        return await resolve_cases(info.context, first, after, filter, last, before)

    @strawberry.field(
        description="What the families on the caller's caseload read that waits for a translation into "
        "`language` or for a second, qualified person to verify one (a supervisor's caseload is their unit's "
        "cases), a page of cases at a time (first: 1 to 20), ordered by case id. The agency's own: staff only."
    )
    async def translation_queue(
        self,
        info: Info[GatewayContext, None],
        language: str,
        first: int = 10,
        after: str | None = None,
        filter: CaseFilter | None = None,
    ) -> TranslationQueuePage:
        return await resolve_translation_queue(info.context, language, first, after, filter)

    @strawberry.field(description="One case by its id (a case you may not see answers like a missing one).")
    async def case(self, info: Info[GatewayContext, None], id: strawberry.ID) -> CaseSummary:
        return await resolve_case(info.context, id)

    @strawberry.field(description='One case by its id in another system (SACWIS: system "CHRIS").')
    async def case_by_external_id(self, info: Info[GatewayContext, None], system: str, external_id: str) -> CaseSummary:
        return await resolve_case_by_external_id(info.context, system, external_id)

    @strawberry.field(description="Who the caller is, as the platform sees them.")
    def me(self, info: Info[GatewayContext, None]) -> Me:
        p = require_principal(info.context)
        return Me(
            subject=p.subject,
            name=p.name,
            actor_type=ActorType(p.actor_type.value),
            roles=sorted(p.roles),
            scopes=sorted(p.scopes),
            agency=p.agency,
        )

    @strawberry.field(
        description="Who looked at this case through the gateway, newest first (supervisors of the "
        "case and auditors only; needs audit:read)."
    )
    async def case_access_log(
        self,
        info: Info[GatewayContext, None],
        case_id: strawberry.ID,
        first: Annotated[
            int | None, strawberry.argument(description="How many, forward (1 to 500; default 100)")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="`pageInfo.endCursor` (or an edge's `cursor`): older entries")
        ] = None,
        last: Annotated[int | None, strawberry.argument(description="How many, backward (1 to 500)")] = None,
        before: Annotated[
            str | None,
            strawberry.argument(description="`pageInfo.startCursor` (or an edge's `cursor`): newer entries"),
        ] = None,
        before_seq: Annotated[
            int | None,
            strawberry.argument(
                description="Only entries older than this one: the `seq` of the page before's last entry",
                deprecation_reason="Page with `after` (an edge's `cursor`); `beforeSeq` goes in the next release",
            ),
        ] = None,
    ) -> AccessLogConnection:
        return await resolve_case_access_log(
            info.context, case_id, first=first, after=after, last=last, before=before, before_seq=before_seq
        )

    @strawberry.field(
        description="Recompute a component's keyed audit chain (the gateway's by default, or "
        "network, assessment, plans) and compare it with its newest signed checkpoint "
        "(auditors and administrators only)."
    )
    async def audit_chain(self, info: Info[GatewayContext, None], component: str = "gateway") -> AuditChainVerdict:
        connection = info.context.request
        if connection is None:  # a context built in-process (the family view) never asks for the chain
            raise GraphQLError("auditChain is answered over HTTP only")
        return await resolve_audit_chain(info.context, connection.app.state.audit_trail, component)


class UpstreamCallCount(SchemaExtension):
    """Development aid: how many calls each service received for this request (the one-call rule)."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        calls = getattr(context, "calls", None)
        return {"upstreamCalls": dict(calls)} if calls is not None else {}


class ValidationPerDocument(SchemaExtension):
    """Strawberry's `ValidationCache`, kept per document (`per_document`) rather than in an LRU cache keyed by the
    document's value, which hashed the whole parsed document (a thousand nodes for the full case view) on every
    request. The parser cache hands each request with the same text the same document; the answer is the same
    list of errors either way (`validate_document` of the schema, the document and the rules)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        schema = context.schema._schema
        rules = tuple(context.validation_rules)
        if document is not None:
            context.pre_execution_errors = per_node(
                document, ("validation", schema, rules), lambda: validate_document(schema, document, rules)
            )
        yield


def max_directives_rule(limit: int) -> type[ValidationRule]:
    """Refuse documents with more than `limit` directives in all (directive overloading: each one costs
    validation and execution work, and unknown ones multiply errors)."""

    class MaxDirectivesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.count = 0

        def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
            self.count += 1
            if self.count == limit + 1:
                self.report_error(GraphQLError(f"more than {limit} directives in this document", node))

    return MaxDirectivesRule


def own_documents() -> list[str]:
    """The gateway's own operations (the family view's caseView, the practice dashboards'): always trusted."""
    from sop_gateway.dashboards.api import dashboards_document
    from sop_gateway.family_view.reading import case_view_query

    return [case_view_query(), dashboards_document()]


SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


# What the caller got wrong before anything ran: answered HTTP 400 with one of these codes, never masked as
# internal, and logged as one line (a traceback there would only bury the real failures).
PARSE_FAILED, VALIDATION_FAILED, BAD_USER_INPUT = "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"
REQUEST_ERROR_CODES = frozenset({PARSE_FAILED, VALIDATION_FAILED, BAD_USER_INPUT})


def request_error_code(error: GraphQLError, execution_context: Any) -> str | None:
    """The code of an error in the request itself, or None for an error while resolving fields. Told by the
    phase it happened in: no document (parsing failed), no result yet (validation failed), or a result with
    no data and an error at no path (the variables could not be coerced: graphql-core runs nothing then)."""
    if execution_context is None:
        return None
    if execution_context.graphql_document is None:
        return PARSE_FAILED
    result = execution_context.result
    if result is None:
        # A rule's finding has no original error; an exception with one is a failure of ours.
        return VALIDATION_FAILED if error.original_error is None else None
    about_variables = any(isinstance(node, VariableDefinitionNode) for node in error.nodes or ())
    if (
        getattr(result, "data", None) is None
        and error.path is None
        and (about_variables or error.original_error is None)
    ):
        return BAD_USER_INPUT
    return None


class GatewaySchema(strawberry.Schema):
    """Strawberry's `disable_field_suggestions` only covers unknown fields; unknown arguments, types, enum
    values and variables carry "Did you mean …?" too, so every error message is trimmed here. Errors in the
    request itself get their code and HTTP 400 here, before MaskErrors would take them for internal ones."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        internal = []
        for error in errors:
            if "Did you mean" in error.message:
                error.message = SUGGESTION.sub("", error.message)
            code = request_error_code(error, execution_context)
            if code is not None:
                if not (error.extensions or {}).get("code"):
                    error.extensions = {**(error.extensions or {}), "code": code}
                # 400 every time: a document's validation errors come back from the validation cache, already coded
                response = getattr(getattr(execution_context, "context", None), "response", None)
                if response is not None:
                    response.status_code = 400
            code = (error.extensions or {}).get("code")
            if code is not None and code != "INTERNAL_SERVER_ERROR":
                # Meant for the caller: one line, with no message (it may quote the caller's values).
                structlog.get_logger("sop").info(
                    "graphql_client_error", code=code, path=list(error.path) if error.path else None
                )
            else:
                internal.append(error)
        super().process_errors(internal, execution_context)


class MaskInternalErrors(MaskErrors):
    """The masked error carries the request id (also in the X-Request-ID response header) to quote."""

    def _process_result(self, result: Any) -> None:
        """Strawberry's own, asking whether the result has `errors` by `getattr`: its `isinstance` against a
        runtime-checkable protocol took some 30 µs per request (Python 3.11 checks the protocol's members)."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = request_id_var.get()
        return GraphQLError(
            f"{self.error_message} Request id: {request_id}.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


def _should_mask(error: GraphQLError) -> bool:
    # Our own errors carry a code and are meant for the caller; anything else is an internal failure.
    return not (error.extensions and "code" in error.extensions) and error.original_error is not None


def build_schema(settings: GatewaySettings, upstream: dict[str, Any] | None = None) -> strawberry.Schema:
    """The schema; its mutations derived from the services' write operations (`upstream`, else the ones kept
    beside `mutations.py`)."""
    # Validation rules are classes built once: the validation cache is keyed by them, so rebuilding them per
    # request would make every request a cache miss. The extensions themselves are made per request
    # (factories), because strawberry keeps per-operation state on them.
    rules = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
        max_directives_rule(settings.graphql_max_directives),
    ]
    if not settings.is_development:
        rules.append(NoSchemaIntrospectionCustomRule)
    trusted: list[TrustedDocuments] = [TrustedDocuments()]  # set below, once the schema exists
    extensions: list[Any] = [
        lambda: TrustedDocumentsExtension(lambda: trusted[0]),
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=256),
        ValidationPerDocument,
        AnswerWaits,
        # MaskErrors reads `self.execution_context` after the operation ran, so a shared instance masked
        # whichever request came last and let concurrent ones leak internal errors.
        lambda: MaskInternalErrors(
            should_mask_error=_should_mask,
            error_message="Internal error; quote the request id (X-Request-ID) to support.",
        ),
    ]
    if settings.is_development:
        extensions.append(UpstreamCallCount)
    mutation, lists = build_derived(upstream)
    schema = GatewaySchema(
        query=merge_types("Query", (Query, lists)),
        mutation=mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=True),
        execution_context_class=GatewayExecutionContext,
    )
    trusted[0] = TrustedDocuments.load(
        manifest=settings.graphql_trusted_documents,
        own=own_documents(),
        required=settings.graphql_trusted_documents_required,
        schema=schema,
        rules=rules,
    )
    return schema
