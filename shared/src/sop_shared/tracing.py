"""OpenTelemetry in every component: spans for each request (FastAPI), each call to a service (httpx), each
statement (SQLAlchemy), and each event published and consumed (NATS, with the trace context in the
message's headers), exported over OTLP when configured and nowhere otherwise.

Tracing is always on inside the process (the SDK's provider, sampling everything): a trace id is what ties
a request's log lines, audit rows and events together even when nothing exports the spans. Exporting is
chosen by configuration: `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`, the standard variables,
with `OTEL_EXPORTER_OTLP_HEADERS` and the rest read by the exporter) or the component's
`SOP_X_OTLP_ENDPOINT`; `SOP_X_TRACE_FILE` appends each span as a JSON line to a file (tests, a quick look).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from sop_shared.settings import ComponentSettings

TRACER_NAME = "sop"
# Probes and scrapes are not traced: one every few seconds per pod would bury the traffic.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_lock = threading.Lock()
_exporting: set[str] = set()  # the exporters this process already sends to (one process, several apps)


class JsonLinesSpanExporter(SpanExporter):
    """Each finished span as one JSON line (name, ids, parent, kind, component, attributes, links)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with _lock, self.path.open("a", encoding="utf-8") as out:
            for span in spans:
                out.write(json.dumps(span_record(span)) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def span_record(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None
    return {
        "name": span.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "attributes": {key: _plain(value) for key, value in (span.attributes or {}).items()},
        "links": [
            {"trace_id": format(link.context.trace_id, "032x"), "span_id": format(link.context.span_id, "016x")}
            for link in span.links
        ],
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class _RootsThatMatter(Sampler):
    """A trace starts only at a request, an event published or an event processed: a statement or call with
    no parent (the relay's and the checkpoints' polling, every half second) records nothing."""

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind in (SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return "RootsThatMatter"


def _provider(component: str) -> TracerProvider:
    """The process's provider, made on first use (its service name is the first component's: in embedded
    mode all four share the process, and their spans name the component in `sop.component`)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"sop-{component}"}), sampler=ParentBased(_RootsThatMatter())
    )
    provider.add_span_processor(_QueryValuesLeftOut())
    trace.set_tracer_provider(provider)
    return provider


def configure_tracing(settings: ComponentSettings) -> None:
    """Start tracing for this process (idempotent) and add the exporters the settings ask for, once each."""
    with _lock:
        provider = _provider(settings.component)
        endpoint = settings.otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
        endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        if endpoint and f"otlp:{endpoint}" not in _exporting:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # The standard variable is the collector's base URL; the exporter adds /v1/traces to it only
            # when it reads the variable itself, so a URL given here is completed the same way.
            traces_url = (
                endpoint if endpoint.rstrip("/").endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"
            )
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url)))
            _exporting.add(f"otlp:{endpoint}")
        if settings.trace_file is not None and f"file:{settings.trace_file}" not in _exporting:
            provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(settings.trace_file)))
            _exporting.add(f"file:{settings.trace_file}")


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def exporting() -> bool:
    """Whether this process sends its spans anywhere (an OTLP endpoint or a trace file is configured)."""
    return bool(_exporting)


def fastapi_telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry support (`FastAPI(telemetry=…)`), for an app built after `configure_tracing`.
    When spans are exported, every request but probes and scrapes gets FastAPI's server span continuing the
    caller's `traceparent`, with the spans for resolving each dependency, running the endpoint and serialising
    the answer, and FastAPI's OpenTelemetry request metrics (Prometheus has its own). When nothing exports
    them, nobody sees a span's attributes, and FastAPI's span with its attributes cost each request about as
    much as a dependency's solving several times over: `TracedFastAPI` then gives each request a span context of
    its own instead (`context_only_span`), which is what the trace id of the request's log lines, audit rows
    and events needs."""
    if exporting():
        return {"exclude": _untraced, "operation_spans": True, "metrics": True}
    return {"exclude": _untraced, "tracing": False, "operation_spans": False, "metrics": False}


_PROPAGATED_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


def context_only_span(scope: MutableMapping[str, Any], ids: IdGenerator) -> otel_context.Context:
    """The context a request runs in when no span is exported: the caller's context (`traceparent`,
    `tracestate`, `baggage`, read by the process's propagators as FastAPI reads them: the first
    `traceparent`, the others' values joined) with the server span `context_only_child` gives (a request
    without a valid `traceparent` starts a new, sampled trace: `_RootsThatMatter`)."""
    carrier: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        if raw_name in _PROPAGATED_HEADERS:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            if name not in carrier:
                carrier[name] = value
            elif name != "traceparent":
                carrier[name] = f"{carrier[name]},{value}"
    parent_context = propagate.extract(carrier)
    own = context_only_child(parent_context, ids, root=True)
    assert own is not None
    return own


def context_only_child(
    parent_context: otel_context.Context | None, ids: IdGenerator, *, root: bool
) -> otel_context.Context | None:
    """`parent_context` (or the current context) with a non-recording span as the SDK's tracer would have
    started it under `ParentBased(_RootsThatMatter())` with `ids`: the parent's trace id and trace state, a new
    span id, sampled as the parent is, the random-trace-id flag the parent's or the generator's. Without a
    valid parent: a new sampled trace where `root` (a request, an event), else None (the sampler's drop:
    nothing to send on). Log lines, audit rows, events and calls to other services carry its ids as they
    carried the recorded span's; nothing about it is recorded (no span is exported to show it)."""
    parent = trace.get_current_span(parent_context).get_span_context()
    if parent.is_valid:
        flags = TraceFlags.SAMPLED if parent.trace_flags.sampled else TraceFlags.DEFAULT
        if parent.trace_flags.random_trace_id:
            flags |= TraceFlags.RANDOM_TRACE_ID
        own = SpanContext(parent.trace_id, ids.generate_span_id(), False, TraceFlags(flags), parent.trace_state)
    elif root:
        flags = TraceFlags.SAMPLED | (TraceFlags.RANDOM_TRACE_ID if ids.is_trace_id_random() else 0)
        own = SpanContext(ids.generate_trace_id(), ids.generate_span_id(), False, TraceFlags(flags))
    else:
        return None
    return trace.set_span_in_context(NonRecordingSpan(own), parent_context)


def span_ids() -> IdGenerator:
    """The id generator of the process's provider (the SDK's, unless another was set)."""
    provider = trace.get_tracer_provider()
    return provider.id_generator if isinstance(provider, TracerProvider) else RandomIdGenerator()


class TracedFastAPI(FastAPI):
    """The components' FastAPI: built with `fastapi_telemetry()`, and, when that leaves FastAPI's server span
    out (nothing exports spans), each HTTP request but probes and scrapes runs in `context_only_span`'s
    context, set as outermost as FastAPI's own span is (the unhandled-error handler's log line has it too)."""

    def __init__(self, **options: Any) -> None:
        telemetry = fastapi_telemetry()
        super().__init__(telemetry=telemetry, **options)
        self.context_only_spans = telemetry.get("tracing") is False
        self._span_ids = span_ids()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.context_only_spans or scope["type"] != "http" or _untraced(scope):
            await super().__call__(scope, receive, send)
            return
        token = otel_context.attach(context_only_span(scope, self._span_ids))
        try:
            await super().__call__(scope, receive, send)
        finally:
            otel_context.detach(token)


class _QueryValuesLeftOut(SpanProcessor):
    """A server span keeps the names of the query's parameters, not their values (a search may hold a name)."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        query = (span.attributes or {}).get("url.query")
        if isinstance(query, str) and query:
            span.set_attribute("url.query", "&".join(f"{key}=" for key, _ in parse_qsl(query, keep_blank_values=True)))


def instrument_engine(engine: AsyncEngine) -> None:
    """A client span for every statement (its text with placeholders, never its values). The instrumentor's
    own `instrument(engine=…)` instruments only the first engine of a process (it is a singleton); its
    per-engine tracer is what it would attach. `Database` asks for it only when spans are exported
    (`exporting`): a span per statement cost about a tenth of a service read's CPU for nobody."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    connections = get_meter(TRACER_NAME).create_up_down_counter(
        "db.client.connections.usage", unit="connections", description="connections in use or idle"
    )
    EngineTracer(tracer(), engine.sync_engine, connections)  # type: ignore[no-untyped-call]


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), or None outside any trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def current_trace_context() -> str | None:
    """The current trace context as it travels (`traceparent`, then `;tracestate` if any), or None."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if "traceparent" not in carrier:
        return None
    return carrier["traceparent"] + (f";{carrier['tracestate']}" if carrier.get("tracestate") else "")


def trace_headers(stored: str | None) -> dict[str, str]:
    """Message headers for a stored trace context (see `current_trace_context`)."""
    if not stored:
        return {}
    traceparent, _, tracestate = stored.partition(";")
    return {"traceparent": traceparent, **({"tracestate": tracestate} if tracestate else {})}


@contextmanager
def publish_span(subject: str, event_id: str, trace_context: str | None) -> Iterator[dict[str, str]]:
    """A producer span for publishing one event, a child of the write that produced it (its stored trace
    context, else the current one); yields the headers that carry this span's context to the consumer."""
    parent = propagate.extract(trace_headers(trace_context)) if trace_context else None
    with tracer().start_as_current_span(
        f"publish {subject}",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "nats",
            "messaging.destination.name": subject,
            "messaging.message.id": event_id,
        },
    ):
        headers: dict[str, str] = {}
        propagate.inject(headers)
        yield headers


@contextmanager
def consume_span(subject: str, event_id: str, consumer: str, headers: Mapping[str, str] | None) -> Iterator[None]:
    """A consumer span for processing one event: in the producer's trace and linked to its publish span."""
    parent = propagate.extract(dict(headers or {}))
    producer = trace.get_current_span(parent).get_span_context()
    links = [Link(producer)] if producer.is_valid else []
    token = otel_context.attach(otel_context.Context())  # not the relay's or fetcher's own context
    try:
        with tracer().start_as_current_span(
            f"process {subject}",
            context=parent if producer.is_valid else None,
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": subject,
                "messaging.message.id": event_id,
                "messaging.consumer.group.name": consumer,
            },
        ):
            yield
    finally:
        otel_context.detach(token)
