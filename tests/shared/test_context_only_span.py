"""When no span is exported, a request runs in a span context of its own (`sop_shared.tracing.context_only_span`)
instead of FastAPI's recorded server span: the same trace id, trace state and sampled flag the SDK's span would
carry, a new span id, for every kind of incoming trace context; probes and scrapes in none; and set outermost,
so that the unhandled-error handler runs in it too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry import context as otel_context
from opentelemetry import trace

from sop_shared import tracing
from sop_shared.http_client import TracingTransport
from sop_shared.observability import traceparent_var
from sop_shared.settings import ComponentSettings
from sop_shared.tracing import TracedFastAPI, configure_tracing, current_trace_context

PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"

INCOMING: dict[str, list[tuple[str, str]]] = {
    "none": [],
    "sampled parent": [("traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-01")],
    "unsampled parent": [("traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-00")],
    "other flag bits": [("traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-03")],
    "trace state in two headers": [
        ("traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"),
        ("tracestate", "vendor1=a"),
        ("tracestate", "vendor2=b"),
    ],
    "two traceparents": [
        ("traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"),
        ("traceparent", f"00-{'1' * 32}-{'2' * 16}-00"),
    ],
    "invalid traceparent": [("traceparent", "00-not-a-trace-01")],
    "all-zero trace id": [("traceparent", f"00-{'0' * 32}-{PARENT_SPAN}-01")],
    "baggage": [("traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"), ("baggage", "k=v")],
}


@dataclass(frozen=True)
class Seen:
    valid: bool
    recording: bool
    trace_id: str
    span_id: str
    sampled: bool
    trace_state: str
    travels_as: str | None


def seen_now() -> Seen:
    span = trace.get_current_span()
    context = span.get_span_context()
    return Seen(
        valid=context.is_valid,
        recording=span.is_recording(),
        trace_id=format(context.trace_id, "032x"),
        span_id=format(context.span_id, "016x"),
        sampled=context.trace_flags.sampled,
        trace_state=context.trace_state.to_header(),
        travels_as=current_trace_context(),
    )


@pytest.fixture
def not_exporting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    configure_tracing(ComponentSettings())  # the SDK's provider, as every component's app has it
    monkeypatch.setattr(tracing, "_exporting", set())
    yield


def app_seeing(app: FastAPI, seen: list[Seen]) -> FastAPI:
    @app.get("/v1/things/{thing}")
    async def thing(thing: str) -> dict[str, str]:
        seen.append(seen_now())
        return {}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        seen.append(seen_now())
        return {}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("fictional failure")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:  # runs outside every middleware
        seen.append(seen_now())
        return JSONResponse({}, status_code=500)

    return app


async def ask(app: FastAPI, path: str, headers: list[tuple[str, str]]) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        await client.get(path, headers=headers)


def sdk_app(seen: list[Seen]) -> FastAPI:
    """FastAPI's own server span from the SDK's provider, as when spans are exported."""
    return app_seeing(FastAPI(telemetry={"exclude": tracing._untraced, "operation_spans": False}), seen)


@pytest.mark.parametrize("incoming", INCOMING, ids=list(INCOMING))
@pytest.mark.parametrize("path", ["/v1/things/one?language=es", "/boom"])
async def test_a_request_runs_in_the_span_context_the_sdk_would_have_started(
    not_exporting: None, incoming: str, path: str
) -> None:
    ours: list[Seen] = []
    theirs: list[Seen] = []
    await ask(app_seeing(TracedFastAPI(), ours), path, INCOMING[incoming])
    await ask(sdk_app(theirs), path, INCOMING[incoming])
    assert len(ours) == len(theirs) == 1
    mine, sdk = ours[0], theirs[0]
    assert mine.valid and sdk.valid
    assert not mine.recording  # nothing exports it: no attributes, no span record
    assert (mine.sampled, mine.trace_state) == (sdk.sampled, sdk.trace_state)
    assert mine.span_id != PARENT_SPAN and mine.span_id != "0" * 16
    if incoming in ("none", "invalid traceparent", "all-zero trace id"):
        assert mine.trace_id != sdk.trace_id  # each a new trace
    else:
        assert mine.trace_id == sdk.trace_id == PARENT_TRACE
    expected: Any = sdk.travels_as
    if expected is not None:
        expected = expected.replace(sdk.span_id, mine.span_id).replace(sdk.trace_id, mine.trace_id)
    assert mine.travels_as == expected


async def test_probes_and_scrapes_run_in_no_span(not_exporting: None) -> None:
    ours: list[Seen] = []
    theirs: list[Seen] = []
    headers = INCOMING["sampled parent"]
    await ask(app_seeing(TracedFastAPI(), ours), "/healthz", headers)
    await ask(sdk_app(theirs), "/healthz", headers)
    assert not ours[0].valid and not theirs[0].valid


async def test_exported_spans_are_fastapis_own(not_exporting: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_exporting", {"file:/nowhere"})
    seen: list[Seen] = []
    await ask(app_seeing(TracedFastAPI(), seen), "/v1/things/one", INCOMING["sampled parent"])
    assert seen[0].recording and seen[0].trace_id == PARENT_TRACE


async def sent_on(
    monkeypatch: pytest.MonkeyPatch, incoming: list[tuple[str, str]], *, exported: bool, in_request: bool
) -> tuple[str | None, bool]:
    """The `traceparent` a service call sends (`TracingTransport`) and whether the call's span was recording,
    from inside a request's span context or, outside any span, with only the request's `traceparent` known
    (`traceparent_var`)."""
    monkeypatch.setattr(tracing, "_exporting", {"file:/nowhere"} if exported else set())
    sent: list[str | None] = []
    recording: list[bool] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("traceparent"))
        recording.append(trace.get_current_span().is_recording())
        return httpx.Response(200)

    scope = {"headers": [(name.encode(), value.encode()) for name, value in incoming]}
    token = otel_context.attach(tracing.context_only_span(scope, tracing.span_ids())) if in_request else None
    known = None if in_request else traceparent_var.set(dict(incoming).get("traceparent"))
    try:
        async with httpx.AsyncClient(transport=TracingTransport(httpx.MockTransport(answer))) as client:
            await client.get("http://plans/v1/things")
    finally:
        if token is not None:
            otel_context.detach(token)
        if known is not None:
            traceparent_var.reset(known)
    return sent[0], recording[0]


@pytest.mark.parametrize("incoming", INCOMING, ids=list(INCOMING))
@pytest.mark.parametrize("in_request", [True, False], ids=["in a request", "outside any span"])
async def test_a_service_call_sends_on_the_context_the_sdks_client_span_would_have(
    not_exporting: None, monkeypatch: pytest.MonkeyPatch, incoming: str, in_request: bool
) -> None:
    headers = INCOMING[incoming]
    ours, ours_recorded = await sent_on(monkeypatch, headers, exported=False, in_request=in_request)
    assert not ours_recorded  # nothing exports it: nothing recorded
    sdk, _ = await sent_on(monkeypatch, headers, exported=True, in_request=in_request)
    if sdk is None:
        assert ours is None
        return
    assert ours is not None
    version, trace_id, span_id, flags = ours.split("-")
    sdk_version, sdk_trace_id, _, sdk_flags = sdk.split("-")
    assert (version, flags) == (sdk_version, sdk_flags)
    assert span_id not in (PARENT_SPAN, "0" * 16)
    if in_request and incoming in ("none", "invalid traceparent", "all-zero trace id"):
        assert trace_id != sdk_trace_id  # each request a new trace
    else:
        assert trace_id == sdk_trace_id
