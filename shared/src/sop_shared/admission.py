"""How many requests a component works on at once; the rest wait their turn, in the order they came.

Without a limit every request that arrives is started at once and they all share the process's one core (and, for
the gateway, the services behind it): with 64 clients each view took the time of 64 interleaved views, every
upstream call of every view waited behind the others' (a service read queued past its database pool timeout and
the view showed a section as unavailable), and the gateway held 64 answers in memory at once. With a limit the
requests in progress finish as fast as when the component is not busy, the others wait before any work is done
for them (nothing read, nothing called), and a request that has waited `request_queue_timeout_seconds` is
answered 503 problem+json with `Retry-After` — a refusal the client can retry, never a half-answered view. The
probes and `/metrics` never wait.

A caller that says how long it will wait for the answer (`X-SOP-Wait-Limit-Ms`, sent by every service client,
`sop_shared.http_client`, from its read timeout) is never started after that: a read the gateway has given up on
(its upstream timeout, 10 s, is shorter than the queue timeout) is refused where it waits instead of being read,
audited and answered to nobody when its turn comes, which under overload would only lengthen the queue of the
views still waiting. Every component installs it (`install_admission`) with its own settings
(`SOP_<COMPONENT>_MAX_CONCURRENT_REQUESTS`, `SOP_<COMPONENT>_REQUEST_QUEUE_TIMEOUT_SECONDS`).

Pure ASGI, like every middleware here (no `BaseHTTPMiddleware`)."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sop_shared.problems import Problem, problem_response

if TYPE_CHECKING:
    from sop_shared.settings import ComponentSettings

# How long (milliseconds, from when the request was sent) the caller waits for the answer before it gives up.
WAIT_LIMIT_HEADER = "X-SOP-Wait-Limit-Ms"
_WAIT_LIMIT_KEY = WAIT_LIMIT_HEADER.lower().encode("latin-1")

# Probes and scraping answer at once however busy the component is (a probe that waited would restart a busy pod).
NEVER_WAITS = frozenset({"/healthz", "/readyz", "/metrics"})


class Busy(Problem):
    status, slug, title = 503, "busy", "The platform is busy: send the request again shortly"


class Admission:
    """At most `limit` requests in progress (0: no limit); the rest wait, first come first served, for up to
    `queue_timeout_seconds`."""

    def __init__(self, app: ASGIApp, *, limit: int, queue_timeout_seconds: float) -> None:
        self.app, self.limit, self.queue_timeout_seconds = app, limit, queue_timeout_seconds
        self.slots = asyncio.Semaphore(limit) if limit > 0 else None  # asyncio's semaphore wakes waiters in order
        self.waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.slots is None or scope["type"] != "http" or scope["path"] in NEVER_WAITS:
            await self.app(scope, receive, send)
            return
        if self.slots.locked():
            may_wait = min(self.queue_timeout_seconds, _callers_wait_limit(scope))
            if not await self._wait_for_a_slot(scope, may_wait):
                request = Request(scope)
                response = problem_response(
                    Busy(
                        f"{self.waiting + self.limit} requests are ahead of or with this one; it waited {may_wait:g} s"
                    ),
                    request,
                )
                response.headers["Retry-After"] = str(max(1, math.ceil(self.queue_timeout_seconds / 10)))
                await response(scope, receive, send)
                return
        else:
            await self.slots.acquire()
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

    async def _wait_for_a_slot(self, scope: Scope, may_wait: float) -> bool:
        assert self.slots is not None
        metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
        self.waiting += 1
        if metrics is not None:
            metrics.requests_waiting.labels(metrics.component).set(self.waiting)
        try:
            async with asyncio.timeout(may_wait):
                await self.slots.acquire()
            return True
        except TimeoutError:
            if metrics is not None:
                metrics.busy_refusals.labels(metrics.component).inc()
            return False
        finally:
            self.waiting -= 1
            if metrics is not None:
                metrics.requests_waiting.labels(metrics.component).set(self.waiting)


def _callers_wait_limit(scope: Scope) -> float:
    """Seconds the caller waits for this request's answer (`X-SOP-Wait-Limit-Ms`); infinity when it did not say
    or said something that is not a positive whole number of milliseconds."""
    for name, value in scope["headers"]:
        if name == _WAIT_LIMIT_KEY:
            try:
                milliseconds = int(value)
            except ValueError:
                return math.inf
            return milliseconds / 1000 if milliseconds > 0 else math.inf
    return math.inf


def install_admission(app: FastAPI, settings: ComponentSettings) -> None:
    """Outside the input policy (install it after it): a waiting request has not been read yet."""
    app.add_middleware(
        Admission,
        limit=settings.max_concurrent_requests,
        queue_timeout_seconds=settings.request_queue_timeout_seconds,
    )
