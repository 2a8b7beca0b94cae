"""Headers on every response, and HEAD wherever GET is served.

Case data is never kept by a browser, proxy or client cache (`Cache-Control: no-store`) and never sniffed into
another content type (`X-Content-Type-Options: nosniff`); at the public edge (the gateway) pages cannot be
framed or leak their address in a Referer, and in production browsers are told to use HTTPS only (HSTS). A
response that sets one of these itself keeps its own (the family view's page sets its own
Content-Security-Policy)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import Depends, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVERY_RESPONSE = {"cache-control": "no-store", "x-content-type-options": "nosniff"}
AT_THE_EDGE = {
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}
HSTS = {"strict-transport-security": "max-age=63072000; includeSubDomains"}
RawHeader = tuple[bytes, bytes]  # an ASGI header: name (lower case) and value


class ResponseHeaders:
    """Pure ASGI (no body buffering): adds the headers a response does not set itself. The headers are encoded
    once, when the app is built; per response only the names it already has are read."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app, self.headers = app, headers
        self.raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_missing(message.get("headers") or [], self.raw)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_missing(headers: Iterable[RawHeader], defaults: list[RawHeader]) -> list[RawHeader]:
    """A response's raw headers and each of `defaults` (lower-case names) it does not set itself: a raw name is
    compared as it is, as Starlette's `MutableHeaders` compares it (ASGI names are lower case)."""
    headers = list(headers)
    present = {name for name, _ in headers}
    headers.extend(header for header in defaults if header[0] not in present)
    return headers


def install_response_headers(app: Any, *, edge: bool = False, https_only: bool = False) -> None:
    """Install last, so it wraps every other middleware and their own answers get the headers too."""
    headers = dict(EVERY_RESPONSE)
    if edge:
        headers |= AT_THE_EDGE
        if https_only:
            headers |= HSTS
    app.add_middleware(ResponseHeaders, headers=headers)


class HeadAsGet:
    """HEAD wherever GET is served (RFC 9110 §9.3.2): the request is answered as the GET would be — the same
    status and headers, authorization and audit — without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the last part (below) ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def install_head_as_get(app: Any) -> None:
    """Install last (outermost), so every layer sees the request as the GET it stands for."""
    app.add_middleware(HeadAsGet)


@dataclass(frozen=True)
class Deprecated:
    """A route that still answers but is on its way out: `Deprecation` (RFC 9745: since when), `Sunset` (RFC 8594:
    when it stops answering) and a `Link` to its successor (`rel="successor-version"`). Add `dependency` to the
    route's dependencies (and declare it `deprecated=True`, so its OpenAPI document says so); a route that returns
    a `Response` itself marks it with `mark` (FastAPI does not copy a dependency's headers onto it)."""

    successor: str
    since: datetime
    sunset: datetime

    def mark(self, response: Response) -> Response:
        response.headers["Deprecation"] = f"@{int(self.since.timestamp())}"
        response.headers["Sunset"] = format_datetime(self.sunset.astimezone(UTC), usegmt=True)
        response.headers["Link"] = f'<{self.successor}>; rel="successor-version"'
        return response

    @property
    def dependency(self) -> Any:
        async def mark(response: Response) -> None:
            self.mark(response)

        return Depends(mark)
