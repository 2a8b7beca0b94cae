"""Calls from the gateway to the services: one pooled client per service, a fresh internal token per call
(audience = that service, scoped to the case), and a per-request count of calls for the one-call rule.

No write that a service commits is ever answered here as failed, and no write is stored twice:

- every write carries an `Idempotency-Key`: the client's own when it sent one, otherwise one made here for
  this request, so a repeat of the call (by this gateway or, with the same key, by the client) returns the
  first answer instead of writing again (`sop_shared.idempotency`);
- the gateway waits longer for a write than a service may take to commit it (`upstream_write_timeout_seconds`
  above the services' pool and statement timeouts), so it does not give up on a write that then commits;
- while a service is unreachable (a restart) or answers 503 (busy: nothing was done), a write is repeated
  with the same key for up to `upstream_retry_seconds` (a read for `upstream_read_retry_seconds`); a call that
  may have reached the service is repeated only when repeating it cannot write twice (a read, a keyed create).

A read waits out a restart (a few seconds) rather than show a section as unavailable; once a service has
been unreachable for longer than the read budget (an outage, not a restart), reads try it once and fail at
once, so a view shows the section as unavailable without keeping everyone waiting, until a call gets through.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from sop_gateway.wire_json import read_json
from sop_shared.auth import InternalTokenMinter, Principal
from sop_shared.http_client import service_client
from sop_shared.observability import request_id_var

SERVICES = ("network", "assessment", "plans", "practice")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_KEY = "Idempotency-Key"
# A POST that carries a key is safe to repeat even when the first may have arrived: the service answers a
# repeat with the first response (PUT/PATCH/DELETE are guarded by If-Match instead, whose repeat would be 412).
REPEATABLE_WHEN_UNSURE = frozenset({"GET", "HEAD", "POST"})
MAX_BACKOFF_SECONDS = 1.0

upstream_calls: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar("sop_upstream_calls", default=None)


class UpstreamError(Exception):
    """A service could not be reached or did not answer in time. For a write, `idempotency_key` is the key
    the write was sent with: repeating the request with it returns the write's result if it was stored."""

    def __init__(self, service: str, status: int | None, detail: str, *, idempotency_key: str | None = None) -> None:
        super().__init__(f"{service}: {detail}")
        self.service, self.status, self.detail = service, status, detail
        self.idempotency_key = idempotency_key


@dataclass(frozen=True)
class UpstreamTimeouts:
    """How long the gateway waits for the services (GatewaySettings.upstream_*)."""

    read_seconds: float = 10.0
    write_seconds: float = 45.0
    connect_seconds: float = 2.0
    retry_seconds: float = 20.0
    # Long enough to wait out a restart; during a longer outage reads fail at once (ServiceClients.outages).
    read_retry_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> UpstreamTimeouts:
        return cls(
            read_seconds=settings.upstream_timeout_seconds,
            write_seconds=settings.upstream_write_timeout_seconds,
            connect_seconds=settings.upstream_connect_timeout_seconds,
            retry_seconds=settings.upstream_retry_seconds,
            read_retry_seconds=settings.upstream_read_retry_seconds,
        )


@dataclass
class ServiceClients:
    minter: InternalTokenMinter
    clients: dict[str, httpx.AsyncClient]
    timeouts: UpstreamTimeouts = UpstreamTimeouts()
    # services a call has given up on, unreachable for its whole retry budget (an outage, not a restart):
    # reads try them once, until a call gets through again
    known_outages: set[str] = dataclasses.field(default_factory=set)
    # (the timeouts they were made from, the read's, the write's): made once, not per call (issue 16)
    _httpx_timeouts: tuple[UpstreamTimeouts, httpx.Timeout, httpx.Timeout] | None = dataclasses.field(
        default=None, init=False, repr=False
    )

    @classmethod
    def build(
        cls, minter: InternalTokenMinter, urls: dict[str, str], apps: dict[str, Any] | None, timeouts: UpstreamTimeouts
    ) -> ServiceClients:
        clients: dict[str, httpx.AsyncClient] = {}
        for name in SERVICES:
            app = (apps or {}).get(name)
            base = f"http://{name}" if app is not None else urls[name]
            if not base:
                raise ValueError(f"no URL configured for the {name} service")
            clients[name] = service_client(
                base, app=app, timeout=httpx.Timeout(timeouts.read_seconds, connect=timeouts.connect_seconds)
            )
        if apps:
            # Embedded: the services run in this process and cannot be restarted apart from it.
            timeouts = dataclasses.replace(timeouts, retry_seconds=0, read_retry_seconds=0)
        return cls(minter, clients, timeouts)

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        principal: Principal,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        counter = upstream_calls.get()
        if counter is not None:
            counter[service] += 1  # one call, however many times it had to be repeated
        method = method.upper()
        all_headers = dict(headers or {})
        key = next((v for k, v in all_headers.items() if k.lower() == IDEMPOTENCY_KEY.lower()), None)
        if method in WRITE_METHODS and key is None:
            key = all_headers[IDEMPOTENCY_KEY] = f"gateway-{uuid.uuid4()}"
        write = method in WRITE_METHODS
        timeout = self._httpx_timeout(write)
        give_up_at = time.monotonic() + (self.timeouts.retry_seconds if write else self._read_budget(service))
        backoff = 0.05
        while True:
            token = self.minter.mint(principal, audience=service, request_id=request_id_var.get())
            all_headers["Authorization"] = f"Bearer {token}"
            try:
                response = await self.clients[service].request(
                    method, path, params=params, json=json, content=content, headers=all_headers, timeout=timeout
                )
            except httpx.HTTPError as exc:
                if not _may_repeat(exc, method) or time.monotonic() + backoff > give_up_at:
                    if isinstance(exc, httpx.ConnectError):
                        self.known_outages.add(service)  # unreachable for as long as this call could wait
                    raise UpstreamError(
                        service,
                        None,
                        f"{type(exc).__name__}: unreachable or timed out",
                        idempotency_key=key if method == "POST" else None,
                    ) from exc
            else:
                self.known_outages.discard(service)
                # 503 from a service: busy (pool or statement timeout), rolled back, nothing done.
                if response.status_code != 503 or time.monotonic() + backoff > give_up_at:
                    return response
                backoff = max(backoff, min(_retry_after(response), MAX_BACKOFF_SECONDS))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _httpx_timeout(self, write: bool) -> httpx.Timeout:
        made = self._httpx_timeouts
        if made is None or made[0] is not self.timeouts:
            connect = self.timeouts.connect_seconds
            made = self._httpx_timeouts = (
                self.timeouts,
                httpx.Timeout(self.timeouts.read_seconds, connect=connect),
                httpx.Timeout(self.timeouts.write_seconds, connect=connect),
            )
        return made[2] if write else made[1]

    def _read_budget(self, service: str) -> float:
        """How long a read may keep trying: the whole budget, unless a call has already waited that long for
        the service in vain (an outage: one try, then the section is unavailable at once)."""
        return 0.0 if service in self.known_outages else self.timeouts.read_retry_seconds

    async def get_json(self, service: str, path: str, principal: Principal, **kwargs: Any) -> Any:
        response = await self.request(service, "GET", path, principal, **kwargs)
        if response.status_code >= 400:
            raise UpstreamError(service, response.status_code, response.text[:300])
        return read_json(response)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def _may_repeat(exc: httpx.HTTPError, method: str) -> bool:
    """Whether a failed call may be sent again. A refused connection never reached the service. A timeout is
    not repeated: the service may still be working on it, and a second call would only add to the load that
    made it slow (the write timeout is set so that it does not happen). Anything else (the connection dropped,
    e.g. by a service shutting down) may have reached it, so only calls that cannot write twice are repeated."""
    if isinstance(exc, httpx.ConnectError):
        return True
    if isinstance(exc, httpx.TimeoutException):
        return False
    return method in REPEATABLE_WHEN_UNSURE


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "0")))
    except ValueError:
        return 0.0
