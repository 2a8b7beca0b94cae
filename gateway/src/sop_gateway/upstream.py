"""Calls from the gateway to the services: one pooled client per service, a fresh internal token per call
(audience = that service, scoped to the case), and a per-request count of calls for the one-call rule."""

from __future__ import annotations

import contextvars
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from sop_shared.auth import InternalTokenMinter, Principal
from sop_shared.http_client import service_client
from sop_shared.observability import request_id_var

SERVICES = ("network", "assessment", "plans")

upstream_calls: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar("sop_upstream_calls",
                                                                                      default=None)


class UpstreamError(Exception):
    def __init__(self, service: str, status: int | None, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service, self.status, self.detail = service, status, detail


@dataclass
class ServiceClients:
    minter: InternalTokenMinter
    clients: dict[str, httpx.AsyncClient]

    @classmethod
    def build(cls, minter: InternalTokenMinter, urls: dict[str, str], apps: dict[str, Any] | None,
              timeout: float) -> ServiceClients:
        clients = {}
        for name in SERVICES:
            app = (apps or {}).get(name)
            base = f"http://{name}" if app is not None else urls[name]
            if not base:
                raise ValueError(f"no URL configured for the {name} service")
            clients[name] = service_client(base, app=app, timeout=httpx.Timeout(timeout, connect=2.0))
        return cls(minter, clients)

    async def request(self, service: str, method: str, path: str, principal: Principal, *,
                      params: Any = None, json: Any = None, content: bytes | None = None,
                      headers: dict[str, str] | None = None) -> httpx.Response:
        counter = upstream_calls.get()
        if counter is not None:
            counter[service] += 1
        token = self.minter.mint(principal, audience=service, request_id=request_id_var.get())
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        try:
            return await self.clients[service].request(method, path, params=params, json=json, content=content,
                                                       headers=all_headers)
        except httpx.HTTPError as exc:
            raise UpstreamError(service, None, f"{type(exc).__name__}: unreachable or timed out") from exc

    async def get_json(self, service: str, path: str, principal: Principal, **kwargs: Any) -> Any:
        response = await self.request(service, "GET", path, principal, **kwargs)
        if response.status_code >= 400:
            raise UpstreamError(service, response.status_code, response.text[:300])
        return response.json()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
