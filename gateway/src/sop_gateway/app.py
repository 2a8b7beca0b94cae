"""The gateway: the only public entry. Authenticates, asks for case access, composes the case view
(GraphQL), passes REST calls through, and audits every case access."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from sop_gateway.access import ACCESS_FACTS_EVENTS, AccessCache, forget_on_event, record_denied
from sop_gateway.api_tokens.api import router as api_tokens_router
from sop_gateway.api_tokens.service import authenticate_api_token
from sop_gateway.dashboards.api import router as dashboards_router
from sop_gateway.facade import router as facade_router
from sop_gateway.facade_contract import describe_facade
from sop_gateway.family_view.api import router as family_view_router
from sop_gateway.graphql.context import get_context
from sop_gateway.graphql.mutations import kept_upstream_contracts
from sop_gateway.graphql.schema import build_schema
from sop_gateway.graphql.trusted_documents import TrustedDocumentRouter
from sop_gateway.identity import PARTNER_TOKEN_PREFIX, EdgeAuthenticator, TrustedIssuerKeys
from sop_gateway.models import platform
from sop_gateway.oauth.api import router as oauth_router
from sop_gateway.oauth.service import GatewayTokenSigner, client_is_active
from sop_gateway.rate_limits import TooManyRequests, build_rate_limits
from sop_gateway.request_guard import RequestGuard
from sop_gateway.settings import OAUTH_JWKS_FILE, GatewaySettings
from sop_gateway.upstream import SERVICES, ServiceClients, UpstreamTimeouts
from sop_shared.admission import install_admission
from sop_shared.audit import AuditWriter, running_audit_trail
from sop_shared.auth import InternalTokenMinter
from sop_shared.db import Database
from sop_shared.dev_identity import DEV_ISSUER, DEV_MEMBER_PORTAL_ISSUER
from sop_shared.events import Event, EventBus, Subscription
from sop_shared.input_policy import install_input_policy
from sop_shared.keys import ensure_keys, generate_signing_key, load_signing_key, write_signing_key
from sop_shared.observability import configure_logging, install_request_context, route_template
from sop_shared.openapi import amend_openapi, install_openapi_conventions, operation_id
from sop_shared.policy import ActorType
from sop_shared.problems import install_problem_handlers, problem_response
from sop_shared.response_headers import install_head_as_get, install_response_headers
from sop_shared.runtime import tune_gc_after_startup
from sop_shared.service import install_health
from sop_shared.tracing import TracedFastAPI, configure_tracing

SACWIS_BATCH_FACADE_PATH = "/api/network/v1/sacwis/batch"


def _token_signer(settings: GatewaySettings) -> GatewayTokenSigner | None:
    """The gateway's own signing key for client-credentials tokens (generated in development)."""
    key_file = settings.resolved_oauth_key_file()
    if key_file is None:
        return None
    if settings.is_development and not key_file.exists():
        write_signing_key(generate_signing_key(), key_file, key_file.parent / OAUTH_JWKS_FILE)
    return GatewayTokenSigner(
        load_signing_key(key_file),
        settings.oauth_issuer,
        settings.oauth_audience,
        settings.oauth_token_lifetime_seconds,
    )


class _IssuerTiming(TypedDict):
    min_refresh_seconds: float
    clock_skew_seconds: int


def _trusted_issuers(settings: GatewaySettings, signer: GatewayTokenSigner | None) -> list[TrustedIssuerKeys]:
    common: _IssuerTiming = {
        "min_refresh_seconds": settings.jwks_min_refresh_seconds,
        "clock_skew_seconds": settings.clock_skew_seconds,
    }
    issuers = [
        TrustedIssuerKeys(
            settings.oidc_issuer,
            settings.oidc_audience,
            jwks_file=settings.resolved_oidc_jwks_file(),
            jwks_url=settings.oidc_jwks_url,
            **common,
        )
    ]
    issuers += [
        TrustedIssuerKeys(
            extra.issuer,
            extra.audience,
            jwks_file=extra.jwks_file,
            jwks_url=extra.jwks_url,
            actor_types=frozenset(extra.actor_types),
            **common,
        )
        for extra in settings.oidc_extra_issuers
    ]
    if settings.is_development and settings.oidc_issuer == DEV_ISSUER and not settings.oidc_jwks_url:
        # `sop token maria.lopez`: the development member portal, for family and network members only.
        issuers.append(
            TrustedIssuerKeys(
                DEV_MEMBER_PORTAL_ISSUER,
                settings.oidc_audience,
                jwks_file=settings.resolved_oidc_jwks_file(),
                actor_types=frozenset({ActorType.family, ActorType.network}),
                **common,
            )
        )
    if signer is not None:
        issuers.append(
            TrustedIssuerKeys(
                signer.issuer,
                signer.audience,
                jwks=signer.jwks(),
                actor_types=frozenset({ActorType.integration}),
                max_lifetime_seconds=signer.lifetime_seconds + 60,
                **common,
            )
        )
    return issuers


# How a client authenticates at the edge (docs/identity.md): any one of these, each sent as a bearer token.
EDGE_SECURITY: dict[str, dict[str, Any]] = {
    "staffOrFamilyJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT from a trusted OIDC issuer: the state's staff identity provider, or the family and "
        "network member portal.",
    },
    "partnerApiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": f"A partner agency's API token (`{PARTNER_TOKEN_PREFIX}…`), issued by an administrator.",
    },
    "clientCredentials": {
        "type": "oauth2",
        "description": "An integration (SACWIS) exchanges its client id and secret for a short-lived token.",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}},
    },
}


def _graphiql_page(document: dict[str, Any]) -> None:
    answer = document["paths"]["/graphql"]["get"]["responses"]["200"]
    answer["content"]["text/html"] = {"schema": {"type": "string"}}


def create_app(
    settings: GatewaySettings | None = None,
    *,
    bus: EventBus | None = None,
    service_apps: dict[str, Any] | None = None,
    facade_operations: dict[str, Any] | None = None,
) -> FastAPI:
    """`service_apps` (embedded mode) reaches the services in this process instead of over the network;
    `facade_operations` are the services' operations the OpenAPI document describes (else the ones kept)."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_json)
        if settings.is_development and settings.internal_signing_key_file is None:
            ensure_keys(settings.keys_dir())
        database = Database.for_component(settings)
        signer = _token_signer(settings)
        rate_limits = build_rate_limits(
            redis_url=settings.redis_url,
            window_seconds=settings.rate_limit_window_seconds,
            per_token=settings.rate_limit_per_token,
            per_client=settings.rate_limit_per_client,
            failed_secrets=settings.oauth_failed_secret_limit,
            failed_secrets_window_seconds=settings.oauth_failed_secret_window_seconds,
        )
        authenticator = EdgeAuthenticator(
            _trusted_issuers(settings, signer),
            api_tokens=lambda secret: authenticate_api_token(database, secret),
            own_issuer=signer.issuer if signer else None,
            client_is_active=lambda client_id: client_is_active(database, client_id),
            rate_limits=rate_limits,
        )
        await authenticator.load()
        app.state.token_signer, app.state.rate_limits = signer, rate_limits
        minter = InternalTokenMinter(
            load_signing_key(settings.resolved_signing_key_file()), issuer=settings.internal_token_issuer
        )
        urls = {name: settings.service_url(name) for name in SERVICES}
        services = ServiceClients.build(minter, urls, service_apps, UpstreamTimeouts.from_settings(settings))
        app.state.database, app.state.authenticator, app.state.services = database, authenticator, services
        app.state.access_cache = AccessCache(ttl_seconds=settings.access_cache_seconds, on_denied=record_denied(app))
        audit_trail = contextlib.AsyncExitStack()  # keyed audit writer and its checkpoints (sop_shared.audit)
        await audit_trail.enter_async_context(running_audit_trail(app, settings, database, platform, bus))
        app.state.bus = bus or _NoBus()
        forgetting = await _forget_access_on_network_events(app, bus)
        tune_gc_after_startup(settings)
        try:
            yield
        finally:
            if forgetting is not None:
                await forgetting.stop()
            await audit_trail.aclose()
            await services.close()
            await rate_limits.close()
            await database.dispose()

    # In production the API description is not served: it maps every route for whoever asks.
    docs: dict[str, Any] = {} if settings.is_development else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    configure_tracing(settings)
    app = TracedFastAPI(
        generate_unique_id_function=operation_id,
        title="SOP Platform gateway",
        version="1.0.0",
        lifespan=lifespan,
        **docs,
        description="The public entry: GraphQL case view, REST façade over the services, audit.",
    )
    app.state.settings = settings
    app.state.platform = platform
    app.state.audit = AuditWriter(platform)
    app.state.token_signer = None
    install_problem_handlers(app)

    @app.exception_handler(TooManyRequests)
    async def _too_many(request: Request, exc: TooManyRequests) -> JSONResponse:
        response = problem_response(exc, request)
        response.headers["Retry-After"] = str(exc.retry_after)
        metrics = request.app.state.metrics
        metrics.rate_limit_refusals.labels(metrics.component, route_template(request.scope)).inc()
        return response

    app.add_middleware(RequestGuard, settings=settings)  # innermost: the body has passed the input policy
    install_input_policy(
        app,
        max_body_bytes=settings.max_request_bytes,
        max_json_depth=settings.max_json_depth,
        larger_bodies={SACWIS_BATCH_FACADE_PATH: settings.sacwis_batch_max_bytes},
    )
    install_admission(app, settings)
    install_request_context(app, settings.component, edge=True)
    install_health(app)
    install_response_headers(app, edge=True, https_only=not settings.is_development)
    describe_facade(app, lambda: facade_operations or kept_upstream_contracts())
    install_openapi_conventions(app, EDGE_SECURITY, EDGE_SECURITY)
    install_head_as_get(app)
    app.state.graphql_schema = build_schema(settings)  # the family view executes its caseView in-process
    graphql = TrustedDocumentRouter(
        app.state.graphql_schema,
        context_getter=get_context,
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=True,  # queries only, with a preflight header (_guard_requests)
        multipart_uploads_enabled=False,
    )
    graphql_responses: dict[int | str, dict[str, Any]] = {
        415: {"description": "A POST body that is not application/json (no form posts)"},
        413: {"description": "The body is larger than the limit"},
    }
    for route in graphql.routes:  # Strawberry's handlers are `handle_http_get|post`: named for what they do
        if isinstance(route, APIRoute):
            route.operation_id = "graphql_query" if "GET" in (route.methods or ()) else "graphql_execute"
    app.include_router(graphql, prefix="/graphql", responses=graphql_responses, tags=["graphql"])
    if settings.is_development:  # a browser's GET without a query gets the GraphiQL page
        amend_openapi(app, _graphiql_page)
    app.include_router(facade_router)
    app.include_router(api_tokens_router)
    app.include_router(oauth_router)
    app.include_router(family_view_router)
    app.include_router(dashboards_router)

    @app.get("/", include_in_schema=False)
    async def index() -> JSONResponse:
        return JSONResponse(
            {
                "service": "SOP Platform gateway",
                "graphql": "/graphql",
                **({"docs": "/docs"} if settings.is_development else {}),
            }
        )

    return app


async def _forget_access_on_network_events(app: FastAPI, bus: EventBus | None) -> Subscription | None:
    """In embedded mode the gateway shares the services' bus: a network change (grant revoked, assignment
    ended, member removed) drops that case's cached access decisions as soon as its event is relayed.
    Distributed gateways have no bus here (a durable NATS consumer would hand each event to one replica
    only); they rely on their own façade writes and the short cache lifetime (docs/identity.md)."""
    if bus is None:
        return None

    async def forget(event: Event) -> None:
        await forget_on_event(app.state.access_cache, event)  # read at event time: tests swap the cache

    return await bus.subscribe(ACCESS_FACTS_EVENTS, "gateway-access-cache", forget)


class _NoBus:
    """The gateway publishes nothing yet; readiness still reports a bus."""

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
