"""The response headers every component adds (sop_shared.response_headers): a service's own answers, errors
included, are never cached or sniffed; the edge adds framing and Referer protections and, over HTTPS only,
HSTS; a response that sets a header itself keeps its own."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Response
from starlette.datastructures import MutableHeaders

from sop_shared.problems import NotFound, install_problem_handlers
from sop_shared.response_headers import (
    AT_THE_EDGE,
    EVERY_RESPONSE,
    HSTS,
    install_head_as_get,
    install_response_headers,
    with_missing,
)


def app_with(**options: bool) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/case")
    async def case() -> dict[str, str]:
        return {"who_is_worried": "Ms. Rivera"}

    @app.get("/page")
    async def page() -> Response:
        return Response("<p>Hola</p>", headers={"Content-Security-Policy": "default-src 'none'"})

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound()

    install_response_headers(app, **options)
    install_head_as_get(app)
    return app


async def get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get(path)


async def test_a_service_answer_and_its_errors_are_never_cached() -> None:
    app = app_with()
    for path, status in (("/case", 200), ("/missing", 404)):
        answer = await get(app, path)
        assert answer.status_code == status
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "x-frame-options" not in answer.headers  # only the edge serves browsers


async def test_the_edge_adds_browser_protections_and_hsts_only_over_https() -> None:
    plain = await get(app_with(edge=True), "/case")
    assert plain.headers["x-frame-options"] == "DENY" and plain.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in plain.headers
    production = await get(app_with(edge=True, https_only=True), "/case")
    assert production.headers["strict-transport-security"].startswith("max-age=")


async def test_a_response_keeps_the_headers_it_set_itself() -> None:
    page = await get(app_with(edge=True), "/page")
    assert page.headers["content-security-policy"] == "default-src 'none'"
    assert page.headers["cache-control"] == "no-store"


async def test_head_answers_as_get_would_without_the_body() -> None:
    app = app_with()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        get = await client.get("/case")
        head = await client.head("/case")
        missing = await client.head("/missing")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] != "0"
    assert head.headers["cache-control"] == "no-store"
    assert missing.status_code == 404 and missing.content == b""


def _as_mutable_headers_did(headers: list[tuple[bytes, bytes]], defaults: dict[str, str]) -> list[tuple[bytes, bytes]]:
    message: dict[str, object] = {"type": "http.response.start", "headers": list(headers)}
    mutable = MutableHeaders(scope=message)
    for name, value in defaults.items():
        if name not in mutable:
            mutable[name] = value
    return mutable.raw


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"content-type", b"application/json")],
        [(b"cache-control", b"max-age=60"), (b"content-length", b"2")],
        [(b"x-frame-options", b"SAMEORIGIN"), (b"content-security-policy", b"default-src 'none'")],
        [(b"Cache-Control", b"private")],  # not ASGI (names are lower case): compared as it is, as before
        [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"referrer-policy", b"same-origin")],
    ],
)
def test_the_headers_added_are_those_mutable_headers_added(headers: list[tuple[bytes, bytes]]) -> None:
    defaults = EVERY_RESPONSE | AT_THE_EDGE | HSTS
    raw = [(name.encode(), value.encode()) for name, value in defaults.items()]
    assert with_missing(headers, raw) == _as_mutable_headers_did(headers, defaults)
