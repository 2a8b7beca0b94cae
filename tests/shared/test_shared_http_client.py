"""The service HTTP client passes the request id and trace context on, in process (ASGI) and over a real
socket (aiohttp transport against a uvicorn server on a loopback port)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import re
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from sop_shared.admission import WAIT_LIMIT_HEADER
from sop_shared.http_client import service_client
from sop_shared.observability import REQUEST_ID_HEADER, install_request_context, request_id_var, traceparent_var
from sop_shared.settings import ComponentSettings
from sop_shared.tracing import configure_tracing

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture(autouse=True)
def tracing() -> None:
    configure_tracing(ComponentSettings())  # as every component's app does when it is built


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        return {
            "request_id": request.headers.get(REQUEST_ID_HEADER),
            "traceparent": request.headers.get("traceparent"),
            "path": request.url.path,
            "wait_limit_ms": request.headers.get(WAIT_LIMIT_HEADER),
        }

    return app


@contextlib.contextmanager
def context(request_id: str | None, traceparent: str | None):
    rid, tp = request_id_var.set(request_id), traceparent_var.set(traceparent)
    try:
        yield
    finally:
        request_id_var.reset(rid)
        traceparent_var.reset(tp)


def in_the_same_trace(traceparent: str | None) -> bool:
    """The call's `traceparent`: the caller's trace id, with the call's own span id (its client span)."""
    assert traceparent is not None
    version, trace_id, span_id, flags = traceparent.split("-")
    return (version, trace_id, flags) == ("00", TRACEPARENT.split("-")[1], "01") and span_id != TRACEPARENT.split("-")[
        2
    ]


async def _exercise(client: httpx.AsyncClient) -> None:
    with context("req-42", TRACEPARENT):
        body = (await client.get("/echo")).json()
    assert body["request_id"] == "req-42" and body["path"] == "/echo"
    assert in_the_same_trace(body["traceparent"])
    assert body["wait_limit_ms"] == "10000"  # the client's read timeout: the service starts nothing after it
    body = (await client.get("/echo", timeout=httpx.Timeout(2.5, connect=1))).json()
    assert body["wait_limit_ms"] == "2500"  # a call's own timeout

    with context(None, None):  # nothing to pass on: nothing invented
        body = (await client.get("/echo")).json()
    assert body["request_id"] is None and body["traceparent"] is None

    with context("req-43", TRACEPARENT):  # a header the caller set explicitly wins
        body = (await client.get("/echo", headers={REQUEST_ID_HEADER: "explicit"})).json()
    assert body["request_id"] == "explicit" and in_the_same_trace(body["traceparent"])

    async def one(i: int) -> str:  # concurrent calls each carry their own context
        with context(f"req-c{i}", None):
            await asyncio.sleep(0)
            return (await client.get("/echo")).json()["request_id"]

    assert await asyncio.gather(*[one(i) for i in range(10)]) == [f"req-c{i}" for i in range(10)]


async def test_in_process_client_propagates_request_id_and_traceparent() -> None:
    async with service_client("http://plans", app=echo_app()) as client:
        assert isinstance(client._transport.inner, httpx.ASGITransport)
        await _exercise(client)


async def test_a_request_handled_by_one_service_carries_its_id_downstream() -> None:
    """gateway -> service: the id the first app assigned is the id the second one sees."""
    downstream = service_client("http://plans", app=echo_app())
    upstream = FastAPI()
    install_request_context(upstream, "gateway")

    @upstream.get("/view")
    async def view() -> dict[str, str | None]:
        return (await downstream.get("/echo")).json()

    async with (
        downstream,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream), base_url="http://gw") as client,
    ):
        response = await client.get("/view", headers={REQUEST_ID_HEADER: "edge-1", "traceparent": TRACEPARENT})
        assert response.json()["request_id"] == "edge-1"
        assert in_the_same_trace(response.json()["traceparent"])
        assert response.headers[REQUEST_ID_HEADER] == "edge-1"
        generated = await client.get("/view")
        assert generated.json()["request_id"] == generated.headers[REQUEST_ID_HEADER]
        # No trace came in: the request's own server span (FastAPI's) starts one, and the call continues it.
        assert generated.json()["traceparent"].split("-")[1] != TRACEPARENT.split("-")[1]
    assert request_id_var.get() is None  # the middleware resets the context after the request


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` served by uvicorn on a loopback port: its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def served_echo() -> AsyncIterator[str]:
    async with served(echo_app()) as url:
        yield url


async def test_network_client_uses_aiohttp_and_propagates_context(served_echo: str) -> None:
    from httpx_aiohttp import AiohttpTransport

    async with service_client(served_echo) as client:
        assert isinstance(client._transport.inner, AiohttpTransport)
        await _exercise(client)
        # the pool is reused: many calls, no failures
        responses = await asyncio.gather(*[client.get("/echo") for _ in range(30)])
        assert {r.status_code for r in responses} == {200}


async def test_network_client_times_out_on_an_unreachable_service() -> None:
    async with service_client(f"http://127.0.0.1:{_free_port()}") as client:
        with pytest.raises(httpx.TransportError):
            await client.get("/echo")


def mirror_app(*, traced: bool = False) -> FastAPI:
    """Answers with the request as it arrived: method, path and query, every header (but the trace context, each
    call's own, unless `traced`), the body."""
    app = FastAPI()
    left_out = b"" if traced else b"traceparent"

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def mirror(request: Request) -> dict[str, object]:
        return {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"] if k != left_out],
            "body": (await request.body()).decode(),
        }

    return app


CALLS: list[tuple[str, str, dict[str, object]]] = [
    ("GET", "/v1/cases/4f7c/view", {}),
    ("get", "v1/cases/4f7c/view", {"params": {"first": 3, "after": "a b&c"}}),
    ("GET", "/v1/search?q=x", {}),
    ("GET", "/v1/search?q=x", {"params": {}}),  # httpx's rule: given parameters replace the path's query
    ("POST", "/v1/plans", {"json": {"title": "Maria's plan", "n": [1, 2]}, "headers": {"Idempotency-Key": "k-1"}}),
    ("PUT", "/v1/plans/1", {"content": b"raw", "headers": {"If-Match": '"3"', "accept": "application/json"}}),
    ("DELETE", "/v1/plans/1", {"headers": {"USER-AGENT": "sop-test", "X-Two": "a"}, "timeout": 2.5}),
    ("POST", "/v1/plans/1/sign", {"headers": {"Idempotency-Key": "k-2"}}),  # no body: Content-Length: 0
    ("GET", "/v1/cases/4f7c/a b/é/%41%zz/./x/../y?q=a b&c=ü", {}),  # escaped, dot segments: parsed by httpx
    ("GET", "/v1/cases/4f7c", {"params": {"language": "en", "first": 3, "flag": True, "none": None, "many": [1, 2]}}),
]


def untraced(headers: httpx.Headers) -> list[tuple[bytes, bytes]]:
    """A request's headers as sent, in order, but its trace context (each call's own span)."""
    return [(k, v) for k, v in headers.raw if k.lower() != b"traceparent"]


def undated(headers: httpx.Headers) -> list[tuple[str, str]]:
    """The response's headers but the server's clock (two answers a second apart differ in `date` alone)."""
    return [(k, v) for k, v in headers.multi_items() if k != "date"]


@pytest.mark.parametrize("over", ["in process", "aiohttp"])
@pytest.mark.parametrize("prefix", ["", "/prefix"])
async def test_the_short_way_sends_what_httpx_would_send(prefix: str, over: str) -> None:
    """`ServiceClient.request` builds each call as httpx's own `request` builds it (URL under the base, query,
    headers merged case-insensitively, body, the wait limit from the timeout), answers with the same response,
    and a call it does not take the short way (a full URL) still carries the request id; in process (ASGI) and
    over a socket through aiohttp, as the gateway calls the services in production."""
    async with contextlib.AsyncExitStack() as stack:
        if over == "aiohttp":
            host = await stack.enter_async_context(served(mirror_app()))
            client = await stack.enter_async_context(service_client(host + prefix))
        else:
            host = "http://plans"
            client = await stack.enter_async_context(service_client(host + prefix, app=mirror_app()))
        base = host + prefix
        for method, path, kwargs in CALLS:
            with context("req-7", TRACEPARENT):
                short = await client.request(method, path, **kwargs)
                httpx_way = await httpx.AsyncClient.request(client, method, path, **kwargs)  # type: ignore[arg-type]
            assert short.status_code == httpx_way.status_code == 200, short.text
            assert short.json() == httpx_way.json(), (method, path, kwargs)
            assert undated(short.headers) == undated(httpx_way.headers)
            assert short.request.url == httpx_way.request.url and short.request.method == httpx_way.request.method
            assert untraced(short.request.headers) == untraced(httpx_way.request.headers)
            assert short.request.content == httpx_way.request.content
            assert (short.is_stream_consumed, short.num_bytes_downloaded) == (True, len(short.content))
            assert short.elapsed.total_seconds() >= 0 and short.is_closed
        assert (await client.get("/x", params={"a": "1"})).json()["query"] == "a=1"
        with context("req-8", None):
            full = await client.get(f"{base}/full")
        assert ("x-request-id", "req-8") in [tuple(pair) for pair in full.json()["headers"]]
        assert full.json()["path"] == prefix + "/full"


async def test_the_short_way_names_the_request_a_failure_belongs_to() -> None:
    port = _free_port()
    async with service_client(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(httpx.ConnectError) as failure:
            await client.get("/echo")
        assert failure.value.request.url == httpx.URL(f"http://127.0.0.1:{port}/echo")
    with pytest.raises(RuntimeError):  # a closed client sends nothing, as httpx's own
        await client.get("/echo")


async def test_the_short_way_leaves_httpxs_send_out_unless_a_call_needs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service call does not go through httpx's `send` (its layers were the cost); a client given something
    only `send` does (here a response hook) goes httpx's way, and the hook is called."""
    sent: list[str] = []
    real_send = httpx.AsyncClient.send

    async def send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: object) -> httpx.Response:
        sent.append(request.url.path)
        return await real_send(self, request, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    async with service_client("http://plans", app=mirror_app()) as client:
        assert (await client.get("/a")).json()["path"] == "/a" and sent == []
        seen: list[int] = []

        async def hook(response: httpx.Response) -> None:
            seen.append(response.status_code)

        client.event_hooks["response"].append(hook)
        assert (await client.get("/b")).json()["path"] == "/b"
        assert sent == ["/b"] and seen == [200]


BASES = [
    "http://plans",
    "http://127.0.0.1:8003/prefix",
    "https://[::1]:8443/a/b/",
    "http://user:secret@plans/p",  # the short way's base leaves the user out; parsed by httpx as before
    "http://plans/p?x=1",
]
PATHS = [
    "v1/cases/0195f0c4-7a1e-7c3b-9d2a-4f7c2e1b9a10/case-view",
    "",
    "v1/search?q=x&n=1",
    "v1/search?",
    "v1/a%2Fb%c3%A9",
    "v1/a;b=c,d@e:f!$&'()*+~_-",
    "v1/.well-known/x",
    "v1/./a",
    "v1/x/..",
    "v1/%zz",
    "v1/a b",
    "v1/é",
    "v1/{x}",
    "v1/q?a=<b>&c=`d`",
    "v1/q?%41%zz",
    "v1/t\tab",
]
PARAMS: list[object] = [None, {}, {"language": "en", "first": 3}, {"q": "a b&c/é", "flag": False, "none": None}]


@pytest.mark.parametrize("base", BASES)
def test_a_url_under_the_base_is_the_one_httpx_parses(base: str) -> None:
    """`ServiceClient._url` puts a plain path under the base as it is, and has httpx parse any other: the same URL
    as httpx's `Request` makes of `base + path` and `params`, component by component, or the same error."""
    client = service_client(base, app=echo_app())
    for path in PATHS:
        for params in PARAMS:
            try:
                expected = httpx.Request("GET", client._base + path, params=params).url  # type: ignore[arg-type]
            except httpx.InvalidURL as refused:
                with pytest.raises(httpx.InvalidURL, match=re.escape(str(refused))):
                    client._url(path, params)
                continue
            made = client._url(path, params)
            assert made._uri_reference == expected._uri_reference, (base, path, params)
            assert str(made) == str(expected) and made.raw_path == expected.raw_path and made.host == expected.host


def _counting(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[object]:
    calls: list[object] = []
    real = getattr(module, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


async def test_a_plain_call_is_made_without_parsing_its_url_or_encoding_a_body_it_has_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 16: a call's URL was parsed again character by character, and its request built through httpx's
    body encoding and header copies, for every call the gateway makes."""
    import httpx._models
    import httpx._urls

    async with service_client("http://plans", app=mirror_app()) as client:
        parsed = _counting(monkeypatch, httpx._urls, "urlparse")
        encoded = _counting(monkeypatch, httpx._models, "encode_request")
        with context("req-9", None):
            answer = await client.get("/v1/cases/4f7c/case-view", params={"language": "en"}, headers={"X-A": "1"})
        assert answer.json()["query"] == "language=en" and ["x-request-id", "req-9"] in answer.json()["headers"]
        assert parsed == [] and encoded == []
        assert (await client.post("/v1/plans", json={"title": "plan"})).json()["body"] == '{"title":"plan"}'
        assert parsed == [] and len(encoded) == 1  # a body: httpx encodes it
        assert (await client.get("/v1/a b")).json()["path"] == "/v1/a b"
        assert len(parsed) == 1  # a path httpx escapes: httpx parses it


def answers_app() -> FastAPI:
    """A JSON answer as it is and gzipped, each with the port the call came from (one connection or several)."""
    app = FastAPI()

    @app.get("/plain")
    async def plain(request: Request) -> dict[str, object]:
        return {"port": request.client.port if request.client else None, "text": "x" * 40_000}

    @app.get("/gzipped")
    async def gzipped(request: Request) -> Response:
        body = json.dumps({"port": request.client.port if request.client else None, "text": "y" * 40_000})
        return Response(
            gzip.compress(body.encode()), media_type="application/json", headers={"Content-Encoding": "gzip"}
        )

    return app


async def test_an_answer_over_aiohttp_is_read_at_once_unless_it_is_encoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer that needs no decoding is read at once, not through httpx's generators and decoders, and left as
    httpx leaves a read answer (closed, consumed, its bytes counted, its connection back in the pool); a gzipped
    answer is read and decoded by httpx, as before."""
    by_httpx = _counting(monkeypatch, httpx.Response, "aiter_bytes")
    async with served(answers_app()) as url, service_client(url) as client:
        answers = [await client.get("/plain") for _ in range(3)]
        assert by_httpx == []
        for answer in answers:
            assert answer.json()["text"] == "x" * 40_000 and answer.text == answer.content.decode()
            assert answer.is_closed and answer.is_stream_consumed and answer.num_bytes_downloaded == len(answer.content)
        assert len({answer.json()["port"] for answer in answers}) == 1  # one connection, reused
        gzipped = await client.get("/gzipped")
        assert len(by_httpx) == 1 and gzipped.json()["text"] == "y" * 40_000
        assert gzipped.num_bytes_downloaded < len(gzipped.content) and gzipped.is_closed
        assert gzipped.json()["port"] == answers[0].json()["port"]
        httpx_way = await httpx.AsyncClient.request(client, "GET", "/plain")
        assert httpx_way.content == answers[0].content and undated(httpx_way.headers) == undated(answers[0].headers)


@contextlib.asynccontextmanager
async def cut_short() -> AsyncIterator[str]:
    """A server that answers 200 with a body shorter than its Content-Length, then closes the connection."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":')
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_an_answer_cut_short_fails_as_httpx_reading_it_fails() -> None:
    async with cut_short() as url, service_client(url) as client:
        with pytest.raises(httpx.TransportError) as short:
            await client.get("/echo")
        with pytest.raises(httpx.TransportError) as httpx_way:
            await httpx.AsyncClient.request(client, "GET", "/echo")
    assert type(short.value) is type(httpx_way.value) and str(short.value) == str(httpx_way.value)
    assert short.value.request.url == httpx_way.value.request.url == httpx.URL(f"{url}/echo")


async def test_the_trace_context_goes_last_and_replaces_one_the_caller_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """As httpx's `Headers.update` puts it; without building and decoding headers for it when the call has none."""
    async with service_client("http://plans", app=mirror_app(traced=True)) as client:
        updates = _counting(monkeypatch, httpx.Headers, "update")
        with context("req-1", TRACEPARENT):
            sent = (await client.get("/a", headers={"X-A": "1"})).json()["headers"]
        assert sent[-1][0] == "traceparent" and in_the_same_trace(sent[-1][1]) and updates == []
        assert [name for name, _ in sent[-3:-1]] == ["x-request-id", "x-sop-wait-limit-ms"]
        stale = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
        with context("req-1", TRACEPARENT):
            sent = (await client.get("/a", headers={"TraceParent": stale, "X-A": "1"})).json()["headers"]
        assert [name for name, _ in sent].count("traceparent") == 1 and sent[-1][0] == "traceparent"
        assert in_the_same_trace(sent[-1][1]) and len(updates) == 1
