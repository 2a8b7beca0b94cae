"""Request ids, trace context, JSON logs and Prometheus metrics, the same in every component."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from sop_shared.ids import new_id

REQUEST_ID_HEADER = "X-Request-ID"
# The caller's own request id, as the gateway passes it on to the services (it generates X-Request-ID itself).
CLIENT_REQUEST_ID_HEADER = "X-SOP-Client-Request-ID"
PURPOSE_HEADER = "X-SOP-Purpose"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_SAFE_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: ContextVar[str | None] = ContextVar("sop_request_id", default=None)
client_request_id_var: ContextVar[str | None] = ContextVar("sop_client_request_id", default=None)
# The request's declared purpose (an AccessPurpose value): every call the request makes downstream declares it.
purpose_var: ContextVar[str | None] = ContextVar("sop_purpose", default=None)
# "METHOD /path" of the current request: what a refused attempt asked for, in its audit record.
request_target_var: ContextVar[str | None] = ContextVar("sop_request_target", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("sop_traceparent", default=None)


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=False,
    )


def _request_ids(request: Request, edge: bool) -> tuple[str, str | None]:
    """(request id, the client's own id). At the edge the id is always generated here (a UUIDv7), so an
    audit row's request id is never the caller's words; a sane `X-Request-ID` from the caller is kept as its
    client request id. Behind the edge (a service) the gateway's id and the client's id are taken as sent."""
    incoming = request.headers.get(REQUEST_ID_HEADER)
    sane = incoming if incoming and _SAFE_CLIENT_REQUEST_ID.match(incoming) else None
    if edge:
        return str(new_id()), sane
    client = request.headers.get(CLIENT_REQUEST_ID_HEADER)
    request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else str(new_id())
    return request_id, client if client and _SAFE_CLIENT_REQUEST_ID.match(client) else None


def _purpose(request: Request) -> Any:
    """The declared purpose, from the closed set (`AccessPurpose`); ValueError for anything else."""
    from sop_shared.audit import AccessPurpose  # here: the audit module builds on this one

    value = request.headers.get(PURPOSE_HEADER)
    if value is None or not value.strip():
        return None
    return AccessPurpose(value.strip().lower())


def install_request_context(app: FastAPI, component: str, *, edge: bool = False) -> None:
    """Every request gets an id that flows to logs, downstream calls and audit rows (generated here at the
    edge, see `_request_ids`), and its declared purpose is checked against the closed set."""
    registry = CollectorRegistry()
    requests = Counter(
        "sop_http_requests_total", "HTTP requests", ["component", "method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "sop_http_request_duration_seconds", "HTTP request latency", ["component", "route"], registry=registry
    )
    app.state.metrics_registry = registry

    @app.middleware("http")
    async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id, client_request_id = _request_ids(request, edge)
        request.state.request_id, request.state.client_request_id = request_id, client_request_id
        try:
            request.state.purpose = _purpose(request)
        except ValueError:
            from sop_shared.audit import AccessPurpose
            from sop_shared.problems import InvalidInput, problem_response

            refused = problem_response(
                InvalidInput.field(
                    PURPOSE_HEADER, "one of " + ", ".join(p.value for p in AccessPurpose) + " (docs/identity.md)"
                ),
                request,
            )
            refused.headers[REQUEST_ID_HEADER] = request_id
            return refused
        rid_token = request_id_var.set(request_id)
        crid_token = client_request_id_var.set(client_request_id)
        target_token = request_target_var.set(f"{request.method} {request.url.path}")
        purpose_token = purpose_var.set(request.state.purpose.value if request.state.purpose else None)
        tp_token = traceparent_var.set(request.headers.get("traceparent"))
        structlog.contextvars.bind_contextvars(request_id=request_id, component=component)
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", "unmatched")
            requests.labels(component, request.method, route, str(status)).inc()
            latency.labels(component, route).observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id", "component")
            request_id_var.reset(rid_token)
            client_request_id_var.reset(crid_token)
            request_target_var.reset(target_token)
            purpose_var.reset(purpose_token)
            traceparent_var.reset(tp_token)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
