"""The service HTTP client: pooled connections, timeouts, and the request id and trace context passed on.

Over the network it uses the aiohttp transport (httpx-aiohttp) for speed; in embedded mode an ASGI
transport reaches the service app in the same process through the very same code path.
"""

from __future__ import annotations

import datetime
import math
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind, StatusCode

from sop_shared.admission import WAIT_LIMIT_HEADER
from sop_shared.observability import (
    CLIENT_REQUEST_ID_HEADER,
    PURPOSE_HEADER,
    REQUEST_ID_HEADER,
    client_request_id_var,
    purpose_var,
    request_id_var,
    traceparent_var,
)
from sop_shared.settings import SERVER_KEEP_ALIVE_SECONDS as SERVER_KEEP_ALIVE_SECONDS
from sop_shared.tracing import context_only_child, exporting, span_ids, tracer

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=2.0)
# An idle connection is dropped here before the service drops it: reusing one the service is closing loses the
# request with "server disconnected".
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=60)


class TracingTransport(httpx.AsyncBaseTransport):
    """A client span around every call to a service, its context sent in `traceparent` (and `tracestate`).
    Its parent is the current span, or, outside any span, the `traceparent` the current request came with.
    (Wrapping the transport, which is aiohttp over the network and ASGI in process, covers both alike.) When
    no span is exported the call's span is a context only (`context_only_child`), as a request's is."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self._tracer: trace.Tracer | None = None  # the process's one provider's, asked for once (per call: 5 %)
        self._span_ids: IdGenerator | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        parent = None
        incoming = traceparent_var.get()
        if incoming and not trace.get_current_span().get_span_context().is_valid:
            parent = propagate.extract({"traceparent": incoming})
        if not exporting():
            return await self._call_in_context_only(request, parent)
        host = request.url.host
        attributes = {"http.request.method": request.method, "server.address": host}
        if self._tracer is None:
            self._tracer = tracer()
        with self._tracer.start_as_current_span(
            f"{request.method} {host}", context=parent, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            if span.get_span_context().trace_flags.sampled:  # an unsampled root (no request, no parent): not sent
                carrier: dict[str, str] = {}
                propagate.inject(carrier)
                _add_trace_context(request.headers, carrier)
            response = await self.inner.handle_async_request(request)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(StatusCode.ERROR)
            return response

    async def _call_in_context_only(
        self, request: httpx.Request, parent: otel_context.Context | None
    ) -> httpx.Response:
        if self._span_ids is None:
            self._span_ids = span_ids()
        own = context_only_child(parent, self._span_ids, root=False)
        if own is None:  # no request, no parent: the sampler's drop, nothing sent on
            return await self.inner.handle_async_request(request)
        token = otel_context.attach(own)
        try:
            if trace.get_current_span().get_span_context().trace_flags.sampled:
                carrier: dict[str, str] = {}
                propagate.inject(carrier)
                _add_trace_context(request.headers, carrier)
            return await self.inner.handle_async_request(request)
        finally:
            otel_context.detach(token)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _add_trace_context(headers: httpx.Headers, carrier: dict[str, str]) -> None:
    """`headers.update(carrier)`: the call's trace context after its other headers, in place of one the caller set
    (at the end, as `update` puts it). Set one by one when the caller set none: `update` builds `Headers` of the
    carrier and decodes every header to look each name up, several times the cost (issue 16)."""
    names = {name.lower().encode() for name in carrier}
    if any(name.lower() in names for name, _ in headers.raw):
        headers.update(carrier)
        return
    for name, value in carrier.items():
        headers[name] = value


def _context_headers(present: Callable[[str], bool], read_timeout: float | None) -> list[tuple[str, str]]:
    """The headers a call carries from the request it is made for, those the caller has not set (`present`)."""
    added = []
    request_id = request_id_var.get()
    if request_id and not present(REQUEST_ID_HEADER):
        added.append((REQUEST_ID_HEADER, request_id))
    client_request_id = client_request_id_var.get()
    if client_request_id and not present(CLIENT_REQUEST_ID_HEADER):
        added.append((CLIENT_REQUEST_ID_HEADER, client_request_id))
    purpose = purpose_var.get()
    if purpose and not present(PURPOSE_HEADER):
        added.append((PURPOSE_HEADER, purpose))
    # A service does not start what its caller no longer waits for (sop_shared.admission): the caller's read
    # timeout, the longest it waits for the answer to begin.
    if read_timeout and not present(WAIT_LIMIT_HEADER):
        added.append((WAIT_LIMIT_HEADER, str(math.ceil(read_timeout * 1000))))
    # The trace context is sent by the transport, with the call's own span (sop_shared.tracing).
    return added


async def _propagate_context(request: httpx.Request) -> None:
    read_timeout = (request.extensions.get("timeout") or {}).get("read")
    for name, value in _context_headers(request.headers.__contains__, read_timeout):
        request.headers[name] = value


_HOOKS = {"request": [_propagate_context], "response": []}  # what the short way does in their place
# What httpx's URL keeps as it is in a path and in a query (unreserved and sub-delimiter characters, ":", "@", "/",
# escapes; "?" too in a query): a URL made of these is the same parsed or not (`ServiceClient._url`).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)*")
_PLAIN_LENGTH = 8192  # far below httpx's limit on a URL's length


class ServiceClient(httpx.AsyncClient):
    """httpx's client, its `request` taking the short way to the transport for the calls the gateway makes (a
    path under the base URL, headers, query parameters, a JSON or bytes body, a timeout): the request built as
    `build_request` builds it, sent as `send` sends it with no auth, no redirects followed, no cookies (the
    services set none, and a jar shared by every user's calls has no business carrying any) and httpx's
    request log line (silenced: `sop_shared.observability`). httpx's own layers above the transport (merging
    the URL, headers and cookies, the auth and redirect loops, event hooks, cookie extraction) took about 6 % of
    the gateway's CPU under `make bench-views`, nearly a third of what its service calls cost it (issue 16).
    Anything else (a full URL, auth, cookies, a form, files, extensions, other event hooks, mounted transports,
    a closed client) takes httpx's own way."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        base = self.base_url  # httpx keeps its path ending in "/" (`str` leaves a bare "/" out)
        self._base = f"{base.scheme}://{base.netloc.decode('ascii')}{base.raw_path.decode('ascii')}"
        # The base as httpx parsed it, for URLs under it made without parsing it again (`_url`); not one with a
        # user, a query or a fragment, which `_base` leaves out or puts in the path.
        parsed = base._uri_reference
        self._parsed_base = parsed if not parsed.userinfo and parsed.query is None and parsed.fragment is None else None
        self._base_path = base.raw_path.decode("ascii")  # "/" for an empty path, as `_base` has it

    async def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,  # noqa: ASYNC109 (httpx's own signature)
        extensions: Any = None,
    ) -> httpx.Response:
        if (
            data is not None
            or files is not None
            or cookies is not None
            or extensions is not None
            or auth is not httpx.USE_CLIENT_DEFAULT
            or follow_redirects is True
            or type(url) is not str
            or url.startswith("//")
            or "://" in url
            or self.is_closed
            or self.auth is not None
            or self.follow_redirects
            or self.params
            or self.cookies
            or self.event_hooks != _HOOKS
            or self._mounts  # another transport for some URLs (none: a transport given means no proxies)
        ):
            return await super().request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                auth=auth,
                follow_redirects=follow_redirects,
                timeout=timeout,
                extensions=extensions,
            )
        if timeout is httpx.USE_CLIENT_DEFAULT:
            limits = self.timeout
        else:
            limits = timeout if type(timeout) is httpx.Timeout else httpx.Timeout(timeout)
        target = self._url(url.lstrip("/"), params)
        # The client's headers and the call's, merged as httpx's `Headers.update` merges them (a header the call
        # gives replaces the client's, at the end), as raw pairs: httpx copied them into new `Headers` three times
        # and looked each one up again (issue 16).
        pairs = self.headers.raw
        if headers:
            given = httpx.Headers(headers).raw
            replaced = {name.lower() for name, _ in given}
            pairs = [pair for pair in pairs if pair[0].lower() not in replaced] + given
        extensions = {"timeout": limits.as_dict()}
        if content is None and json is None:
            # No body: the request as httpx's `Request` makes it (`_prepare`: the Host header first, an empty
            # POST's length), the request's context after the headers, made at once.
            names = {name.lower() for name, _ in pairs}
            raw: list[Any] = [] if b"host" in names or not target.host else [(b"Host", target.netloc)]
            if method.upper() in ("POST", "PUT", "PATCH") and not names & {b"content-length", b"transfer-encoding"}:
                raw.append((b"Content-Length", b"0"))
            raw += pairs
            raw += _context_headers(lambda name: name.lower().encode() in names, limits.read)
            request = httpx.Request(method, target, headers=raw, stream=httpx.ByteStream(b""), extensions=extensions)
            request.read()
        else:
            request = httpx.Request(method, target, headers=pairs, content=content, json=json, extensions=extensions)
            await _propagate_context(request)
        start = time.perf_counter()
        try:
            response = await self._transport.handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request  # as httpx's `send` names the request a failure belongs to
            raise
        response.request = request
        response.default_encoding = self._default_encoding
        try:
            await _read(response, request)
        except BaseException:
            await response.aclose()
            raise
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        return response

    def _url(self, path: str, params: Any) -> httpx.URL:
        """`path` (and `params`) under the base URL, as `httpx.Request(method, base + path, params=params)` makes
        it. A path and query of characters httpx's URL keeps as they are (no escaping, no dot segments to remove)
        are put under the base as they are: parsing the whole URL again, character by character, was a third of
        building the request (issue 16). Anything else is parsed by httpx."""
        target, mark, given_query = path.partition("?")
        query: str | None = given_query if mark else None
        if params is not None:
            query = str(httpx.QueryParams(params)) if params else None  # httpx's rule: they replace the path's query
        parsed = self._parsed_base
        if (
            parsed is not None
            and len(path) < _PLAIN_LENGTH
            and _PLAIN_PATH.fullmatch(target)
            and "/." not in "/" + target
            and (query is None or (len(query) < _PLAIN_LENGTH and _PLAIN_QUERY.fullmatch(query)))
        ):
            url = httpx.URL.__new__(httpx.URL)
            url._uri_reference = parsed._replace(path=self._base_path + target, query=query)
            return url
        return httpx.URL(self._base + path) if params is None else httpx.URL(self._base + path, params=params)


async def _read(response: httpx.Response, request: httpx.Request) -> None:
    """`response.aread()`: its body, the connection released. A body the aiohttp transport can read at once and
    that needs no decoding (no `Content-Encoding`) is read at once, the response left as `aread` leaves it (read,
    consumed, closed, the count of bytes): httpx's stack of generators, decoder and chunkers around each answer's
    one chunk cost about a tenth of a service call's CPU in the gateway (issue 16)."""
    read_at_once = getattr(response.stream, "read_at_once", None)
    if read_at_once is None or "content-encoding" in response.headers:
        await response.aread()
        return
    response.is_stream_consumed = True
    try:
        body: bytes = await read_at_once()
    except httpx.RequestError as exc:
        exc.request = request  # as httpx's `request_context` around reading names the request
        raise
    response._num_bytes_downloaded = len(body)
    response._content = body
    await response.aclose()


def service_client(
    base_url: str, *, app: Any = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT, limits: httpx.Limits = DEFAULT_LIMITS
) -> ServiceClient:
    """A client for one service: `app` given means in-process (ASGI), otherwise HTTP to `base_url`."""
    if app is not None:
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app)
    else:
        transport = _precise_transport(limits)
    return ServiceClient(
        base_url=base_url,
        transport=TracingTransport(transport),
        timeout=timeout,
        limits=limits,
        event_hooks={"request": [_propagate_context]},
    )


def _precise_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """The aiohttp transport, with its failures named as httpx names them. httpx-aiohttp reports a refused
    connection and a dropped one both as ConnectTimeout, but what a caller may safely do next differs: a
    refused connection never reached the service (any call may be sent again), a dropped one may have (only a
    call that cannot write twice may), a timeout means the service may still be working on it."""
    import aiohttp
    from httpx_aiohttp import AiohttpTransport
    from httpx_aiohttp.transport import AiohttpResponseStream, map_aiohttp_exceptions

    class AiohttpBody(AiohttpResponseStream):
        """httpx-aiohttp's stream of a response's body, which can also be read at once (`_read`)."""

        async def read_at_once(self) -> bytes:
            with map_aiohttp_exceptions():  # a failure named as the stream names it
                return await self._aiohttp_response.content.read()

    class PreciseAiohttpTransport(AiohttpTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            try:
                response = await super().handle_async_request(request)
            except httpx.TransportError as exc:
                cause = exc.__cause__
                if isinstance(cause, aiohttp.ClientConnectorError):
                    raise httpx.ConnectError(str(exc), request=request) from cause
                if isinstance(cause, aiohttp.ServerDisconnectedError):
                    raise httpx.RemoteProtocolError(str(exc) or "server disconnected", request=request) from cause
                if isinstance(cause, aiohttp.ClientOSError):
                    raise httpx.ReadError(str(exc), request=request) from cause
                raise
            if isinstance(response.stream, AiohttpResponseStream):
                response.stream = AiohttpBody(response.stream._aiohttp_response)
            return response

    return PreciseAiohttpTransport(limits=limits, trust_env=False)
