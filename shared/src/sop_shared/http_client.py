"""The service HTTP client: pooled connections, timeouts, and the request id and trace context passed on.

Over the network it uses the aiohttp transport (httpx-aiohttp) for speed; in embedded mode an ASGI
transport reaches the service app in the same process through the very same code path.
"""

from __future__ import annotations

from typing import Any

import httpx

from sop_shared.observability import (
    CLIENT_REQUEST_ID_HEADER,
    PURPOSE_HEADER,
    REQUEST_ID_HEADER,
    client_request_id_var,
    purpose_var,
    request_id_var,
    traceparent_var,
)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=2.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30)


async def _propagate_context(request: httpx.Request) -> None:
    request_id = request_id_var.get()
    if request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id
    client_request_id = client_request_id_var.get()
    if client_request_id and CLIENT_REQUEST_ID_HEADER not in request.headers:
        request.headers[CLIENT_REQUEST_ID_HEADER] = client_request_id
    purpose = purpose_var.get()
    if purpose and PURPOSE_HEADER not in request.headers:
        request.headers[PURPOSE_HEADER] = purpose
    traceparent = traceparent_var.get()
    if traceparent and "traceparent" not in request.headers:
        request.headers["traceparent"] = traceparent


def service_client(base_url: str, *, app: Any = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                   limits: httpx.Limits = DEFAULT_LIMITS) -> httpx.AsyncClient:
    """A client for one service: `app` given means in-process (ASGI), otherwise HTTP to `base_url`."""
    if app is not None:
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app)
    else:
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits, trust_env=False)
    return httpx.AsyncClient(
        base_url=base_url, transport=transport, timeout=timeout, limits=limits,
        event_hooks={"request": [_propagate_context]},
    )
