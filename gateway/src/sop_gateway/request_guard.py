"""What the gateway refuses before any route runs: who may read `/metrics`, and how `/graphql` may be called.

Pure ASGI, as every other middleware here: Starlette's `BaseHTTPMiddleware` (`@app.middleware("http")`) ran
each request's app in a second task and copied every response through a memory stream, about a quarter of the
gateway's CPU under load (issue 16's profile)."""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sop_gateway.settings import GatewaySettings
from sop_shared.input_policy import replay_body
from sop_shared.problems import NotFound, Problem, problem_response


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "GraphQL requests must be application/json"


class BatchRefused(Problem):
    status, slug, title = 400, "batching-refused", "Send one GraphQL operation per request, not a batch"


class PreflightRequired(Problem):
    status, slug, title = 400, "preflight-required", "A GraphQL query sent with GET needs a preflight header"


# GraphQL over HTTP: a query may be sent with GET (never a mutation: strawberry refuses those), but only with a
# header no HTML form or plain link can set, so a browser must ask first (CORS preflight) — the cross-site
# request forgery protection mature servers use. The clients' own names for it are accepted.
PREFLIGHT_HEADERS = ("graphql-require-preflight", "apollo-require-preflight", "x-apollo-operation-name")
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def may_read_metrics(headers: Headers, settings: GatewaySettings) -> bool:
    """In development anyone; in production only a caller presenting the configured metrics token."""
    if settings.is_development:
        return True
    if settings.metrics_token is None or not settings.metrics_token.get_secret_value():
        return False  # an empty token must not let `Bearer ` in
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    return hmac.compare_digest(headers.get("authorization", "").encode(), expected)


class RequestGuard:
    """Install it innermost (before the input policy): the body it reads has passed the policy's size, nesting
    and text checks already, and is handed on whole to the GraphQL router."""

    def __init__(self, app: ASGIApp, *, settings: GatewaySettings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/metrics" and not may_read_metrics(Headers(scope=scope), self.settings):
            await self._refuse(NotFound(), scope, receive, send)  # as if there were none: nothing to probe
            return
        if path != "/graphql":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal, receive = await self._refusal(scope, headers, receive)
        if refusal is not None:
            await self._refuse(refusal, scope, receive, send)
            return
        if GRAPHQL_RESPONSE_JSON in headers.get("accept", ""):
            send = _answering_as_graphql_response(send)
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope, headers: Headers, receive: Receive) -> tuple[Problem | None, Receive]:
        method = scope["method"]
        if method == "POST":
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":  # no form posts: closes the CSRF door
                return UnsupportedMediaType(), receive
            body = await Request(scope, receive).body()
            if body.lstrip()[:1] == b"[":  # one operation per request: no batches
                return BatchRefused(), receive
            return None, replay_body(body, receive)
        if method == "GET" and "query" in QueryParams(scope.get("query_string", b"")):
            if not any(headers.get(name) for name in PREFLIGHT_HEADERS):
                return PreflightRequired(
                    "Send the query with POST, or add the header `GraphQL-Require-Preflight: 1` to a GET "
                    "(it makes a browser ask before sending: no other site can send it for you)"
                ), receive
        elif method in {"GET", "HEAD"} and not self.settings.is_development:
            # No GraphiQL page outside development: a GET without a query is answered like every other error.
            return NotFound("GET /graphql takes a `query` (and the preflight header)"), receive
        return None, receive

    @staticmethod
    async def _refuse(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
        await problem_response(problem, Request(scope, receive))(scope, receive, send)


def _answering_as_graphql_response(send: Send) -> Send:
    """A client that accepts `application/graphql-response+json` gets its JSON answers labelled so."""

    async def relabelled(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if headers.get("content-type", "").startswith("application/json"):
                headers["content-type"] = GRAPHQL_RESPONSE_JSON + "; charset=utf-8"
        await send(message)

    return relabelled
