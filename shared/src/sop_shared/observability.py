"""Request ids, trace context, JSON logs and Prometheus metrics, the same in every component."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from sop_shared.ids import new_id

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

request_id_var: ContextVar[str | None] = ContextVar("sop_request_id", default=None)
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


def install_request_context(app: FastAPI, component: str) -> None:
    """Every request gets an id (the caller's if it sent a sane one) that flows to logs and downstream calls."""
    registry = CollectorRegistry()
    requests = Counter("sop_http_requests_total", "HTTP requests", ["component", "method", "route", "status"],
                       registry=registry)
    latency = Histogram("sop_http_request_duration_seconds", "HTTP request latency", ["component", "route"],
                        registry=registry)
    app.state.metrics_registry = registry

    @app.middleware("http")
    async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        incoming = request.headers.get(REQUEST_ID_HEADER)
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else str(new_id())
        request.state.request_id = request_id
        rid_token = request_id_var.set(request_id)
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
            traceparent_var.reset(tp_token)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
