"""Request ids, trace context, JSON logs and Prometheus metrics, the same in every component."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Any, TextIO, cast

import orjson
import structlog
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sop_shared.ids import new_id

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
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


# Libraries' loggers kept at WARNING or above whatever LOG_LEVEL says: uvicorn's access log is replaced by the
# request line below; SQLAlchemy's statement log and httpx's request log carry ids and case content.
_QUIET_LOGGERS = {
    "uvicorn.access": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,
    "sqlalchemy.pool": logging.WARNING,
    "httpx": logging.WARNING,  # its INFO line is each call's full URL: ids and query values
    "httpcore": logging.WARNING,
}
_HANDLER_MARK = "_sop_json_handler"


def _add_trace_context(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The current span's trace and span ids (OpenTelemetry), so a log line can be found from its trace."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's writer of finished lines, with the name it was asked for (`structlog.get_logger("sop.audit")`),
    which `add_logger_name` puts in the line as the stdlib's loggers' names are."""

    def __init__(self, file: IO[str], name: str | None = None) -> None:
        super().__init__(cast(TextIO, file))  # any text stream: structlog only writes and flushes it
        self.name = name


def _json_line(document: Any, **kwargs: Any) -> str:
    """A log line's JSON, written by orjson (a value it does not know goes through structlog's fallback,
    `default`); what orjson refuses (an integer beyond 64 bits) is written by the standard library, so that no
    event fails to log."""
    try:
        return orjson.dumps(document, default=kwargs.get("default"), option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(document, **kwargs)


def configure_logging(level: str = "INFO", json_logs: bool = True, *, stream: IO[str] | None = None) -> None:
    """One JSON line per log event, for this code (structlog) and every library (stdlib logging: uvicorn,
    SQLAlchemy, Strawberry, asyncio …) alike, each with the request id and trace id when there is one, at
    `level` everywhere. `stream` (default stderr) is where the lines go; tests pass their own.

    This code's events are rendered and written by structlog itself: through the stdlib (a record made, the
    caller's frame looked up, the record copied by the formatter, the processors run again) the request line of
    every request cost 47 µs, 18 µs this way. The libraries' records go through a stdlib handler with the same
    processors (`ProcessorFormatter`)."""
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")
    output = stream if stream is not None else sys.stderr
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_context,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line) if json_logs else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        logger_factory=lambda name=None, *_args: _NamedWriteLogger(output, name),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # uvicorn's own handlers print plain text
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
        logging.getLogger(name).setLevel(logging.NOTSET)
    for name, quiet in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, numeric_level))


_CONTEXT_HEADERS = {
    name.lower().encode("latin-1"): name.lower()
    for name in (REQUEST_ID_HEADER, CLIENT_REQUEST_ID_HEADER, PURPOSE_HEADER, "traceparent")
}


def _context_headers(scope: Scope) -> dict[str, str]:
    """The headers the request context reads (lower-case names), each as `Headers.get` gives it (the first one
    sent), from one pass over the raw list instead of a scan of it per name."""
    found: dict[str, str] = {}
    for key, value in scope["headers"]:
        name = _CONTEXT_HEADERS.get(key)
        if name is not None and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _request_ids(headers: Mapping[str, str], edge: bool) -> tuple[str, str | None]:
    """(request id, the client's own id). At the edge the id is always generated here (a UUIDv7), so an
    audit row's request id is never the caller's words; a sane `X-Request-ID` from the caller is kept as its
    client request id. Behind the edge (a service) the gateway's id and the client's id are taken as sent.
    `headers` has lower-case names (`_context_headers`)."""
    incoming = headers.get(REQUEST_ID_HEADER.lower())
    sane = incoming if incoming and _SAFE_CLIENT_REQUEST_ID.match(incoming) else None
    if edge:
        return str(new_id()), sane
    client = headers.get(CLIENT_REQUEST_ID_HEADER.lower())
    request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else str(new_id())
    return request_id, client if client and _SAFE_CLIENT_REQUEST_ID.match(client) else None


def _purpose(headers: Mapping[str, str]) -> Any:
    """The declared purpose, from the closed set (`AccessPurpose`); ValueError for anything else."""
    value = headers.get(PURPOSE_HEADER.lower())
    if value is None or not value.strip():
        return None
    purposes = _purposes()
    try:
        return purposes[value.strip().lower()]
    except KeyError:
        raise ValueError(f"{value!r} is not a purpose") from None


_PURPOSES: dict[str, Any] = {}


def _purposes() -> dict[str, Any]:
    """`AccessPurpose` by value, as `AccessPurpose(value)` finds them (a `StrEnum` without `_missing_`), read
    once: the audit module builds on this one, so it is imported on first use, not per request."""
    if not _PURPOSES:
        from sop_shared.audit import AccessPurpose

        _PURPOSES.update((purpose.value, purpose) for purpose in AccessPurpose)
    return _PURPOSES


# Probes and scrapes come every few seconds: their lines are DEBUG, so INFO shows the traffic that matters.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
request_log = structlog.get_logger("sop.request")


class _RequestLogger:
    """`request_log` assembled once per structlog configuration instead of on every line (the lazy proxy binds a
    new logger and writer on each call, since `configure_logging` leaves `cache_logger_on_first_use` off). A
    later `structlog.configure` (a new processor list, logger factory, wrapper or context class: `configure_logging`
    again, `structlog.testing.capture_logs`) is seen on the next line, as the proxy sees it."""

    __slots__ = ("_config", "_logger")

    def __init__(self) -> None:
        self._config: tuple[Any, ...] = ()
        self._logger: Any = None

    def __call__(self) -> Any:
        config = structlog.get_config()
        key = (config["processors"], config["logger_factory"], config["wrapper_class"], config["context_class"])
        held = self._config
        if self._logger is None or any(now is not then for now, then in zip(key, held, strict=True)):
            self._logger, self._config = request_log.bind(), key
        return self._logger


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/cases/{case_id}/view`), prefix of an included router and all,
    or "unmatched": never the path itself, which carries ids. FastAPI keeps an included router's routes
    without its prefix in `scope["route"]`; the effective (prefixed) template is in its own scope entry."""
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(effective, "path_format", None) or getattr(scope.get("route"), "path_format", None)
    return str(template) if template else "unmatched"


def _caller_kind(state: dict[str, Any]) -> str:
    """The kind of caller (staff, family, partner, integration, service …), never who: the principal's
    actor type once authentication has run, else "anonymous"."""
    principal = state.get("principal")
    actor_type = getattr(principal, "actor_type", None)
    return str(getattr(actor_type, "value", actor_type)) if actor_type is not None else "anonymous"


class RequestContextMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware: the app runs in this task, so context variables set here reach it
    and nothing is buffered). Per HTTP request: its ids and declared purpose in context variables (for
    logs, downstream calls and audit rows), the `X-Request-ID` response header, the request metrics, and
    one log line `request` with the route template, status, duration, ids and kind of caller. The line
    carries no path values, query, body or header besides those: nothing that names a person or a token."""

    def __init__(self, app: ASGIApp, *, component: str, edge: bool, requests: Counter, latency: Histogram) -> None:
        self.app, self.component, self.edge = app, component, edge
        self.requests, self.latency = requests, latency
        # Each label set's child metric, looked up once per process (`labels` checks and locks on every call).
        # The keys are the children the metrics hold anyway: routes are templates, never paths.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[str, Any] = {}
        self._log = _RequestLogger()

    def _counted(self, method: str, route: str, status: int) -> Any:
        key = (method, route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(self.component, method, route, str(status))
        return counter

    def _timed(self, route: str) -> Any:
        timer = self._timers.get(route)
        if timer is None:
            timer = self._timers[route] = self.latency.labels(self.component, route)
        return timer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _context_headers(scope)
        request_id, client_request_id = _request_ids(headers, self.edge)
        state = scope.setdefault("state", {})
        state["request_id"], state["client_request_id"] = request_id, client_request_id
        method, path = scope["method"], scope["path"]
        try:
            purpose = _purpose(headers)
        except ValueError:
            await self._refuse_purpose(scope, receive, send, request_id)
            return
        state["purpose"] = purpose
        tokens = [
            (request_id_var, request_id_var.set(request_id)),
            (client_request_id_var, client_request_id_var.set(client_request_id)),
            (request_target_var, request_target_var.set(f"{method} {path}")),
            (purpose_var, purpose_var.set(purpose.value if purpose else None)),
            (traceparent_var, traceparent_var.set(headers.get("traceparent"))),
        ]
        # Reset, not unbind, at the end: in embedded mode a service answers inside the gateway's own request
        # (same task), and must hand the gateway's request id and component back, not erase them.
        bound = structlog.contextvars.bind_contextvars(request_id=request_id, component=self.component)
        started = time.perf_counter()
        status = 500

        request_id_header = (_REQUEST_ID_KEY, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers") or () if h[0] != _REQUEST_ID_KEY]
                headers.append(request_id_header)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = route_template(scope)
            self._counted(method, route, status).inc()
            self._timed(route).observe(duration)
            log = self._log()
            (log.debug if path in _QUIET_PATHS else log.warning if status >= 500 else log.info)(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(duration * 1000, 1),
                caller=_caller_kind(state),
                client_request_id=client_request_id,
            )
            structlog.contextvars.reset_contextvars(**bound)
            for var, token in reversed(tokens):
                var.reset(token)

    async def _refuse_purpose(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        from starlette.requests import Request

        from sop_shared.audit import AccessPurpose
        from sop_shared.problems import InvalidInput, problem_response

        refused = problem_response(
            InvalidInput.field(
                PURPOSE_HEADER, "one of " + ", ".join(p.value for p in AccessPurpose) + " (docs/identity.md)"
            ),
            Request(scope, receive),
        )
        refused.headers[REQUEST_ID_HEADER] = request_id
        request_log.info(
            "request",
            method=scope["method"],
            route="unmatched",
            status=refused.status_code,
            duration_ms=0.0,
            caller="anonymous",
            request_id=request_id,
        )
        await refused(scope, receive, send)


@dataclass(frozen=True)
class ComponentMetrics:
    """What an operator watches beyond requests (deploy/monitoring/ has the alert rules and dashboard): the
    outbox's backlog and the relay's failures, how far each event consumer is behind, when the audit chain
    head was last covered by a signed checkpoint, the gateway's rate-limit refusals, and the requests waiting for
    the gateway's turn (`sop_gateway.admission`) and those refused after waiting."""

    component: str
    outbox_unpublished: Gauge
    outbox_oldest_unpublished_seconds: Gauge
    outbox_published: Counter
    outbox_publish_failures: Counter
    consumer_pending: Gauge
    audit_checkpoint_timestamp: Gauge
    rate_limit_refusals: Counter
    requests_waiting: Gauge
    busy_refusals: Counter

    @classmethod
    def on(cls, registry: CollectorRegistry, component: str) -> ComponentMetrics:
        def gauge(name: str, doc: str, *labels: str) -> Gauge:
            return Gauge(name, doc, ["component", *labels], registry=registry)

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, ["component", *labels], registry=registry)

        return cls(
            component,
            gauge("sop_outbox_unpublished", "Outbox events written but not yet acknowledged by the bus"),
            gauge("sop_outbox_oldest_unpublished_seconds", "Age of the oldest unpublished outbox event (0: none)"),
            counter("sop_outbox_published_total", "Outbox events the relay published"),
            counter("sop_outbox_publish_failures_total", "Outbox publish attempts the bus refused or lost"),
            gauge("sop_event_consumer_pending", "Events on the stream not yet processed by a consumer", "consumer"),
            gauge(
                "sop_audit_checkpoint_last_success_timestamp_seconds",
                "When the audit chain head was last covered by a published, signed checkpoint (Unix time)",
            ),
            counter("sop_rate_limit_refusals_total", "Requests refused by a rate limit (429)", "route"),
            gauge("sop_requests_waiting", "Requests waiting for their turn (the gateway's limit of requests at once)"),
            counter("sop_busy_refusals_total", "Requests refused (503) after waiting their turn too long"),
        )


def install_request_context(app: FastAPI, component: str, *, edge: bool = False) -> None:
    """Every request gets an id that flows to logs, downstream calls and audit rows (generated here at the
    edge, see `_request_ids`), its declared purpose is checked against the closed set, and it is counted,
    timed and logged as one line (`RequestContextMiddleware`)."""
    registry = CollectorRegistry()
    requests = Counter(
        "sop_http_requests_total", "HTTP requests", ["component", "method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "sop_http_request_duration_seconds", "HTTP request latency", ["component", "route"], registry=registry
    )
    app.state.metrics_registry = registry
    app.state.metrics = ComponentMetrics.on(registry, component)
    app.add_middleware(RequestContextMiddleware, component=component, edge=edge, requests=requests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
